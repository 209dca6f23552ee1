// Review finding R-E: a reshare meant to expel a compromised member must actually expel it. The
// vault destroys a version's secret when its successor is activated (or when the node leaves the
// committee), so an old share stolen from the expelled member finds no retired share to sign with.
import { describe, expect, it } from 'vitest';
import { ShareDestroyedError } from '../../src/common/errors.js';
import { ecdsa } from '../../src/tss/index.js';
import { Vault } from '../../src/vault/index.js';
import { ecdsaDkg, ecdsaReshare, ecdsaSign, names } from '../helpers/protocol-runs.js';
import { FAST_ARGON2, password, tempDir } from '../helpers/vault.js';
import { clone, nobleVerifies, sha256 } from '../tss/ecdsa/protocol-helpers.js';

/** Tries to sign `digest` with n1's share read from its vault at `version` and the attacker's stolen share. */
function trySign(
  vault: Vault,
  version: number,
  stolen: Uint8Array,
  n1: string,
  n3: string,
  digest: Uint8Array,
  groupKey: Uint8Array,
): { signed: boolean; error: unknown } {
  let n1Share: ecdsa.KeyShare;
  try {
    const stored = vault.getShare('ecdsa', 'w', version);
    n1Share = ecdsa.KeyShare.deserialize(stored.share);
    stored.share.fill(0);
  } catch (e) {
    return { signed: false, error: e };
  }
  const shares = new Map([
    [n1, n1Share],
    [n3, ecdsa.KeyShare.deserialize(stolen)],
  ]);
  const sig = ecdsaSign(shares, [n1, n3], digest, { seed: 'reshare-expels-sign' });
  return { signed: nobleVerifies(sig.signature, digest, groupKey), error: undefined };
}

describe('a reshare expels [5/R-E]', () => {
  it("after a reshare is activated, the expelled member's stolen old share plus this node's retired version cannot sign", async () => {
    const [n1, n2, n3, n4] = names(4) as [string, string, string, string];
    const v1 = ecdsaDkg([n1, n2, n3], 1, { seed: 'reshare-expels' });
    const stolenN3 = v1.get(n3)!.serialize(); // the attacker copies n3's share before the reshare
    const groupKey = v1.get(n1)!.groupPublicKey;
    const digest = sha256(new TextEncoder().encode('drain the wallet'));
    const dir = tempDir();
    const vault = await Vault.create(dir, password('pw-n1'), { argon2: FAST_ARGON2 });
    try {
      const s1 = v1.get(n1)!;
      vault.putShare({
        keyType: 'ecdsa',
        walletId: 'w',
        version: 1,
        threshold: 1,
        participants: [...s1.participants],
        publicKey: groupKey,
        share: s1.serialize(),
        activate: true,
      });
      // Sanity: before the reshare, n1's v1 plus n3's v1 do sign (2-of-3): the check below is meaningful.
      expect(trySign(vault, 1, stolenN3, n1, n3, digest, groupKey).signed).toBe(true);
      // Reshare {n1,n2,n3} → {n1,n2,n4} to expel n3; v2 pending, then activated.
      const v2 = ecdsaReshare(clone(v1), [n1, n2], [n1, n2, n4], 1, { seed: 'reshare-expels-rs' });
      const s1v2 = v2.get(n1)!;
      vault.putShare({
        keyType: 'ecdsa',
        walletId: 'w',
        version: 2,
        threshold: 1,
        participants: [...s1v2.participants],
        publicKey: s1v2.groupPublicKey,
        share: s1v2.serialize(),
      });
      vault.activate('ecdsa', 'w', 2);
      // Later the attacker compromises n1 (its vault and password): v1's secret is gone.
      vault.close();
      const reopened = await Vault.open(dir, password('pw-n1'));
      try {
        const attempt = trySign(reopened, 1, stolenN3, n1, n3, digest, groupKey);
        expect(attempt.signed, 'expelled member + a retired share produced a valid signature').toBe(false);
        expect(attempt.error).toBeInstanceOf(ShareDestroyedError);
        expect((attempt.error as Error).message).toContain('version 2 was activated');
        // the public metadata of v1 stays
        expect(reopened.listVersions('ecdsa', 'w').map((s) => [s.version, s.status])).toEqual([
          [1, 'retired'],
          [2, 'active'],
        ]);
      } finally {
        reopened.close();
      }
    } finally {
      vault.close();
    }
  });
});
