import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../../src/common/errors.js';
import { mulReceiverFinish, mulReceiverStart, mulSenderRespond } from '../../../src/tss/ecdsa/multiply.js';
import { ZeroSeedPairSetup } from '../../../src/tss/ecdsa/zero-share.js';
import { BaseOtReceiver, BaseOtSender } from '../../../src/tss/ot/base-ot.js';
import { OtAbortedError } from '../../../src/tss/ot/errors.js';
import { encodeScalar } from '../../../src/tss/ot/scalar.js';
import { freshPair, seededRandom } from '../ot/helpers.js';

const sid = (s: string) => new TextEncoder().encode(s);

/** A mutation of a message: flip a bit, truncate, append, or replace by random bytes. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;
function mutate(m: Uint8Array, mu: Mutation): Uint8Array {
  switch (mu.kind) {
    case 'flip': {
      const c = m.slice();
      c[mu.at % c.length]! ^= 1 << mu.bit;
      return c;
    }
    case 'truncate':
      return m.subarray(0, mu.at % m.length);
    case 'append':
      return Uint8Array.of(...m, ...mu.extra);
    case 'random':
      return mu.bytes;
  }
}

/** The call must either succeed or abort with a protocol error blaming `peer` (never crash with a TypeError/RangeError). */
function expectAbortOrOk(fn: () => unknown, peer: string): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    expect(e).toBeInstanceOf(OtAbortedError);
    expect((e as OtAbortedError).blame).toBe(peer);
    return false;
  }
}

describe('adversarial messages: every mutation aborts with blame on the sender of the message, never crashes', () => {
  it('base-OT messages (all five)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), mutation, (which, mu) => {
        const s = new BaseOtSender(
          { sessionId: sid('adv'), senderId: 'S', receiverId: 'R', count: 3 },
          seededRandom('s'),
        );
        const r = new BaseOtReceiver(
          { sessionId: sid('adv'), senderId: 'S', receiverId: 'R', count: 3 },
          Uint8Array.of(0, 1, 1),
          seededRandom('r'),
        );
        const steps: [(m: Uint8Array) => Uint8Array, string][] = [
          [(m) => r.onSetup(m), 'S'],
          [(m) => s.onChoices(m), 'R'],
          [(m) => r.onChallenges(m), 'S'],
          [(m) => s.onResponses(m).message, 'R'],
          [
            (m) => {
              r.onOpenings(m);
              return new Uint8Array(0);
            },
            'S',
          ],
        ];
        let msg = s.setupMessage();
        let changed = false;
        for (let i = 0; i < 5; i++) {
          const [step, from] = steps[i]!;
          let input = msg;
          if (i === which) {
            input = mutate(msg, mu);
            changed = Buffer.compare(Buffer.from(input), Buffer.from(msg)) !== 0;
          }
          // the party receiving a changed message may let it pass only where a later check catches it
          // (a changed challenge passes the receiver's step and is caught by the sender or at the openings)
          let next: Uint8Array = new Uint8Array(0);
          const ok = expectAbortOrOk(() => {
            next = step(input);
          }, from);
          if (!ok) {
            expect(changed).toBe(true);
            return;
          }
          msg = next;
        }
        expect(changed).toBe(false); // a changed message that reached the end unnoticed is a defect
      }),
      { numRuns: 60 },
    );
  });

  it('multiplication messages (Bob’s extension message and Alice’s response)', async () => {
    const { sender, receiver } = await freshPair();
    const sBytes = sender.serialize();
    const rBytes = receiver.serialize();
    const { OtExtSender, OtExtReceiver } = await import('../../../src/tss/ot/kos.js');
    let n = 0;
    fc.assert(
      fc.property(fc.boolean(), mutation, (first, mu) => {
        const a = OtExtSender.deserialize(sBytes);
        const b = OtExtReceiver.deserialize(rBytes);
        const s = sid(`adv${n++}`);
        const bob = mulReceiverStart(b, s, 1, seededRandom(n));
        if (first) {
          const bad = mutate(bob.message, mu);
          if (Buffer.compare(Buffer.from(bad), Buffer.from(bob.message)) === 0) return;
          expect(expectAbortOrOk(() => mulSenderRespond(a, s, [encodeScalar(3n)], bad), 'bob')).toBe(false);
        } else {
          const alice = mulSenderRespond(a, s, [encodeScalar(3n)], bob.message, seededRandom(n));
          const bad = mutate(alice.message, mu);
          if (Buffer.compare(Buffer.from(bad), Buffer.from(alice.message)) === 0) return;
          const ok = expectAbortOrOk(() => mulReceiverFinish(b, bob.pending, bad), 'alice');
          if (ok) {
            // only Alice's own input adjustment γ (the last 32 bytes) may change without detection
            expect(mu.kind).toBe('flip');
            expect((mu as { at: number }).at % bad.length).toBeGreaterThanOrEqual(alice.message.length - 32);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it('zero-sharing messages', () => {
    fc.assert(
      fc.property(fc.boolean(), mutation, (commit, mu) => {
        const a = new ZeroSeedPairSetup({ sessionId: sid('z'), selfId: 'a', peerId: 'b' }, seededRandom(1));
        const b = new ZeroSeedPairSetup({ sessionId: sid('z'), selfId: 'b', peerId: 'a' }, seededRandom(2));
        const c = b.commitMessage();
        const badC = commit ? mutate(c, mu) : c;
        const ok = expectAbortOrOk(() => a.onPeerCommitment(badC), 'b');
        if (!ok) return;
        b.onPeerCommitment(a.commitMessage());
        a.openingMessage();
        const o = b.openingMessage();
        const badO = commit ? o : mutate(o, mu);
        const changed =
          Buffer.compare(Buffer.from(badC), Buffer.from(c)) !== 0 ||
          Buffer.compare(Buffer.from(badO), Buffer.from(o)) !== 0;
        expect(expectAbortOrOk(() => a.finish(badO), 'b')).toBe(!changed);
      }),
      { numRuns: 100 },
    );
  });
});
