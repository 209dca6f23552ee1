/**
 * The small group interface every threshold protocol in `tss` is written against.
 *
 * Scalars are bigints reduced modulo the group order. Points are opaque values owned by one
 * backend: a point from one backend must never be handed to another. Points that come from the
 * outside world enter only through {@link Group.decodePoint}, which validates them once; the
 * protocols keep the decoded value and never re-validate it.
 *
 * JS BigInt arithmetic is not constant-time and BigInt values cannot be wiped; see docs/tss.md.
 */

/** Opaque group element. Only the backend that produced it may consume it. */
export interface Point {
  readonly __groupPoint: unique symbol;
}

/** Names of the curves Tessera uses. */
export type CurveName = 'ed25519' | 'secp256k1';
/** Names of the arithmetic backends. */
export type BackendName = 'noble' | 'fast';

/** A prime-order group with its scalar field. */
export interface Group {
  readonly curve: CurveName;
  readonly backend: BackendName;
  /** Prime order of the group (and modulus of the scalar field). */
  readonly order: bigint;
  /** Length in bytes of an encoded scalar. */
  readonly scalarLength: number;
  /** Length in bytes of an encoded (compressed) point. */
  readonly pointLength: number;
  /** The neutral element. */
  readonly identity: Point;
  /** The standard generator. */
  readonly base: Point;

  /**
   * Canonical encoding of a scalar (little-endian for ed25519, big-endian for secp256k1). Throws
   * `InvalidArgumentError` if out of range.
   */
  encodeScalar(s: bigint): Uint8Array;
  /** Decodes a canonical scalar. Throws `InvalidArgumentError` on a wrong length or a value ≥ order. */
  decodeScalar(bytes: Uint8Array): bigint;
  /** Interprets bytes as an integer in the curve's scalar byte order and reduces it modulo the order. */
  reduceBytes(bytes: Uint8Array): bigint;

  /**
   * Decodes and validates a point received from outside: canonical encoding, on the curve, in the
   * prime-order subgroup, not the identity. Throws `InvalidArgumentError` otherwise.
   */
  decodePoint(bytes: Uint8Array): Point;
  /**
   * Canonical compressed encoding. Throws `InvalidArgumentError` for the identity on secp256k1 (it
   * has no encoding).
   */
  encodePoint(p: Point): Uint8Array;
  /** Affine coordinates (used by HD derivation's ser33). Throws `InvalidArgumentError` for the identity. */
  affine(p: Point): { x: bigint; y: bigint };

  /** a + b. Does not throw for points of this backend. */
  add(a: Point, b: Point): Point;
  /** a − b. Does not throw for points of this backend. */
  sub(a: Point, b: Point): Point;
  /**
   * p·k for **public** k only: variable-time on the noble backends (`multiplyUnsafe`) and it
   * skips work for k = 0 and 1 on every backend. Never pass a secret scalar — use
   * {@link Group.mulSecret}. Throws `InvalidArgumentError` unless k is in [0, order).
   */
  mul(p: Point, k: bigint): Point;
  /**
   * p·k for a **secret** scalar k (p may be public): constant-time scalar multiplication in every
   * backend — libsecp256k1 `pointMultiply` (tiny-secp256k1) and libsodium
   * `crypto_scalarmult_ed25519_noclamp` on the fast backends, noble's constant-time `multiply`
   * (not `multiplyUnsafe`) on the noble backends. Only k = 0 and p = identity (degenerate
   * cases, which these libraries refuse) branch. The scalar's byte encoding is wiped; the BigInt
   * itself cannot be (docs/tss.md §7). Same result as `mul`. Throws `InvalidArgumentError` unless
   * k is in [0, order).
   */
  mulSecret(p: Point, k: bigint): Point;
  /**
   * G·k for a secret k: constant-time in every backend (libsecp256k1, libsodium, noble's
   * `multiply`). Throws `InvalidArgumentError` unless k is in [0, order).
   */
  baseMul(k: bigint): Point;
  /**
   * Σ points[i]·scalars[i] over public data. Throws `InvalidArgumentError` on length mismatch or a
   * scalar out of range.
   */
  multiMul(points: readonly Point[], scalars: readonly bigint[]): Point;
  equals(a: Point, b: Point): boolean;
  isIdentity(p: Point): boolean;
}

/** Reduces x modulo m into [0, m). */
export function mod(x: bigint, m: bigint): bigint {
  const r = x % m;
  return r < 0n ? r + m : r;
}

/** Little-endian bytes → bigint. */
export function bytesToBigLE(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

/** Big-endian bytes → bigint. */
export function bytesToBigBE(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = 0; i < b.length; i++) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

/** bigint → fixed-length little-endian bytes (x must fit). */
export function bigToBytesLE(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = x;
  for (let i = 0; i < len; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** bigint → fixed-length big-endian bytes (x must fit). */
export function bigToBytesBE(x: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let v = x;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
