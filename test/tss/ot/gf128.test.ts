import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gfFromBytes, gfMul, gfToBytes } from '../../../src/tss/ot/gf128.js';

/** Reference: schoolbook carry-less multiplication with BigInt, reduced by X^128 + X^7 + X^2 + X + 1. */
function toBig(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = 15; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}
function fromBig(x: bigint): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = Number((x >> BigInt(8 * i)) & 0xffn);
  return out;
}
function refMul(a: bigint, b: bigint): bigint {
  let p = 0n;
  for (let i = 0n; i < 128n; i++) if ((a >> i) & 1n) p ^= b << i;
  const P = (1n << 128n) | 0x87n;
  for (let i = 254n; i >= 128n; i--) if ((p >> i) & 1n) p ^= P << (i - 128n);
  return p;
}
const el = fc.uint8Array({ minLength: 16, maxLength: 16 });
const mul = (a: Uint8Array, b: Uint8Array) => gfToBytes(gfMul(gfFromBytes(a), gfFromBytes(b)));
const xor = (a: Uint8Array, b: Uint8Array) => a.map((v, i) => v ^ b[i]!);

describe('GF(2^128) multiplication', () => {
  it('agrees with a schoolbook BigInt carry-less multiplication reduced by X^128+X^7+X^2+X+1', () => {
    fc.assert(
      fc.property(el, el, (a, b) => {
        expect(toBig(mul(a, b))).toBe(refMul(toBig(a), toBig(b)));
      }),
      { numRuns: 300 },
    );
  });
  it('reduces X^127·X to X^7+X^2+X+1', () => {
    expect(toBig(mul(fromBig(1n << 127n), fromBig(2n)))).toBe(0x87n);
  });
  it('is commutative, associative, distributes over XOR and has 1 as identity', () => {
    fc.assert(
      fc.property(el, el, el, (a, b, c) => {
        expect(mul(a, b)).toEqual(mul(b, a));
        expect(mul(mul(a, b), c)).toEqual(mul(a, mul(b, c)));
        expect(mul(a, xor(b, c))).toEqual(xor(mul(a, b), mul(a, c)));
        expect(mul(a, fromBig(1n))).toEqual(a);
      }),
      { numRuns: 100 },
    );
  });
  it('is not XOR: a·b differs from a⊕b for random operands', () => {
    fc.assert(
      fc.property(
        el,
        el,
        (a, b) => toBig(a) < 2n || toBig(b) < 2n || !Buffer.from(mul(a, b)).equals(Buffer.from(xor(a, b))),
      ),
      { numRuns: 100 },
    );
  });
  it('has no zero divisors: a·b = 0 only if a = 0 or b = 0', () => {
    fc.assert(
      fc.property(el, el, (a, b) => toBig(a) === 0n || toBig(b) === 0n || toBig(mul(a, b)) !== 0n),
      { numRuns: 100 },
    );
  });
});
