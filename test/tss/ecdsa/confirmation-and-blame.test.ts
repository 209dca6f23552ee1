// Regression tests for the third review's findings on the DKG, reshare and echo handling
// (docs/ecdsa.md, "Third review"): a withheld or wrong confirmation no longer destroys an honest
// party's validated share, colluding echoers cannot make an honest sender the only one
// blamed, and a rushing dealer that shapes a degenerate package is named.
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src/common/bytes.js';
import { EcdsaDkgParty } from '../../../src/tss/ecdsa/dkg.js';
import {
  EcdsaKeyShare,
  ecdsaIdentifiers,
  ecdsaKeyPublicDigest,
  ecdsaLagrange,
} from '../../../src/tss/ecdsa/key-share.js';
import { EcdsaReshareParty, ecdsaReshareContext } from '../../../src/tss/ecdsa/reshare.js';
import { mod } from '../../../src/tss/group/group.js';
import { getGroup, type Point } from '../../../src/tss/group/index.js';
import { evalCommitment, invert } from '../../../src/tss/math/polynomial.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { broadcastDigest } from '../../../src/tss/session/echo.js';
import { decodeMessage, encodeMessage } from '../../../src/tss/session/message.js';
import { type FaultInjector, runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, ecdsaSignRun } from '../../helpers/protocol-runs.js';
import { clone, nobleVerifies, sha256 } from './protocol-helpers.js';

const digest = sha256(new TextEncoder().encode('confirmation-and-blame'));
const g = getGroup('secp256k1');

/** Replaces the payload of matching deliveries. */
const edit =
  (match: (from: string, to: string, round: number) => boolean, f: (p: Uint8Array) => Uint8Array): FaultInjector =>
  (d) => {
    if (!match(d.from, d.to, d.message.round)) return { kind: 'deliver' };
    const m = decodeMessage(d.bytes);
    return { kind: 'replace', bytes: encodeMessage({ ...m, payload: f(Uint8Array.from(m.payload)) }) };
  };
const flipLast = (p: Uint8Array) => {
  p[p.length - 1] = p[p.length - 1]! ^ 1;
  return p;
};

describe('a confirmation withheld or falsified for some parties does not destroy their validated share [3/R-1]', () => {
  it('DKG: n3 sends a wrong confirmation to n2 only — n2 aborts blaming n3 but keeps its validated share as pendingResult, which signs with the others', () => {
    const P = ['n1', 'n2', 'n3'];
    const parties = P.map(
      (self) =>
        new EcdsaDkgParty({
          setupLog: new MemorySigningLog(),
          sessionId: 'r1-dkg',
          self,
          participants: P,
          threshold: 1,
          rng: seededRng(`r1/${self}`),
        }),
    );
    const rep = runParties(parties, {
      rng: seededRng('r1-order'),
      fault: edit((from, to, round) => from === 'n3' && to === 'n2' && round === 6, flipLast),
    });
    expect(rep.crashes.size).toBe(0);
    expect(rep.aborts.get('n2')?.blame).toEqual(['n3']);
    const pending = parties[1]!.pendingResult();
    expect(pending).toBeInstanceOf(EcdsaKeyShare);
    expect(pending!.isDisposed).toBe(false);
    const n1 = rep.results.get('n1')!;
    expect(
      Buffer.from(ecdsaKeyPublicDigest(pending!.public)).equals(Buffer.from(ecdsaKeyPublicDigest(n1.public))),
    ).toBe(true);
    // Once the node knows every member's confirmation it activates the pending share: n2 signs with n1.
    const shares = new Map([...rep.results, ['n2', pending!]] as [string, EcdsaKeyShare][]);
    const sig = ecdsaSignRun(clone(shares), ['n1', 'n2'], digest, { seed: 'r1-sign' });
    expect(sig.results.size).toBe(2);
    expect(nobleVerifies(sig.results.get('n2')!.signature, digest, n1.groupPublicKey)).toBe(true);
  });

  it('DKG: a party that stalls for want of a confirmation already holds its pending share; a party whose own checks failed holds none', () => {
    const P = ['n1', 'n2', 'n3'];
    const parties = P.map(
      (self) =>
        new EcdsaDkgParty({
          setupLog: new MemorySigningLog(),
          sessionId: 'r1-drop',
          self,
          participants: P,
          threshold: 1,
          rng: seededRng(`r1d/${self}`),
        }),
    );
    const rep = runParties(parties, {
      rng: seededRng('r1d-order'),
      fault: (d) =>
        d.from === 'n3' && d.to === 'n2' && d.message.round === 6 ? { kind: 'drop' } : { kind: 'deliver' },
    });
    expect(rep.stalled).toEqual(['n2']);
    expect(parties[1]!.pendingResult()).toBeInstanceOf(EcdsaKeyShare);
    const bad = P.map(
      (self) =>
        new EcdsaDkgParty({
          setupLog: new MemorySigningLog(),
          sessionId: 'r1-bad',
          self,
          participants: P,
          threshold: 1,
          rng: seededRng(`r1b/${self}`),
        }),
    );
    const rep2 = runParties(bad, {
      rng: seededRng('r1b-order'),
      fault: edit((from, to, round) => from === 'n3' && to === 'n2' && round === 3, flipLast),
    });
    expect(rep2.aborts.get('n2')?.blame).toEqual(['n3']);
    expect(bad[1]!.pendingResult()).toBeUndefined();
  });

  it('reshare 2-of-3 → 3-of-5: new member n6 falsifies its confirmation to n4 and n5; they abort blaming n6 but keep their v+1 shares, so the honest members sign v+1 without n6', () => {
    const old = ecdsaDkg(['n1', 'n2', 'n3'], 1, { seed: 'r1-old' });
    const dealers = ['n1', 'n2', 'n3'];
    const news = ['n2', 'n3', 'n4', 'n5', 'n6'];
    const union = ['n1', ...news];
    const parties = union.map(
      (self) =>
        new EcdsaReshareParty({
          setupLog: new MemorySigningLog(),
          sessionId: 'r1-reshare',
          self,
          dealers,
          newParticipants: news,
          newThreshold: 2,
          oldPublic: old.get('n1')!.public,
          keyShare: dealers.includes(self) ? old.get(self) : undefined,
          rng: seededRng(`r1r/${self}`),
        }),
    );
    const rep = runParties(parties, {
      rng: seededRng('r1r-order'),
      fault: edit((from, to, round) => from === 'n6' && (to === 'n4' || to === 'n5') && round === 6, flipLast),
    });
    expect(rep.crashes.size).toBe(0);
    const v2 = new Map<string, EcdsaKeyShare>();
    for (const [p, r] of rep.results) if (r.share) v2.set(p, r.share);
    for (const [i, p] of union.entries()) {
      if (p !== 'n4' && p !== 'n5') continue;
      expect(rep.aborts.get(p)?.blame).toEqual(['n6']);
      const pending = parties[i]!.pendingResult();
      expect(pending?.share).toBeInstanceOf(EcdsaKeyShare);
      v2.set(p, pending!.share!);
    }
    expect(parties[0]!.pendingResult()?.share).toBeUndefined(); // the old-only dealer gets the package only
    const sig = ecdsaSignRun(clone(v2), ['n2', 'n4', 'n5'], digest, { seed: 'r1r-sign' });
    expect(sig.results.size).toBe(3);
    expect(nobleVerifies(sig.results.get('n4')!.signature, digest, old.get('n1')!.groupPublicKey)).toBe(true);
  });
});

describe('echo blame always contains a culprit [3/R-3]', () => {
  it("DKG 3-of-5: n3, n4, n5 misreport honest n2's round-1 digest to n1 — n1 blames n2 together with them, never n2 alone", () => {
    const P = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const off = 4 + 'tessera/ecdsa/dkg/r2/v1'.length + 32 + 4 + 32 * 1; // n2's slot in the echo vector
    const rep = runParties(
      P.map(
        (self) =>
          new EcdsaDkgParty({
            setupLog: new MemorySigningLog(),
            sessionId: 'r3',
            self,
            participants: P,
            threshold: 2,
            rng: seededRng(`r3/${self}`),
          }),
      ),
      {
        rng: seededRng('r3-order'),
        fault: edit(
          (from, to, round) => ['n3', 'n4', 'n5'].includes(from) && to === 'n1' && round === 2,
          (p) => {
            p.fill(0xaa, off, off + 32);
            return p;
          },
        ),
      },
    );
    expect(rep.crashes.size).toBe(0);
    expect(rep.aborts.get('n1')?.blame).toEqual(['n2', 'n3', 'n4', 'n5']);
  });
});

describe('a rushing dealer that makes the new package degenerate is named [3/R-4]', () => {
  it('dealer n1 picks its commitment so that Y′(n4) is the identity; every new member names n1 by its Feldman check instead of aborting without blame', () => {
    const old = ecdsaDkg(['n1', 'n2', 'n3'], 1, { seed: 'r4-old' });
    const dealers = ['n1', 'n2', 'n3'];
    const news = ['n2', 'n3', 'n4', 'n5', 'n6'];
    const union = ['n1', ...news];
    const sid = 'r4-reshare';
    const make = () =>
      union.map(
        (self) =>
          new EcdsaReshareParty({
            setupLog: new MemorySigningLog(),
            sessionId: sid,
            self,
            dealers,
            newParticipants: news,
            newThreshold: 2,
            oldPublic: old.get('n1')!.public,
            keyShare: dealers.includes(self) ? EcdsaKeyShare.deserialize(old.get(self)!.serialize()) : undefined,
            rng: seededRng(`r4/${self}`),
          }),
      );
    // Rushing: the attacker sees n2's and n3's round-1 commitments first.
    const seen = new Map<string, Uint8Array>();
    runParties(make(), {
      rng: seededRng('r4-rec'),
      fault: (d) => {
        if (d.message.round === 1 && d.message.to === null && d.to === 'n1') seen.set(d.from, d.message.payload);
        return { kind: 'deliver' };
      },
    });
    const ctx = ecdsaReshareContext(sid, ecdsaKeyPublicDigest(old.get('n1')!.public), dealers, news, 2);
    const R1B = 'tessera/ecdsa/reshare/r1b/v1';
    const decodeC = (b: Uint8Array): Point[] => {
      const r = new ByteReader(b);
      r.expectTag(R1B);
      r.raw(32);
      const n = r.u16();
      return Array.from({ length: n }, () => g.decodePoint(r.raw(33)));
    };
    const xk = ecdsaIdentifiers(g, news).get('n4')!;
    const Pk = g.add(evalCommitment(g, decodeC(seen.get('n2')!), xk), evalCommitment(g, decodeC(seen.get('n3')!), xk));
    // C0 = λ1·Y1 (passes the constant-term check), C2 arbitrary, C1 = (−P_k − C0 − C2·x²)/x.
    const Y1 = g.decodePoint(old.get('n1')!.public.publicShares.get('n1')!);
    const c0 = g.mul(Y1, ecdsaLagrange(g, dealers, 'n1'));
    const c2 = g.baseMul(987654321n);
    const c1 = g.mul(g.sub(g.sub(g.sub(g.identity, Pk), c0), g.mul(c2, mod(xk * xk, g.order))), invert(g, xk));
    const w = new ByteWriter().tag(R1B).raw(ctx).u16(3);
    for (const c of [c0, c1, c2]) w.raw(g.encodePoint(c));
    const forged = w.finish();
    const summed = [c0, c1, c2].map((c, i) =>
      g.add(g.add(c, decodeC(seen.get('n2')!)[i]!), decodeC(seen.get('n3')!)[i]!),
    );
    expect(g.isIdentity(evalCommitment(g, summed, xk))).toBe(true);
    // n1 broadcasts the forged commitment to everyone and echoes it consistently.
    const R2B = 'tessera/ecdsa/reshare/r2b/v1';
    const fakeEcho = broadcastDigest(sid, 1, 'n1', forged);
    const fault: FaultInjector = (d) => {
      if (d.from !== 'n1') return { kind: 'deliver' };
      const m = decodeMessage(d.bytes);
      if (m.round === 1 && m.to === null) return { kind: 'replace', bytes: encodeMessage({ ...m, payload: forged }) };
      if (m.round === 2 && m.to === null) {
        const p = Uint8Array.from(m.payload);
        p.set(fakeEcho, 4 + R2B.length + 32 + 4);
        return { kind: 'replace', bytes: encodeMessage({ ...m, payload: p }) };
      }
      return { kind: 'deliver' };
    };
    const rep = runParties(make(), { rng: seededRng('r4-order'), fault });
    expect(rep.crashes.size).toBe(0);
    expect(rep.results.size).toBe(0);
    for (const p of news) {
      expect(rep.aborts.get(p)?.blame, p).toEqual(['n1']);
      expect(rep.aborts.get(p)?.reason).toMatch(/does not match the dealer commitment/);
    }
  });
});

describe('echo suspicion does not cost honest pairs [4/L-2]', () => {
  it("a signer misreporting an honest co-signer's round-1 digest makes the victim abort blaming both, but no OT pair is burnt", () => {
    const ps = ['n1', 'n2', 'n3'];
    const shares = clone(ecdsaDkg(ps, 1, { seed: 'echo-burn' }));
    const [A, B, M] = ps as [string, string, string];
    const off = 4 + 'tessera/ecdsa/sign/r2/v1'.length + 32 + 4 + 32 * ps.indexOf(B);
    const rep = ecdsaSignRun(shares, ps, digest, {
      fault: edit(
        (from, to, round) => from === M && to === A && round === 2,
        (p) => {
          p[off] = p[off]! ^ 1;
          return p;
        },
      ),
    });
    expect(rep.crashes.size).toBe(0);
    expect(rep.aborts.get(A)?.blame).toEqual([B, M]);
    expect(shares.get(A)!.burntPeers()).toEqual([]);
    // A and B sign together right after.
    expect(ecdsaSignRun(shares, [A, B], digest, { seed: 'after-echo' }).results.size).toBe(2);
  });
});
