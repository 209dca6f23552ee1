import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type Message } from '../../../src/tss/session/message.js';

const id = fc.string({ minLength: 1, maxLength: 40 });
const message = fc.record({
  sessionId: id,
  round: fc.integer({ min: 0, max: 0xffff }),
  from: id,
  to: fc.option(id, { nil: null }),
  payload: fc.uint8Array({ maxLength: 200 }),
}) as fc.Arbitrary<Message>;

describe('canonical message encoding', () => {
  it('decoding an encoded message gives the same message back', () => {
    fc.assert(
      fc.property(message, (m) => {
        const d = decodeMessage(encodeMessage(m));
        expect(d).toEqual({ ...m, payload: Uint8Array.from(m.payload) });
      }),
    );
  });

  it('the encoding is injective: different messages never share an encoding', () => {
    fc.assert(
      fc.property(message, message, (a, b) => {
        const ea = Buffer.from(encodeMessage(a));
        const eb = Buffer.from(encodeMessage(b));
        const same = a.sessionId === b.sessionId && a.round === b.round && a.from === b.from && a.to === b.to && Buffer.from(a.payload).equals(Buffer.from(b.payload));
        expect(ea.equals(eb)).toBe(same);
      }),
    );
  });

  it('every truncation and every extension of an encoding is refused', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }), (m, cut, extra) => {
        const e = encodeMessage(m);
        expect(() => decodeMessage(e.subarray(0, cut % e.length))).toThrow();
        expect(() => decodeMessage(Uint8Array.from([...e, ...extra]))).toThrow();
      }),
    );
  });

  it('a wrong tag, format version or message kind is refused', () => {
    const e = encodeMessage({ sessionId: 's', round: 1, from: 'a', to: null, payload: new Uint8Array(3) });
    for (const pos of [5, 4 + 'tessera/tss/msg'.length]) {
      const bad = Uint8Array.from(e);
      bad[pos] = bad[pos]! ^ 0x40;
      expect(() => decodeMessage(bad)).toThrow();
    }
  });
});

describe('message encoding refuses out-of-range fields instead of truncating them', () => {
  it('a round beyond 16 bits, an over-long id or an oversized payload cannot be encoded', () => {
    const ok = { sessionId: 's', round: 1, from: 'a', to: null, payload: new Uint8Array(1) };
    expect(() => encodeMessage({ ...ok, round: 0x10000 })).toThrow(/out of range/);
    expect(() => encodeMessage({ ...ok, round: -1 })).toThrow(/out of range/);
    expect(() => encodeMessage({ ...ok, from: 'x'.repeat(257) })).toThrow(/256 bytes/);
    expect(() => encodeMessage({ ...ok, payload: new Uint8Array((1 << 20) + 1) })).toThrow(/1 MiB/);
  });
});

describe('decoding arbitrary bytes', () => {
  it('random bytes given to a running party end in ProtocolAbortedError blaming the authenticated sender, never another exception', async () => {
    const { FrostDkgParty } = await import('../../../src/tss/frost/dkg.js');
    const { ProtocolAbortedError } = await import('../../../src/tss/session/errors.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const p = new FrostDkgParty({ sessionId: 's', self: 'a', participants: ['a', 'b', 'c'], threshold: 1 });
        p.start();
        try {
          p.receiveBytes('b', bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolAbortedError);
          expect((e as InstanceType<typeof ProtocolAbortedError>).blame).toEqual(['b']);
          return;
        }
        throw new Error('random bytes were accepted');
      }),
      { numRuns: 200 },
    );
  });
});
