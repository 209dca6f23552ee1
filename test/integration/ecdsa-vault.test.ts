// The node's storage rules for DKLs23 shares, exercised with real vaults (docs/ecdsa.md, "What the
// node must do"): the signing context is claimed in the vault before the first message, and the
// share (its OT counters) is written back with `updateShare` before any message leaves; setup
// parties claim their contexts in the vault's node-wide setup log.
import { describe, expect, it } from 'vitest';
import { checkpointed, ecdsa, SetupContextReusedError, SigningContextReusedError } from '../../src/tss/index.js';
import { runParties, seededRng } from '../../src/tss/testing.js';
import { Vault } from '../../src/vault/index.js';
import { ecdsaDkg, names } from '../helpers/protocol-runs.js';
import { FAST_ARGON2, password, tempDir } from '../helpers/vault.js';
import { nobleVerifies, sha256 } from '../tss/ecdsa/protocol-helpers.js';

const WALLET = 'btc-treasury';

async function nodes(ps: string[]): Promise<Map<string, { dir: string; vault: Vault }>> {
  const shares = ecdsaDkg(ps, 1, { seed: 'vault-integration' });
  const out = new Map<string, { dir: string; vault: Vault }>();
  for (const p of ps) {
    const dir = tempDir();
    const vault = await Vault.create(dir, password(`pw-${p}`), { argon2: FAST_ARGON2 });
    const ks = shares.get(p)!;
    vault.putShare({
      keyType: 'ecdsa',
      walletId: WALLET,
      version: 1,
      threshold: ks.threshold,
      participants: [...ks.participants],
      publicKey: ks.groupPublicKey,
      share: ks.serialize(),
      activate: true,
    });
    ks.dispose();
    out.set(p, { dir, vault });
  }
  return out;
}

function signWithVaults(
  vaults: Map<string, { vault: Vault }>,
  signers: string[],
  sessionId: string,
  digest: Uint8Array,
  seed: string,
) {
  const parties = signers.map((self) => {
    const { vault } = vaults.get(self)!;
    const stored = vault.getShare('ecdsa', WALLET);
    const keyShare = ecdsa.KeyShare.deserialize(stored.share);
    stored.share.fill(0);
    const inner = new ecdsa.SignParty({
      sessionId,
      self,
      signers,
      keyShare,
      digest,
      signingLog: { claim: (c) => vault.claimSigningContext('ecdsa', WALLET, stored.version, c) },
      rng: seededRng(`${seed}/${self}`),
    });
    // the node's rule: the share is on disk before any message of a step leaves
    let seq = stored.seq; // compare-and-swap: a stale copy of this process could not overwrite newer counters
    return checkpointed(
      inner,
      ecdsa.shareCheckpoint(keyShare, (bytes) => {
        seq = vault.updateShare('ecdsa', WALLET, stored.version, bytes, { expectSeq: seq }).seq;
      }),
    );
  });
  return runParties(parties, { rng: seededRng(`${seed}/order`) });
}

describe('DKLs23 shares kept in the vault', () => {
  it('signing with shares loaded from and written back to the vault keeps working across many signatures and a restart of every node', async () => {
    const ps = names(3);
    const vs = await nodes(ps);
    const pk = vs.get(ps[0]!)!.vault.getWallet('ecdsa', WALLET).publicKey;
    let staleP1: Uint8Array | undefined;
    for (let i = 0; i < 4; i++) {
      if (i === 2) staleP1 = vs.get(ps[1]!)!.vault.getShare('ecdsa', WALLET).share;
      const digest = sha256(Uint8Array.of(i));
      const signers = i % 2 === 0 ? [ps[0]!, ps[1]!] : [ps[2]!, ps[0]!];
      const rep = signWithVaults(vs, signers, `tx-${i}`, digest, `s${i}`);
      expect(rep.aborts.size + rep.crashes.size + rep.stalled.length).toBe(0);
      expect(nobleVerifies(rep.results.get(signers[0]!)!.signature, digest, pk)).toBe(true);
    }
    // The vault holds the moved-on state: p1's share as it was before signature 2 is refused by p0
    // (its used OT indices were written back), i.e. the write-back happened and a rollback is caught.
    const stale = ecdsa.KeyShare.deserialize(staleP1!);
    const current = ecdsa.KeyShare.deserialize(vs.get(ps[0]!)!.vault.getShare('ecdsa', WALLET).share);
    const rolledBack = runParties(
      [ps[0]!, ps[1]!].map(
        (self) =>
          new ecdsa.SignParty({
            sessionId: 'tx-rollback',
            self,
            signers: [ps[0]!, ps[1]!],
            keyShare: self === ps[1] ? stale : current,
            digest: sha256(Uint8Array.of(42)),
            signingLog: { claim: () => true },
            rng: seededRng(self),
          }),
      ),
      { rng: seededRng('rb') },
    );
    expect(rolledBack.results.size).toBe(0);
    expect(rolledBack.crashes.size).toBe(0);
    expect(rolledBack.aborts.get(ps[0]!)?.blame).toEqual([ps[1]]);
    for (const [p, n] of vs) {
      n.vault.close();
      n.vault = await Vault.open(n.dir, password(`pw-${p}`));
      // per signature a signer records its context and the markers of its two secret-dependent steps
      expect(n.vault.signingLogSize('ecdsa', WALLET, 1)).toBe(3 * (p === ps[0] ? 4 : 2));
    }
    const digest = sha256(Uint8Array.of(99));
    const rep = signWithVaults(vs, [ps[1]!, ps[0]!], 'tx-after-restart', digest, 'after');
    expect(rep.results.size).toBe(2);
    expect(nobleVerifies(rep.results.get(ps[0]!)!.signature, digest, pk)).toBe(true);
    for (const n of vs.values()) n.vault.close();
  });

  it('a signing context started before a restart is refused after it, by the vault-backed log, before any message', async () => {
    const ps = names(3);
    const vs = await nodes(ps);
    const digest = sha256(Uint8Array.of(7));
    expect(signWithVaults(vs, [ps[0]!, ps[1]!], 'tx-7', digest, 'first').results.size).toBe(2);
    const n0 = vs.get(ps[0]!)!;
    n0.vault.close();
    n0.vault = await Vault.open(n0.dir, password(`pw-${ps[0]}`));
    const again = signWithVaults(vs, [ps[0]!, ps[1]!], 'tx-7', digest, 'resumed-snapshot');
    expect(again.aborts.get(ps[0]!)).toBeInstanceOf(SigningContextReusedError);
    expect(again.aborts.get(ps[1]!)).toBeInstanceOf(SigningContextReusedError);
    expect(again.results.size).toBe(0);
    // a new session id for the same digest is a new context and signs
    expect(signWithVaults(vs, [ps[0]!, ps[1]!], 'tx-7-retry', digest, 'retry').results.size).toBe(2);
    for (const n of vs.values()) n.vault.close();
  });

  it('an OT re-setup started before a restart is refused after it by the vault-backed setup log, and a new session id runs and signs', async () => {
    const ps = names(3);
    const vs = await nodes(ps);
    const members = [ps[0]!, ps[1]!];
    const resetup = (sessionId: string, seed: string) => {
      const shares = new Map<string, ecdsa.KeyShare>();
      const parties = members.map((self) => {
        const { vault } = vs.get(self)!;
        const stored = vault.getShare('ecdsa', WALLET);
        const keyShare = ecdsa.KeyShare.deserialize(stored.share);
        stored.share.fill(0);
        shares.set(self, keyShare);
        return new ecdsa.OtResetupParty({
          sessionId,
          self,
          members,
          keyShare,
          setupLog: { claim: (c) => vault.claimSetupContext(c) },
          rng: seededRng(`${seed}/${self}`),
        });
      });
      const rep = runParties(parties, { rng: seededRng(`${seed}/order`) });
      for (const [self, ks] of shares)
        if (rep.results.has(self)) vs.get(self)!.vault.updateShare('ecdsa', WALLET, 1, ks.serialize());
      return rep;
    };
    // Node 0 starts re-setup 1 (its context is claimed, its first flight drawn) and stops before any peer answered.
    const n0 = vs.get(ps[0]!)!;
    const stored = n0.vault.getShare('ecdsa', WALLET);
    const interrupted = new ecdsa.OtResetupParty({
      sessionId: 'resetup-1',
      self: ps[0]!,
      members,
      keyShare: ecdsa.KeyShare.deserialize(stored.share),
      setupLog: { claim: (c) => n0.vault.claimSetupContext(c) },
    });
    expect(interrupted.start()).toHaveLength(1);
    expect(n0.vault.setupLogSize()).toBe(1);
    n0.vault.close();
    n0.vault = await Vault.open(n0.dir, password(`pw-${ps[0]}`));
    const again = resetup('resetup-1', 'after-restart');
    expect(again.aborts.get(ps[0]!)).toBeInstanceOf(SetupContextReusedError);
    expect(again.results.size).toBe(0);
    expect(resetup('resetup-2', 'retry').results.size).toBe(2);
    expect(n0.vault.setupLogSize()).toBe(1 + 5); // the interrupted context; the new context and its steps 2–5
    expect(signWithVaults(vs, members, 'tx-after-resetup', sha256(Uint8Array.of(8)), 'after').results.size).toBe(2);
    for (const n of vs.values()) n.vault.close();
  });
});
