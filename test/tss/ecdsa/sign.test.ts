import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import { deriveEcdsaChildPublicKey } from '../../../src/tss/ecdsa/hd.js';
import { EcdsaKeyShare, ecdsaIdentifiers } from '../../../src/tss/ecdsa/key-share.js';
import { EcdsaSignParty } from '../../../src/tss/ecdsa/sign.js';
import { mod } from '../../../src/tss/group/group.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { lagrangeCoefficient } from '../../../src/tss/math/polynomial.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, ecdsaSign, ecdsaSignRun, names, subsets } from '../../helpers/protocol-runs.js';
import { clone, nobleVerifies, nodeVerifies, sha256 } from './protocol-helpers.js';

const Q = secp256k1.Point.Fn.ORDER;
const P3 = names(3);
const P5 = names(5);
const keys3 = ecdsaDkg(P3, 1, { seed: 'k3' });
const keys5 = ecdsaDkg(P5, 2, { seed: 'k5' });

function recovers(sig: Uint8Array, recid: number, digest: Uint8Array, pk: Uint8Array): boolean {
  const S = secp256k1.Signature.fromBytes(sig, 'compact').addRecoveryBit(recid);
  return Buffer.from(S.recoverPublicKey(digest).toBytes(true)).equals(Buffer.from(pk));
}

describe('DKG', () => {
  it('every member of 2-of-3 and 3-of-5 ends with the same public package and a share matching its public share', () => {
    for (const keys of [keys3, keys5]) {
      const pub = [...keys.values()].map((k) => Buffer.from(k.groupPublicKey).toString('hex'));
      expect(new Set(pub).size).toBe(1);
      const g = getGroup('secp256k1');
      for (const k of keys.values()) {
        expect(g.encodePoint(g.baseMul(k.secretScalar()))).toEqual(k.public.publicShares.get(k.self));
        expect(k.burntPeers()).toEqual([]);
        expect(k.version).toBe(1);
      }
    }
  });

  it('any t+1 shares interpolate to the group secret, any t do not (t parties cannot sign)', () => {
    const g = getGroup('secp256k1');
    const ids = ecdsaIdentifiers(g, P5);
    const pk = keys5.get(P5[0]!)!.groupPublicKey;
    const combine = (set: string[]) => {
      const xs = set.map((p) => ids.get(p)!);
      let s = 0n;
      for (const p of set) s = mod(s + lagrangeCoefficient(g, xs, ids.get(p)!) * keys5.get(p)!.secretScalar(), Q);
      return g.encodePoint(g.baseMul(s));
    };
    for (const set of subsets(P5, 3)) expect(combine(set)).toEqual(pk);
    for (const set of subsets(P5, 2)) expect(combine(set)).not.toEqual(pk);
    expect(
      () =>
        new EcdsaSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: P5[0]!,
          signers: P5.slice(0, 2),
          keyShare: keys5.get(P5[0]!)!,
          digest: new Uint8Array(32),
        }),
    ).toThrow(InvalidArgumentError);
  });

  it('mpcium public key form is 64-byte X ‖ Y of the group key', () => {
    const k = keys3.get(P3[0]!)!;
    expect(k.groupPublicKeyXY).toEqual(secp256k1.Point.fromBytes(k.groupPublicKey).toBytes(false).subarray(1));
  });
});

describe('signing', () => {
  const msg = new TextEncoder().encode('pay 1 BTC to tessera');
  const digest = sha256(msg);

  for (const [label, keys, P, t] of [
    ['2-of-3', keys3, P3, 1],
    ['3-of-5', keys5, P5, 2],
  ] as const) {
    it(`every (t+1)-subset of ${label} signs; the signature verifies with noble and node:crypto, s is low, (r, s, recid) recovers the group key`, () => {
      const pk = keys.get(P[0]!)!.groupPublicKey;
      for (const set of subsets([...P], t + 1)) {
        const res = ecdsaSign(keys, set, digest, { seed: `${label}/${set.join(',')}` });
        expect(res.publicKey).toEqual(pk);
        expect(nobleVerifies(res.signature, digest, pk)).toBe(true);
        expect(nodeVerifies(res.signature, msg, pk)).toBe(true);
        const s = BigInt(`0x${Buffer.from(res.s).toString('hex')}`);
        expect(s > 0n && s <= Q >> 1n).toBe(true);
        expect([0, 1]).toContain(res.recoveryId);
        expect(recovers(res.signature, res.recoveryId, digest, pk)).toBe(true);
      }
    });
  }

  it('more than t+1 signers (all of 2-of-3) sign too', () => {
    const pk = keys3.get(P3[0]!)!.groupPublicKey;
    const res = ecdsaSign(keys3, P3, digest, { seed: 'all3' });
    expect(nobleVerifies(res.signature, digest, pk)).toBe(true);
  });

  it('signatures over random digests verify (fast-check), across many sessions with the same OT state', () => {
    const pk = keys3.get(P3[0]!)!.groupPublicKey;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(...subsets(P3, 2)),
        fc.nat(),
        (d, set, n) => {
          const res = ecdsaSign(keys3, set, d, { seed: `rand-${n}` });
          expect(nobleVerifies(res.signature, d, pk)).toBe(true);
          expect(recovers(res.signature, res.recoveryId, d, pk)).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('a share persisted after signing and reloaded keeps signing (OT indices advance, never reuse)', () => {
    const ks = clone(keys3);
    ecdsaSign(ks, ['node-1', 'node-2'], digest, { seed: 'p1' });
    const reloaded = clone(ks);
    const res = ecdsaSign(reloaded, ['node-1', 'node-2'], digest, { seed: 'p2' });
    expect(nobleVerifies(res.signature, digest, ks.get('node-1')!.groupPublicKey)).toBe(true);
  });

  it('a share rolled back to an older OT state is refused by its peer (index reuse), and the pair is burnt', () => {
    const ks = clone(keys3);
    const old = ks.get('node-2')!.serialize();
    ecdsaSign(ks, ['node-1', 'node-2'], digest, { seed: 'rb1' });
    const rolled = new Map(ks);
    rolled.set('node-2', EcdsaKeyShare.deserialize(old));
    const rep = ecdsaSignRun(rolled, ['node-1', 'node-2'], digest, { seed: 'rb2' });
    expect(rep.results.size).toBe(0);
    expect(rep.aborts.get('node-1')?.blame).toEqual(['node-2']);
    expect(rolled.get('node-1')!.burntPeers()).toEqual(['node-2']);
  });

  it('HD: child public keys agree with @scure/bip32 on random non-hardened paths, and derived signatures verify under the child key only', () => {
    const master = keys3.get(P3[0]!)!.groupPublicKey;
    const chainCode = sha256(new TextEncoder().encode('cluster chain code'));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 0, maxLength: 4 }), (path) => {
        let hd = new HDKey({ publicKey: master, chainCode });
        for (const i of path) hd = hd.deriveChild(i);
        expect(deriveEcdsaChildPublicKey(master, chainCode, path)).toEqual(hd.publicKey);
      }),
      { numRuns: 30 },
    );
    const path = [44, 0, 7];
    const child = deriveEcdsaChildPublicKey(master, chainCode, path);
    const res = ecdsaSign(keys3, ['node-3', 'node-1'], digest, { seed: 'hd', derivation: { chainCode, path } });
    expect(res.publicKey).toEqual(child);
    expect(nobleVerifies(res.signature, digest, child)).toBe(true);
    expect(nobleVerifies(res.signature, digest, master)).toBe(false);
    expect(recovers(res.signature, res.recoveryId, digest, child)).toBe(true);
  });

  it('hedged nonces: an RNG replaying the same stream (e.g. a restored VM snapshot) does not repeat r across digests or sessions', () => {
    const ks = clone(keys3);
    const signers = ['node-1', 'node-2'];
    const rs = new Set<string>();
    for (const [sid, d] of [
      ['stuck-1', digest],
      ['stuck-2', digest],
      ['stuck-3', sha256(digest)],
    ] as const) {
      const parties = signers.map(
        (self) =>
          new EcdsaSignParty({
            signingLog: new MemorySigningLog(),
            sessionId: sid,
            self,
            signers,
            keyShare: ks.get(self)!,
            digest: d,
            rng: seededRng(`replayed-stream/${self}`),
          }),
      );
      const rep = runParties(parties, { rng: seededRng(sid) });
      expect(rep.results.size).toBe(2);
      const res = rep.results.get('node-1')!;
      expect(nobleVerifies(res.signature, d, ks.get('node-1')!.groupPublicKey)).toBe(true);
      rs.add(Buffer.from(res.r).toString('hex'));
    }
    expect(rs.size).toBe(3);
  });

  it('inputs are validated before anything is sent', () => {
    const k = keys3.get('node-1')!;
    const mk = (o: Partial<ConstructorParameters<typeof EcdsaSignParty>[0]>) => () =>
      new EcdsaSignParty({
        signingLog: new MemorySigningLog(),
        sessionId: 's',
        self: 'node-1',
        signers: ['node-1', 'node-2'],
        keyShare: k,
        digest: new Uint8Array(32),
        rng: seededRng('x'),
        ...o,
      });
    expect(mk({ digest: new Uint8Array(31) })).toThrow(InvalidArgumentError);
    expect(mk({ signers: ['node-1', 'stranger'] })).toThrow(InvalidArgumentError);
    expect(mk({ self: 'node-2' })).toThrow(InvalidArgumentError);
    expect(mk({ derivation: { chainCode: new Uint8Array(32), path: [0x80000000] } })).toThrow(InvalidArgumentError);
    const d = clone(keys3).get('node-1')!;
    d.dispose();
    expect(mk({ keyShare: d })).toThrow(InvalidStateError);
  });
});
