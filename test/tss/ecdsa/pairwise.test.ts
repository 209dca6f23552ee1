import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import { mulReceiverFinish, mulReceiverStart, mulSenderRespond } from '../../../src/tss/ecdsa/multiply.js';
import { PairwiseOt, PairwiseOtSetup } from '../../../src/tss/ecdsa/pairwise.js';
import { OtAbortedError, OtStateBurnedError } from '../../../src/tss/ot/errors.js';
import { decodeScalar, encodeScalar, mod } from '../../../src/tss/ot/scalar.js';
import { seededRandom } from '../ot/helpers.js';

const sid = (s: string) => new TextEncoder().encode(s);

function runSetup(tamper?: { round: number; from: 'P' | 'Q' }): { p: PairwiseOt; q: PairwiseOt } {
  const P = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'P', peerId: 'Q' }, seededRandom('P'));
  const Q = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'Q', peerId: 'P' }, seededRandom('Q'));
  let mp: Uint8Array | undefined;
  let mq: Uint8Array | undefined;
  for (let r = 1; r <= 5; r++) {
    let np = P.round(r, mq);
    const nq = Q.round(r, mp);
    if (tamper?.round === r && tamper.from === 'P') {
      np = np.slice();
      np[np.length - 3]! ^= 1;
    }
    mp = np;
    mq = nq;
  }
  return { p: P.finish(mq!), q: Q.finish(mp!) };
}

function multiply(alice: PairwiseOt, bob: PairwiseOt, a: bigint, session: string): void {
  const s = sid(session);
  const m1 = mulReceiverStart(bob.in_, s, 1);
  const m2 = mulSenderRespond(alice.out, s, [encodeScalar(a)], m1.message);
  const d = mulReceiverFinish(bob.in_, m1.pending, m2.message);
  expect(mod(decodeScalar(m2.shares[0]!)! + decodeScalar(d[0]!)!)).toBe(mod(a * decodeScalar(m1.b)!));
}

describe('pairwise OT (both directions) and its five-round setup', () => {
  const { p, q } = runSetup();

  it('sets up both directions: multiplication works P→Q and Q→P', () => {
    multiply(p, q, 12345n, 'pq');
    multiply(q, p, 678n, 'qp');
  });

  it('serialises canonically and the restored state keeps working', () => {
    const p2 = PairwiseOt.deserialize(p.serialize());
    const q2 = PairwiseOt.deserialize(q.serialize());
    expect(Buffer.from(p2.serialize()).equals(Buffer.from(p.serialize()))).toBe(true);
    expect(p2.selfId).toBe('P');
    multiply(p2, q2, 5n, 'restored');
    const bytes = p.serialize();
    for (const bad of [
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.of(...bytes, 0),
      Uint8Array.of(2, ...bytes.subarray(1)),
    ]) {
      expect(() => PairwiseOt.deserialize(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('burning the pair destroys both directions; a burnt direction makes the whole pair unusable', () => {
    const a = PairwiseOt.deserialize(p.serialize());
    a.burn();
    expect(() => mulReceiverStart(a.in_, sid('x'), 1)).toThrow(OtStateBurnedError);
    expect(() => a.serialize()).toThrow(OtStateBurnedError);
    const b = PairwiseOt.deserialize(p.serialize());
    b.in_.destroy(); // e.g. a failed multiplication check
    expect(b.burned).toBe(true);
    expect(() => b.serialize()).toThrow(OtStateBurnedError);
    expect(b.out.burned).toBe(true); // serialise refused and burnt the other direction too
  });

  it('a tampered message in any round aborts the setup with blame on the sender, and the setup is dead afterwards', () => {
    for (let round = 1; round <= 5; round++) {
      let err: unknown;
      try {
        runSetup({ round, from: 'P' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OtAbortedError);
      // a tampered challenge (round 3) may surface as P's own check failing on Q's honest response
      expect(['P', 'Q']).toContain((err as OtAbortedError).blame);
      if (round !== 3) expect((err as OtAbortedError).blame).toBe('P');
    }
    const Q = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'Q', peerId: 'P' }, seededRandom('Q'));
    Q.round(1);
    expect(() => Q.round(2, new Uint8Array(5))).toThrow(OtAbortedError);
    expect(() => Q.round(3, new Uint8Array(5))).toThrow(OtStateBurnedError);
  });

  it('an abandoned setup (its protocol aborted) is dead in every round and cannot be finished; abandoning a finished setup leaves its pair working', () => {
    for (let stop = 1; stop <= 5; stop++) {
      const P = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'P', peerId: 'Q' }, seededRandom('P'));
      const Q = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'Q', peerId: 'P' }, seededRandom('Q'));
      let mp: Uint8Array | undefined;
      let mq: Uint8Array | undefined;
      for (let r = 1; r < stop; r++) [mp, mq] = [P.round(r, mq), Q.round(r, mp)];
      P.abandon();
      expect(() => P.round(stop, mq)).toThrow(OtStateBurnedError);
      expect(() => P.finish(new Uint8Array(0))).toThrow(OtStateBurnedError);
    }
    const P = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'P', peerId: 'Q' }, seededRandom('P'));
    const Q = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'Q', peerId: 'P' }, seededRandom('Q'));
    let mp: Uint8Array | undefined;
    let mq: Uint8Array | undefined;
    for (let r = 1; r <= 5; r++) [mp, mq] = [P.round(r, mq), Q.round(r, mp)];
    const pp = P.finish(mq!);
    const qq = Q.finish(mp!);
    P.abandon();
    Q.abandon();
    multiply(pp, qq, 5n, 'after-abandon');
    multiply(qq, pp, 6n, 'after-abandon-2');
  });

  it('rounds run once and in order', () => {
    const P = new PairwiseOtSetup({ setupId: sid('dkg'), selfId: 'P', peerId: 'Q' }, seededRandom('P'));
    expect(() => P.round(2, new Uint8Array(0))).toThrow(InvalidStateError);
    expect(() => P.round(1, new Uint8Array(0))).toThrow(InvalidArgumentError);
    P.round(1);
    expect(() => P.round(1)).toThrow(InvalidStateError);
    expect(() => P.finish(new Uint8Array(0))).toThrow(InvalidStateError);
  });
});
