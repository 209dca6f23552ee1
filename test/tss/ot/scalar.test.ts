import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToBigInt, decodeScalar, encodeScalar, Q, reduceWide } from '../../../src/tss/ot/scalar.js';

const ref = (b: Uint8Array) => b.reduce((x, v) => (x << 8n) | BigInt(v), 0n);

describe('scalar encoding', () => {
  it('bytesToBigInt is big-endian for every length (fast and fallback paths)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        expect(bytesToBigInt(b)).toBe(ref(b));
      }),
    );
  });
  it('encodeScalar and decodeScalar round-trip every scalar below q, and decode refuses values ≥ q', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: Q - 1n }), (x) => {
        const b = encodeScalar(x);
        expect(b).toHaveLength(32);
        expect(decodeScalar(b)).toBe(x);
      }),
    );
    expect(decodeScalar(encodeScalar(Q - 1n).map((v, i) => (i === 31 ? v + 1 : v)))).toBeUndefined();
    expect(decodeScalar(new Uint8Array(31))).toBeUndefined();
    expect(() => encodeScalar(Q)).toThrow(RangeError);
  });
  it('reduceWide is the integer value mod q', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 48, maxLength: 64 }), (b) => {
        expect(reduceWide(b)).toBe(ref(b) % Q);
      }),
    );
  });
});
