import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CurveName, getGroup } from '../../../src/tss/group/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe.each(['ed25519', 'secp256k1'] as CurveName[])(
  '%s: the fast backend computes the same bytes as the noble reference',
  (curve) => {
    const noble = getGroup(curve, 'noble');
    const fast = getGroup(curve, 'fast');
    const scalar = fc.bigInt({ min: 0n, max: noble.order - 1n });
    const nonzero = fc.bigInt({ min: 1n, max: noble.order - 1n });

    it('base multiplication, multiplication, addition and subtraction agree', () => {
      fc.assert(
        fc.property(nonzero, nonzero, scalar, (a, b, k) => {
          const pa = noble.baseMul(a);
          const fa = fast.baseMul(a);
          expect(hex(fast.encodePoint(fa))).toBe(hex(noble.encodePoint(pa)));
          const pb = noble.baseMul(b);
          const fb = fast.decodePoint(noble.encodePoint(pb));
          const sumN = noble.add(pa, pb);
          const sumF = fast.add(fa, fb);
          expect(noble.isIdentity(sumN)).toBe(fast.isIdentity(sumF));
          if (!noble.isIdentity(sumN)) expect(hex(fast.encodePoint(sumF))).toBe(hex(noble.encodePoint(sumN)));
          const difN = noble.sub(pa, pb);
          const difF = fast.sub(fa, fb);
          expect(noble.isIdentity(difN)).toBe(fast.isIdentity(difF));
          if (!noble.isIdentity(difN)) expect(hex(fast.encodePoint(difF))).toBe(hex(noble.encodePoint(difN)));
          const mN = noble.mul(pa, k);
          const mF = fast.mul(fa, k);
          expect(noble.isIdentity(mN)).toBe(fast.isIdentity(mF));
          if (!noble.isIdentity(mN)) expect(hex(fast.encodePoint(mF))).toBe(hex(noble.encodePoint(mN)));
          expect(fast.affine(fa)).toEqual(noble.affine(pa));
        }),
        { numRuns: 40 },
      );
    });

    it('mulSecret (constant-time multiplication for secret scalars) gives identical results on both backends and equals mul, edge scalars included', () => {
      const q = noble.order;
      const edge = fc.constantFrom(0n, 1n, 2n, 3n, q - 1n, q - 2n, q >> 1n, (q >> 1n) + 1n, 1n << 128n);
      const k = fc.oneof(scalar, edge);
      const pointSeed = fc.oneof(nonzero, fc.constantFrom(1n, q - 1n));
      fc.assert(
        fc.property(pointSeed, k, (a, s) => {
          const pN = noble.baseMul(a);
          const pF = fast.decodePoint(noble.encodePoint(pN));
          const rN = noble.mulSecret(pN, s);
          const rF = fast.mulSecret(pF, s);
          expect(fast.isIdentity(rF)).toBe(noble.isIdentity(rN));
          expect(noble.isIdentity(rN)).toBe(s === 0n);
          if (!noble.isIdentity(rN)) expect(hex(fast.encodePoint(rF))).toBe(hex(noble.encodePoint(rN)));
          for (const g of [noble, fast]) {
            const p = g === noble ? pN : pF;
            expect(g.equals(g.mulSecret(p, s), g.mul(p, s))).toBe(true);
          }
        }),
        { numRuns: 60 },
      );
      for (const g of [noble, fast]) {
        expect(g.isIdentity(g.mulSecret(g.identity, 5n))).toBe(true);
        expect(() => g.mulSecret(g.base, q)).toThrow();
        expect(() => g.mulSecret(g.base, -1n)).toThrow();
      }
    });

    it('multi-multiplication agrees with the sum of products', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(nonzero, scalar), { minLength: 1, maxLength: 4 }), (pairs) => {
          const pts = pairs.map(([a]) => noble.baseMul(a));
          const m = noble.multiMul(
            pts,
            pairs.map(([, k]) => k),
          );
          const f = fast.multiMul(
            pts.map((p) => fast.decodePoint(noble.encodePoint(p))),
            pairs.map(([, k]) => k),
          );
          expect(noble.isIdentity(m)).toBe(fast.isIdentity(f));
          if (!noble.isIdentity(m)) expect(hex(fast.encodePoint(f))).toBe(hex(noble.encodePoint(m)));
        }),
        { numRuns: 20 },
      );
    });

    it('both backends accept and refuse exactly the same point encodings', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: noble.pointLength, maxLength: noble.pointLength }), (bytes) => {
          const ok = (g: typeof noble) => {
            try {
              g.decodePoint(bytes);
              return true;
            } catch {
              return false;
            }
          };
          expect(ok(fast)).toBe(ok(noble));
        }),
        { numRuns: 300 },
      );
    });

    it('scalars out of range are refused when decoding and encoding', () => {
      for (const g of [noble, fast]) {
        expect(() => g.encodeScalar(g.order)).toThrow(/range/);
        expect(() => g.encodeScalar(-1n)).toThrow(/range/);
        expect(() => g.decodeScalar(new Uint8Array(32).fill(0xff))).toThrow(/reduced/);
        expect(() => g.decodeScalar(new Uint8Array(31))).toThrow(/32 bytes/);
        expect(g.decodeScalar(g.encodeScalar(g.order - 1n))).toBe(g.order - 1n);
      }
    });

    it('the identity is refused by decodePoint on both backends', () => {
      for (const g of [noble, fast]) {
        const enc = curve === 'ed25519' ? g.encodePoint(g.identity) : new Uint8Array(33);
        expect(() => g.decodePoint(enc)).toThrow();
        expect(g.isIdentity(g.mul(g.base, 0n))).toBe(true);
        expect(g.isIdentity(g.baseMul(0n))).toBe(true);
      }
    });
  },
);

describe('ed25519 subgroup checks', () => {
  // A point of order 8 (small-order) and a point with a torsion component: base + T8.
  const t8 = Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex');
  it('a small-order point is refused by both backends', () => {
    for (const g of [getGroup('ed25519', 'noble'), getGroup('ed25519', 'fast')])
      expect(() => g.decodePoint(new Uint8Array(t8))).toThrow();
  });
  it('a point outside the prime-order subgroup (base + torsion) is refused by both backends', async () => {
    const { ed25519 } = await import('@noble/curves/ed25519.js');
    const mixed = ed25519.Point.BASE.add(ed25519.Point.fromBytes(new Uint8Array(t8))).toBytes();
    expect(ed25519.Point.fromBytes(mixed).isTorsionFree()).toBe(false);
    for (const g of [getGroup('ed25519', 'noble'), getGroup('ed25519', 'fast')])
      expect(() => g.decodePoint(mixed)).toThrow();
  });
});

describe('secp256k1 encodings', () => {
  it('an x coordinate ≥ p, a bad prefix or an uncompressed encoding is refused by both backends', () => {
    const p = 2n ** 256n - 2n ** 32n - 977n;
    const xBytes = (x: bigint) => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
    const cases = [
      Uint8Array.from([2, ...xBytes(p)]),
      Uint8Array.from([3, ...xBytes(p + 1n)]),
      Uint8Array.from([4, ...xBytes(1n)]),
      Uint8Array.from([
        5,
        ...getGroup('secp256k1', 'noble').encodePoint(getGroup('secp256k1', 'noble').base).subarray(1),
      ]),
    ];
    for (const g of [getGroup('secp256k1', 'noble'), getGroup('secp256k1', 'fast')]) {
      for (const c of cases) expect(() => g.decodePoint(c)).toThrow();
      expect(() => g.encodePoint(g.identity)).toThrow(/no encoding/);
      expect(g.decodePoint(g.encodePoint(g.base))).toBeDefined();
    }
  });
});
