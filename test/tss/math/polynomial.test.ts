import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getGroup } from '../../../src/tss/group/index.js';
import { evalPolynomial, invert, lagrangeCoefficient } from '../../../src/tss/math/polynomial.js';

describe.each(['ed25519', 'secp256k1'] as const)('scalar-field math over %s', (curve) => {
  const g = getGroup(curve, 'fast');
  const nz = fc.bigInt({ min: 1n, max: g.order - 1n });

  it('invert(a)·a = 1 and invert(0) is refused', () => {
    fc.assert(
      fc.property(nz, (a) => {
        expect((invert(g, a) * a) % g.order).toBe(1n);
      }),
    );
    expect(() => invert(g, 0n)).toThrow(/zero/);
  });

  it('any t+1 evaluations of a degree-t polynomial interpolate its constant term (Shamir)', () => {
    fc.assert(
      fc.property(
        fc.array(nz, { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(nz, { minLength: 5, maxLength: 5 }),
        (coeffs, xs) => {
          const pts = xs.slice(0, coeffs.length);
          let acc = 0n;
          for (const x of pts) acc = (acc + lagrangeCoefficient(g, pts, x) * evalPolynomial(g, coeffs, x)) % g.order;
          expect(acc).toBe(coeffs[0]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('Lagrange coefficients refuse duplicate points and a point outside the set', () => {
    expect(() => lagrangeCoefficient(g, [1n, 1n], 1n)).toThrow(/duplicate/);
    expect(() => lagrangeCoefficient(g, [1n, 2n], 3n)).toThrow(/not in the set/);
  });
});

describe('hedged randomness', () => {
  it('a broken RNG (constant output) still yields different bytes in different contexts, and the same in the same context', async () => {
    const { hedgedRng } = await import('../../../src/tss/math/rng.js');
    const broken = (n: number) => new Uint8Array(n);
    const a = hedgedRng(broken, Uint8Array.of(1));
    const b = hedgedRng(broken, Uint8Array.of(2));
    const x = Buffer.from(a(32)).toString('hex');
    expect(Buffer.from(b(32)).toString('hex')).not.toBe(x);
    expect(Buffer.from(a(32)).toString('hex')).not.toBe(x); // a second call differs too (call counter)
    expect(Buffer.from(hedgedRng(broken, Uint8Array.of(1))(32)).toString('hex')).toBe(x);
    expect(a(100)).toHaveLength(100);
  });
});
