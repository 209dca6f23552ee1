/**
 * secp256k1 point helpers over `tiny-secp256k1` (libsecp256k1 compiled to WASM; its scalar
 * multiplication is constant-time). Points travel as 33-byte compressed SEC1 encodings; every
 * received point goes through `decodePoint`, which rejects anything not on the curve, the identity
 * and non-canonical encodings.
 */
import * as ecc from 'tiny-secp256k1';
import type { Rng } from '../math/rng.js';
import { MalformedMessageError } from './errors.js';

/** Length of a compressed point. */
export const POINT_LEN = 33;

/**
 * Validates a received compressed point: on the curve, not the identity, canonical; throws
 * `MalformedMessageError` blaming `from`.
 */
export function decodePoint(bytes: Uint8Array, from: string, what: string): Uint8Array {
  if (bytes.length !== POINT_LEN || (bytes[0] !== 2 && bytes[0] !== 3) || !ecc.isPoint(bytes)) {
    throw new MalformedMessageError(from, `${what} is not a valid secp256k1 point`);
  }
  return bytes;
}

/** A uniformly random secret scalar in [1, q) as 32 big-endian bytes (rejection sampling; no BigInt). */
export function randomSecretScalar(random: Rng): Uint8Array {
  for (;;) {
    const k = random(32);
    if (k.length === 32 && ecc.isPrivate(k)) return k;
    k.fill(0);
  }
}

/** k·G. */
export function baseMul(k: Uint8Array): Uint8Array {
  const p = ecc.pointFromScalar(k, true);
  if (p === null) throw new RangeError('scalar is zero or out of range');
  return p;
}

/** k·P; `null` if the result is the identity (cannot happen for k in [1,q) and a valid P). */
export function pointMul(p: Uint8Array, k: Uint8Array): Uint8Array | null {
  return ecc.pointMultiply(p, k, true);
}

/** P + R; `null` if the sum is the identity. */
export function pointAdd(p: Uint8Array, r: Uint8Array): Uint8Array | null {
  return ecc.pointAdd(p, r, true);
}

/** −k mod q for a secret scalar in [1, q). */
export function negateScalar(k: Uint8Array): Uint8Array {
  return ecc.privateNegate(k);
}
