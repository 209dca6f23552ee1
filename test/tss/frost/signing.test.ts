import { describe, expect, it } from 'vitest';
import { FrostDkgParty } from '../../../src/tss/frost/dkg.js';
import { decodeKeyPublic, FrostKeyShare } from '../../../src/tss/frost/key-share.js';
import { FrostReshareParty } from '../../../src/tss/frost/reshare.js';
import { FrostSignParty } from '../../../src/tss/frost/sign.js';
import { aggregate, commit, prepareSigning, signShare } from '../../../src/tss/frost/signing-core.js';
import { ed25519Suite } from '../../../src/tss/frost/suite.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { lagrangeCoefficient } from '../../../src/tss/math/polynomial.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { frostDkg, frostSign, names, subsets } from '../../helpers/protocol-runs.js';
import { verifiesEverywhere } from './helpers.js';

const msg = new TextEncoder().encode('transfer 1 SOL to alice');

describe('FROST DKG and signing', () => {
  for (const [n, t] of [
    [3, 1],
    [5, 2],
  ] as const) {
    it(`every (t+1)-subset of a ${t + 1}-of-${n} key produces a signature that noble and node:crypto verify`, () => {
      const parts = names(n);
      const shares = frostDkg(parts, t, { seed: `subsets-${n}` });
      const pk = shares.get(parts[0]!)!.groupPublicKey;
      for (const s of shares.values()) expect(Buffer.from(s.groupPublicKey).equals(Buffer.from(pk))).toBe(true);
      for (const signers of subsets(parts, t + 1)) {
        const res = frostSign(shares, signers, msg, { seed: signers.join('+') });
        expect(res.signature).toHaveLength(64);
        expect(Buffer.from(res.publicKey).equals(Buffer.from(pk))).toBe(true);
        expect(verifiesEverywhere(res.signature, msg, pk)).toBe(true);
        expect(verifiesEverywhere(res.signature, new TextEncoder().encode('transfer 2 SOL to alice'), pk)).toBe(false);
      }
    });
  }

  it('more than t+1 signers (all n) also produce a valid signature', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'all5' });
    const res = frostSign(shares, parts, msg);
    expect(verifiesEverywhere(res.signature, msg, shares.get(parts[0]!)!.groupPublicKey)).toBe(true);
  });

  it('t parties cannot sign: a signing set smaller than t+1 is refused', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'tooFew' });
    expect(
      () =>
        new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: parts[0]!,
          signers: parts.slice(0, 2),
          keyShare: shares.get(parts[0]!)!,
          message: msg,
        }),
    ).toThrow(/at least t\+1/);
  });

  it('t signers cannot produce a signature even when running the signing equations directly', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'tOnly' });
    const g = getGroup('ed25519', 'fast');
    const suite = ed25519Suite(g);
    const dec = decodeKeyPublic(shares.get(parts[0]!)!.public, g);
    for (const set of subsets(parts, 2)) {
      const commits = set.map((p) => ({ p, ...commit(suite, shares.get(p)!.secretScalar(g), seededRng(`t-${p}`)) }));
      const pkg = prepareSigning(
        suite,
        dec.groupPublicKey,
        commits.map((c) => ({ identifier: dec.identifiers.get(c.p)!, hiding: c.hiding, binding: c.binding })),
        msg,
      );
      const zs = commits.map((c) =>
        signShare(suite, pkg, dec.identifiers.get(c.p)!, shares.get(c.p)!.secretScalar(g), c.nonces),
      );
      const sig = aggregate(suite, pkg, zs);
      expect(verifiesEverywhere(sig, msg, shares.get(parts[0]!)!.groupPublicKey)).toBe(false);
    }
  });

  it('a key package claiming a lower threshold is refused, so t parties cannot be talked into signing', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'lowT' });
    const s = shares.get(parts[0]!)!;
    const g = getGroup('ed25519');
    expect(() =>
      FrostKeyShare.create({ ...s.public, threshold: 1 }, parts[0]!, g.encodeScalar(s.secretScalar(g))),
    ).toThrow(/verifying shares/);
  });

  it('t shares do not determine the key: interpolating any t verifying shares misses the group key, any t+1 hit it', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'forge' });
    const key = shares.get(parts[0]!)!;
    const g = getGroup('ed25519', 'noble');
    const dec = decodeKeyPublic(key.public, g);
    const at0 = (set: string[]) => {
      const xs = set.map((p) => dec.identifiers.get(p)!);
      return g.multiMul(
        set.map((p) => dec.verifyingShares.get(p)!),
        xs.map((x) => lagrangeCoefficient(g, xs, x)),
      );
    };
    for (const set of subsets(parts, 2)) expect(g.equals(at0(set), dec.groupPublicKey)).toBe(false);
    for (const set of subsets(parts, 3)) expect(g.equals(at0(set), dec.groupPublicKey)).toBe(true);
  });

  it('the message is signed byte-exactly, including leading zero bytes (unlike mpcium/tss-lib)', () => {
    const parts = names(3);
    const shares = frostDkg(parts, 1, { seed: 'zeros' });
    const m = Uint8Array.of(0, 0, 1, 2, 3);
    const res = frostSign(shares, parts.slice(0, 2), m);
    const pk = shares.get(parts[0]!)!.groupPublicKey;
    expect(verifiesEverywhere(res.signature, m, pk)).toBe(true);
    expect(verifiesEverywhere(res.signature, m.subarray(2), pk)).toBe(false);
  });

  it('signers that disagree on the message abort with blame on the other side, and no signature is returned', () => {
    const parts = names(3);
    const shares = frostDkg(parts, 1, { seed: 'disagree' });
    const signers = parts.slice(0, 2);
    const parties = signers.map(
      (self, i) =>
        new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 'd',
          self,
          signers,
          keyShare: shares.get(self)!,
          message: i === 0 ? msg : Uint8Array.of(1),
          rng: seededRng(self),
        }),
    );
    const rep = runParties(parties, { rng: seededRng('o') });
    expect(rep.results.size).toBe(0);
    expect(rep.aborts.get(signers[0]!)?.blame).toEqual([signers[1]]);
    expect(rep.aborts.get(signers[1]!)?.blame).toEqual([signers[0]]);
    expect(rep.aborts.get(signers[0]!)?.reason).toMatch(/context mismatch/);
  });
});

describe('committees are sets: the order each party lists them in does not matter', () => {
  it('a DKG and a reshare where every party lists the committee in its own order agree on one key', () => {
    const parts = names(3);
    const orders = [parts, [...parts].reverse(), [parts[1]!, parts[2]!, parts[0]!]];
    const rep = runParties(
      parts.map(
        (self, i) =>
          new FrostDkgParty({
            sessionId: 'ord-dkg',
            self,
            participants: orders[i]!,
            threshold: 1,
            rng: seededRng(self),
          }),
      ),
      { rng: seededRng('o') },
    );
    expect(rep.results.size).toBe(3);
    const shares = rep.results;
    const pks = new Set([...shares.values()].map((s) => Buffer.from(s.groupPublicKey).toString('hex')));
    expect(pks.size).toBe(1);
    const newC = ['z-1', 'z-2', parts[0]!];
    const union = [parts[1]!, parts[2]!, 'z-1', 'z-2', parts[0]!];
    const rs = runParties(
      union.map(
        (self, i) =>
          new FrostReshareParty({
            sessionId: 'ord-rs',
            self,
            dealers: i % 2 ? [parts[1]!, parts[2]!] : [parts[2]!, parts[1]!],
            newParticipants: i % 2 ? newC : [...newC].reverse(),
            newThreshold: 1,
            oldPublic: shares.get(parts[1]!)!.public,
            keyShare: shares.get(self),
            rng: seededRng(self),
          }),
      ),
      { rng: seededRng('r') },
    );
    expect(rs.results.size).toBe(5);
    for (const r of rs.results.values()) expect(Buffer.from(r.public.groupPublicKey).toString('hex')).toBe([...pks][0]);
  });

  it('signers that list the signing set in different orders still agree and sign', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'order' });
    const views = [
      [parts[4]!, parts[0]!, parts[2]!],
      [parts[0]!, parts[2]!, parts[4]!],
      [parts[2]!, parts[4]!, parts[0]!],
    ];
    const signers = [parts[4]!, parts[0]!, parts[2]!];
    const ps = signers.map(
      (self, i) =>
        new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 'ord',
          self,
          signers: views[i]!,
          keyShare: shares.get(self)!,
          message: msg,
          rng: seededRng(self),
        }),
    );
    const rep = runParties(ps, { rng: seededRng('ord') });
    expect(rep.results.size).toBe(3);
    expect(
      verifiesEverywhere(rep.results.get(signers[0]!)!.signature, msg, shares.get(parts[0]!)!.groupPublicKey),
    ).toBe(true);
  });
});
