/**
 * Ed25519 group backed by libsodium (`sodium-native`): the fast backend.
 *
 * A point is its canonical 32-byte encoding (the identity is 0x01 00…00). Every point that enters
 * through {@link Group.decodePoint} passed `crypto_core_ed25519_is_valid_point` (canonical, on
 * the curve, in the prime-order subgroup, not of small order). libsodium's multiplications are
 * constant-time.
 */
import { createRequire } from 'node:module';
import { ed25519 } from '@noble/curves/ed25519.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { Group, Point } from './group.js';
import { scalarCodec } from './scalar-codec.js';

interface SodiumEd25519 {
  crypto_core_ed25519_is_valid_point(p: Uint8Array): boolean;
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  crypto_core_ed25519_sub(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
}
const sodium = createRequire(import.meta.url)('sodium-native') as SodiumEd25519;

const ORDER = ed25519.Point.Fn.ORDER;
const codec = scalarCodec(ORDER, 32, true);
const IDENTITY = new Uint8Array(32);
IDENTITY[0] = 1;
const BASE = ed25519.Point.BASE.toBytes();

const wrap = (p: Uint8Array): Point => p as unknown as Point;
const unwrap = (p: Point): Uint8Array => p as unknown as Uint8Array;

function isIdentityBytes(b: Uint8Array): boolean {
  if (b[0] !== 1) return false;
  for (let i = 1; i < 32; i++) if (b[i] !== 0) return false;
  return true;
}

function scalarBytes(k: bigint): Uint8Array {
  return codec.encodeScalar(k); // throws when out of range
}

function mulPoint(p: Uint8Array, k: bigint): Uint8Array {
  const n = scalarBytes(k);
  if (k === 0n || isIdentityBytes(p)) return IDENTITY;
  if (k === 1n) return p;
  const out = new Uint8Array(32);
  // Fails only for an invalid input point, which decodePoint never lets in.
  sodium.crypto_scalarmult_ed25519_noclamp(out, n, p);
  n.fill(0);
  return out;
}

/** p·k through libsodium's constant-time `crypto_scalarmult_ed25519_noclamp`, with no shortcut for k = 1. */
function mulPointSecret(p: Uint8Array, k: bigint): Uint8Array {
  const n = scalarBytes(k);
  try {
    // libsodium refuses a zero result and small-order inputs: the two degenerate cases.
    if (k === 0n || isIdentityBytes(p)) return IDENTITY;
    const out = new Uint8Array(32);
    sodium.crypto_scalarmult_ed25519_noclamp(out, n, p);
    return out;
  } finally {
    n.fill(0);
  }
}

/** The libsodium Ed25519 backend. */
export const ed25519Fast: Group = Object.freeze({
  curve: 'ed25519',
  backend: 'fast',
  order: ORDER,
  scalarLength: 32,
  pointLength: 32,
  identity: wrap(IDENTITY),
  base: wrap(BASE),
  ...codec,
  decodePoint(bytes: Uint8Array): Point {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32)
      throw new InvalidArgumentError('ed25519 point must be 32 bytes');
    if (!sodium.crypto_core_ed25519_is_valid_point(bytes)) {
      throw new InvalidArgumentError('ed25519 point is not a canonical prime-order-subgroup point');
    }
    return wrap(Uint8Array.from(bytes));
  },
  encodePoint(p: Point): Uint8Array {
    return Uint8Array.from(unwrap(p));
  },
  affine(p: Point): { x: bigint; y: bigint } {
    const b = unwrap(p);
    if (isIdentityBytes(b)) throw new InvalidArgumentError('the identity has no affine coordinates');
    return ed25519.Point.fromBytes(b).toAffine();
  },
  add(a: Point, b: Point): Point {
    const out = new Uint8Array(32);
    sodium.crypto_core_ed25519_add(out, unwrap(a), unwrap(b));
    return wrap(out);
  },
  sub(a: Point, b: Point): Point {
    const out = new Uint8Array(32);
    sodium.crypto_core_ed25519_sub(out, unwrap(a), unwrap(b));
    return wrap(out);
  },
  mul: (p: Point, k: bigint): Point => wrap(mulPoint(unwrap(p), k)),
  mulSecret: (p: Point, k: bigint): Point => wrap(mulPointSecret(unwrap(p), k)),
  baseMul(k: bigint): Point {
    const n = scalarBytes(k);
    if (k === 0n) return wrap(IDENTITY);
    const out = new Uint8Array(32);
    sodium.crypto_scalarmult_ed25519_base_noclamp(out, n);
    n.fill(0);
    return wrap(out);
  },
  multiMul(points: readonly Point[], scalars: readonly bigint[]): Point {
    if (points.length !== scalars.length) throw new InvalidArgumentError('multiMul needs as many scalars as points');
    let acc: Uint8Array = IDENTITY;
    for (let i = 0; i < points.length; i++) {
      const t = mulPoint(unwrap(points[i]!), scalars[i]!);
      const out = new Uint8Array(32);
      sodium.crypto_core_ed25519_add(out, acc, t);
      acc = out;
    }
    return wrap(acc);
  },
  equals(a: Point, b: Point): boolean {
    const x = unwrap(a);
    const y = unwrap(b);
    for (let i = 0; i < 32; i++) if (x[i] !== y[i]) return false;
    return true;
  },
  isIdentity: (p: Point): boolean => isIdentityBytes(unwrap(p)),
});
