import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import { rerandomize, ZeroSeedPairSetup, zeroShare } from '../../../src/tss/ecdsa/zero-share.js';
import { MalformedMessageError, OtAbortedError } from '../../../src/tss/ot/errors.js';
import { decodeScalar, encodeScalar, mod, Q } from '../../../src/tss/ot/scalar.js';
import { seededRandom } from '../ot/helpers.js';

const sid = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Runs the seed agreement among all pairs of `ids`; returns each party's seed map. */
function setupSeeds(ids: string[], session = 'dkg'): Map<string, Map<string, Uint8Array>> {
  const seeds = new Map(ids.map((id) => [id, new Map<string, Uint8Array>()]));
  for (let x = 0; x < ids.length; x++) {
    for (let y = x + 1; y < ids.length; y++) {
      const a = ids[x]!;
      const b = ids[y]!;
      const sa = new ZeroSeedPairSetup(
        { sessionId: sid(session), selfId: a, peerId: b },
        seededRandom(`${session}/${a}/${b}`),
      );
      const sb = new ZeroSeedPairSetup(
        { sessionId: sid(session), selfId: b, peerId: a },
        seededRandom(`${session}/${b}/${a}`),
      );
      sa.onPeerCommitment(sb.commitMessage());
      sb.onPeerCommitment(sa.commitMessage());
      const oa = sa.openingMessage();
      const ob = sb.openingMessage();
      seeds.get(a)!.set(b, sa.finish(ob));
      seeds.get(b)!.set(a, sb.finish(oa));
    }
  }
  return seeds;
}

const sum = (shares: Uint8Array[]) => mod(shares.reduce((acc, s) => acc + decodeScalar(s)!, 0n));

describe('pairwise zero-sharing (DKLs23 F_Zero)', () => {
  const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  const seeds = setupSeeds(ids);

  it('both parties of a pair derive the same seed', () => {
    expect(hex(seeds.get('p1')!.get('p4')!)).toBe(hex(seeds.get('p4')!.get('p1')!));
    expect(hex(seeds.get('p1')!.get('p4')!)).not.toBe(hex(seeds.get('p1')!.get('p5')!));
  });

  it('the shares of every participant subset sum to zero, for any session id', () => {
    fc.assert(
      fc.property(
        fc.subarray(ids, { minLength: 2 }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        (subset, session) => {
          const shares = subset.map((id) => zeroShare(id, seeds.get(id)!, subset, session));
          expect(sum(shares)).toBe(0n);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('different session ids (or participant sets) give different, non-zero shares; the same inputs give the same share', () => {
    const set = ['p1', 'p3', 'p5'];
    const a = zeroShare('p1', seeds.get('p1')!, set, sid('s1'));
    const b = zeroShare('p1', seeds.get('p1')!, set, sid('s2'));
    const c = zeroShare('p1', seeds.get('p1')!, ['p1', 'p3', 'p6'], sid('s1'));
    expect(hex(a)).toBe(hex(zeroShare('p1', seeds.get('p1')!, [...set].reverse(), sid('s1'))));
    expect(new Set([hex(a), hex(b), hex(c)]).size).toBe(3);
    expect(decodeScalar(a)).not.toBe(0n);
  });

  it('a share changes with every pair seed it depends on (each pair contributes)', () => {
    const set = ['p1', 'p2', 'p3'];
    const base = zeroShare('p1', seeds.get('p1')!, set, sid('s'));
    const other = new Map(seeds.get('p1')!);
    other.set('p3', new Uint8Array(32).fill(7));
    expect(hex(zeroShare('p1', other, set, sid('s')))).not.toBe(hex(base));
  });

  it('re-randomised additive shares still sum to the same secret', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: Q - 1n }), { minLength: 3, maxLength: 3 }),
        fc.string(),
        (add, session) => {
          const set = ['p2', 'p4', 'p6'];
          const fresh = set.map((id, i) =>
            rerandomize(encodeScalar(add[i]!), zeroShare(id, seeds.get(id)!, set, sid(`r${session}`))),
          );
          expect(sum(fresh)).toBe(mod(add[0]! + add[1]! + add[2]!));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rejects an opening that does not match the commitment, blaming the peer', () => {
    const a = new ZeroSeedPairSetup({ sessionId: sid('x'), selfId: 'a', peerId: 'b' }, seededRandom(1));
    const b = new ZeroSeedPairSetup({ sessionId: sid('x'), selfId: 'b', peerId: 'a' }, seededRandom(2));
    a.onPeerCommitment(b.commitMessage());
    b.onPeerCommitment(a.commitMessage());
    a.openingMessage();
    const open = b.openingMessage().slice();
    open[5]! ^= 1;
    const e = (() => {
      try {
        a.finish(open);
      } catch (err) {
        return err;
      }
    })() as OtAbortedError;
    expect(e).toBeInstanceOf(OtAbortedError);
    expect(e.blame).toBe('b');
    expect(() => a.finish(open.subarray(0, 10))).toThrow(MalformedMessageError);
  });

  it('a commitment from another session or party does not open', () => {
    const a = new ZeroSeedPairSetup({ sessionId: sid('x'), selfId: 'a', peerId: 'b' }, seededRandom(1));
    const bOther = new ZeroSeedPairSetup({ sessionId: sid('y'), selfId: 'b', peerId: 'a' }, seededRandom(2));
    a.onPeerCommitment(bOther.commitMessage());
    bOther.onPeerCommitment(a.commitMessage());
    a.openingMessage();
    expect(() => a.finish(bOther.openingMessage())).toThrow(OtAbortedError);
  });

  it('never opens before the peer committed, and finishes once', () => {
    const a = new ZeroSeedPairSetup({ sessionId: sid('x'), selfId: 'a', peerId: 'b' }, seededRandom(1));
    const b = new ZeroSeedPairSetup({ sessionId: sid('x'), selfId: 'b', peerId: 'a' }, seededRandom(2));
    expect(() => a.openingMessage()).toThrow(InvalidStateError);
    expect(() => a.finish(new Uint8Array(0))).toThrow(InvalidStateError);
    a.onPeerCommitment(b.commitMessage());
    b.onPeerCommitment(a.commitMessage());
    expect(() => a.finish(b.openingMessage())).toThrow(InvalidStateError); // own opening not produced yet
    a.openingMessage();
    a.finish(b.openingMessage());
    expect(() => a.finish(b.openingMessage())).toThrow(InvalidStateError);
    expect(() => a.openingMessage()).toThrow(InvalidStateError);
    expect(() => a.onPeerCommitment(b.commitMessage())).toThrow(InvalidStateError);
  });

  it('rejects invalid participant lists and missing seeds', () => {
    const s = seeds.get('p1')!;
    expect(() => zeroShare('p1', s, ['p1', 'p1', 'p2'], sid('z'))).toThrow(InvalidArgumentError);
    expect(() => zeroShare('p1', s, ['p2', 'p3'], sid('z'))).toThrow(InvalidArgumentError);
    expect(() => zeroShare('p1', s, ['p1', 'nobody'], sid('z'))).toThrow(InvalidArgumentError);
    expect(() => zeroShare('p1', s, ['p1', 'p2'], new Uint8Array(0))).toThrow(InvalidArgumentError);
  });
});
