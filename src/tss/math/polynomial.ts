/**
 * Polynomials over the scalar field, Feldman commitments and Lagrange coefficients.
 */
import { InvalidArgumentError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import type { Group, Point } from '../group/index.js';

/**
 * Evaluates Σ coeffs[k]·x^k (Horner) modulo the group order. Throws `InvalidArgumentError` for an
 * empty polynomial.
 */
export function evalPolynomial(group: Group, coeffs: readonly bigint[], x: bigint): bigint {
  if (coeffs.length === 0) throw new InvalidArgumentError('empty polynomial');
  let acc = 0n;
  for (let k = coeffs.length - 1; k >= 0; k--) acc = mod(acc * x + coeffs[k]!, group.order);
  return acc;
}

/** Feldman commitment [a_0·G, …, a_t·G]. Throws `InvalidArgumentError` if a coefficient is out of range. */
export function commitPolynomial(group: Group, coeffs: readonly bigint[]): Point[] {
  return coeffs.map((c) => group.baseMul(c));
}

/**
 * Evaluates a Feldman commitment at x: Σ C_k·x^k (the public image of f(x)). Does not throw for
 * points of `group` (the powers of x are reduced below the order).
 */
export function evalCommitment(group: Group, commitment: readonly Point[], x: bigint): Point {
  const powers: bigint[] = [];
  let p = 1n;
  for (let k = 0; k < commitment.length; k++) {
    powers.push(p);
    p = mod(p * x, group.order);
  }
  return group.multiMul(commitment, powers);
}

/**
 * Modular inverse (extended Euclid; variable-time — used only on public values such as
 * identifiers and Lagrange denominators). Throws `InvalidArgumentError` for 0.
 */
export function invert(group: Group, a: bigint): bigint {
  const n = group.order;
  let r0 = mod(a, n);
  if (r0 === 0n) throw new InvalidArgumentError('cannot invert zero');
  let r1 = n;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, n);
}

/**
 * Lagrange coefficient of `xi` for interpolating at `at` (default 0) over the distinct points
 * `xs`. Throws `InvalidArgumentError` if xs has duplicates or does not contain xi.
 */
export function lagrangeCoefficient(group: Group, xs: readonly bigint[], xi: bigint, at = 0n): bigint {
  if (new Set(xs).size !== xs.length) throw new InvalidArgumentError('duplicate interpolation points');
  if (!xs.includes(xi)) throw new InvalidArgumentError('interpolation point not in the set');
  let num = 1n;
  let den = 1n;
  for (const xj of xs) {
    if (xj === xi) continue;
    num = mod(num * (xj - at), group.order);
    den = mod(den * (xj - xi), group.order);
  }
  return mod(num * invert(group, den), group.order);
}
