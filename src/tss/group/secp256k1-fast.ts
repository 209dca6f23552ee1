/**
 * secp256k1 group backed by `tiny-secp256k1` (libsecp256k1 compiled to WASM): the fast backend.
 * A point is its 33-byte compressed encoding; the identity is represented internally by 33 zero
 * bytes (never a valid encoding, and refused by encodePoint/decodePoint).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as ecc from 'tiny-secp256k1';
import { InvalidArgumentError } from '../../common/errors.js';
import type { Group, Point } from './group.js';
import { scalarCodec } from './scalar-codec.js';

const ORDER = secp256k1.Point.Fn.ORDER;
const codec = scalarCodec(ORDER, 32, false);
const IDENTITY = new Uint8Array(33);
const BASE = secp256k1.Point.BASE.toBytes(true);
const wrap = (p: Uint8Array): Point => p as unknown as Point;
const unwrap = (p: Point): Uint8Array => p as unknown as Uint8Array;
const isId = (b: Uint8Array): boolean => b[0] === 0;

function mulPoint(p: Uint8Array, k: bigint): Uint8Array {
  const n = codec.encodeScalar(k);
  if (k === 0n || isId(p)) return IDENTITY;
  if (k === 1n) return p;
  const r = ecc.pointMultiply(p, n, true);
  n.fill(0);
  return r ?? IDENTITY;
}

/** p·k through libsecp256k1's constant-time `pointMultiply`, with no shortcut for k = 1. */
function mulPointSecret(p: Uint8Array, k: bigint): Uint8Array {
  const n = codec.encodeScalar(k);
  try {
    if (k === 0n || isId(p)) return IDENTITY;
    return ecc.pointMultiply(p, n, true) ?? IDENTITY;
  } finally {
    n.fill(0);
  }
}

function addPoints(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (isId(a)) return b;
  if (isId(b)) return a;
  return ecc.pointAdd(a, b, true) ?? IDENTITY;
}

function negate(a: Uint8Array): Uint8Array {
  if (isId(a)) return a;
  const r = Uint8Array.from(a);
  r[0] = a[0] === 2 ? 3 : 2;
  return r;
}

/** The tiny-secp256k1 backend. */
export const secp256k1Fast: Group = Object.freeze({
  curve: 'secp256k1',
  backend: 'fast',
  order: ORDER,
  scalarLength: 32,
  pointLength: 33,
  identity: wrap(IDENTITY),
  base: wrap(BASE),
  ...codec,
  decodePoint(bytes: Uint8Array): Point {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) {
      throw new InvalidArgumentError('secp256k1 point must be 33-byte compressed SEC1');
    }
    if (!ecc.isPoint(bytes)) throw new InvalidArgumentError('secp256k1 point is not on the curve');
    return wrap(Uint8Array.from(bytes));
  },
  encodePoint(p: Point): Uint8Array {
    const b = unwrap(p);
    if (isId(b)) throw new InvalidArgumentError('the secp256k1 identity has no encoding');
    return Uint8Array.from(b);
  },
  affine(p: Point): { x: bigint; y: bigint } {
    const b = unwrap(p);
    if (isId(b)) throw new InvalidArgumentError('the identity has no affine coordinates');
    return secp256k1.Point.fromBytes(b).toAffine();
  },
  add: (a: Point, b: Point): Point => wrap(addPoints(unwrap(a), unwrap(b))),
  sub: (a: Point, b: Point): Point => wrap(addPoints(unwrap(a), negate(unwrap(b)))),
  mul: (p: Point, k: bigint): Point => wrap(mulPoint(unwrap(p), k)),
  mulSecret: (p: Point, k: bigint): Point => wrap(mulPointSecret(unwrap(p), k)),
  baseMul(k: bigint): Point {
    const n = codec.encodeScalar(k);
    if (k === 0n) return wrap(IDENTITY);
    const r = ecc.pointFromScalar(n, true);
    n.fill(0);
    return wrap(r ?? IDENTITY);
  },
  multiMul(points: readonly Point[], scalars: readonly bigint[]): Point {
    if (points.length !== scalars.length) throw new InvalidArgumentError('multiMul needs as many scalars as points');
    let acc: Uint8Array = IDENTITY;
    for (let i = 0; i < points.length; i++) acc = addPoints(acc, mulPoint(unwrap(points[i]!), scalars[i]!));
    return wrap(acc);
  },
  equals(a: Point, b: Point): boolean {
    const x = unwrap(a);
    const y = unwrap(b);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  },
  isIdentity: (p: Point): boolean => isId(unwrap(p)),
});
