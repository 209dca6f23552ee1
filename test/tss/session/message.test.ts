import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/common/bytes.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { FrostDkgParty } from '../../../src/tss/frost/dkg.js';
import { type FrostKeyPublic, serializeKeyPublic } from '../../../src/tss/frost/key-share.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { ProtocolAbortedError } from '../../../src/tss/session/errors.js';
import { decodeMessage, encodeMessage, type Message } from '../../../src/tss/session/message.js';
import { validateSessionConfig } from '../../../src/tss/session/party.js';

const pub: FrostKeyPublic = {
  keyType: 'ed25519',
  version: 1,
  threshold: 1,
  participants: ['a', 'b'],
  verifyingShares: new Map([
    ['a', new Uint8Array(32)],
    ['b', new Uint8Array(32)],
  ]),
  groupPublicKey: new Uint8Array(32),
};

// Any well-formed Unicode, sometimes with a leading U+FEFF (which must survive the round trip).
const id = fc
  .tuple(fc.boolean(), fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }))
  .map(([bom, s]) => (bom ? `\uFEFF${s}` : s))
  .filter((s) => s.isWellFormed() && new TextEncoder().encode(s).length <= 256);
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
        const same =
          a.sessionId === b.sessionId &&
          a.round === b.round &&
          a.from === b.from &&
          a.to === b.to &&
          Buffer.from(a.payload).equals(Buffer.from(b.payload));
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

describe('ids are encoded injectively (L2)', () => {
  it('a BOM-prefixed id stays distinct from the same id without it', () => {
    const m = { sessionId: '\uFEFFs', round: 1, from: '\uFEFFn1', to: '\uFEFFn2', payload: new Uint8Array(1) };
    const d = decodeMessage(encodeMessage(m));
    expect(d.sessionId).toBe('\uFEFFs');
    expect(d.from).toBe('\uFEFFn1');
    expect(d.to).toBe('\uFEFFn2');
    const plain = encodeMessage({ ...m, sessionId: 's', from: 'n1', to: 'n2' });
    expect(Buffer.from(encodeMessage(m)).equals(Buffer.from(plain))).toBe(false);
    expect(decodeMessage(plain).from).toBe('n1');
  });

  it('an id with a lone surrogate is refused with InvalidArgumentError (encoding, session config, key package)', () => {
    const ok = { sessionId: 's', round: 1, from: 'a', to: null, payload: new Uint8Array(1) };
    for (const bad of ['\uD800', 'n\uDC00', 'x\uD83D']) {
      expect(() => encodeMessage({ ...ok, from: bad })).toThrow(InvalidArgumentError);
      expect(() => encodeMessage({ ...ok, sessionId: bad })).toThrow(InvalidArgumentError);
      expect(() => encodeMessage({ ...ok, to: bad })).toThrow(InvalidArgumentError);
      expect(() => new ByteWriter().str(bad)).toThrow(InvalidArgumentError);
      expect(() => validateSessionConfig({ sessionId: bad, self: 'a', participants: ['a', 'b'] })).toThrow(
        InvalidArgumentError,
      );
      expect(() => validateSessionConfig({ sessionId: 's', self: 'a', participants: ['a', bad] })).toThrow(
        InvalidArgumentError,
      );
      expect(() => new FrostDkgParty({ sessionId: 's', self: 'a', participants: ['a', bad], threshold: 1 })).toThrow(
        InvalidArgumentError,
      );
      expect(() =>
        serializeKeyPublic({
          ...pub,
          participants: [pub.participants[0]!, bad],
          verifyingShares: new Map([
            [pub.participants[0]!, new Uint8Array(32)],
            [bad, new Uint8Array(32)],
          ]),
        }),
      ).toThrow(InvalidArgumentError);
    }
    // A well-formed surrogate pair is fine.
    expect(decodeMessage(encodeMessage({ ...ok, from: 'n\uD83D\uDE00' })).from).toBe('n\uD83D\uDE00');
  });

  it('a party refuses a message whose sender differs from the authenticated one only by a leading BOM', () => {
    const P = ['n1', 'n2', 'n3'];
    const ps = P.map(
      (self) => new FrostDkgParty({ sessionId: 'bom', self, participants: P, threshold: 1, rng: seededRng(self) }),
    );
    const m = ps[1]!.start()[0]!;
    ps[0]!.start();
    let err: unknown;
    try {
      ps[0]!.receiveBytes('n2', encodeMessage({ ...m, from: '\uFEFFn2' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolAbortedError);
    expect((err as ProtocolAbortedError).blame).toEqual(['n2']);
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
