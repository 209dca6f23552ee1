/**
 * secp256k1 group backed by @noble/curves: the reference backend. Points encode as 33-byte
 * compressed SEC1; the identity has no encoding.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { Group, Point } from './group.js';
import { scalarCodec } from './scalar-codec.js';

type NP = InstanceType<typeof secp256k1.Point>;
const SP = secp256k1.Point;
const ORDER = SP.Fn.ORDER;
const wrap = (p: NP): Point => p as unknown as Point;
const unwrap = (p: Point): NP => p as unknown as NP;

function checkScalar(k: bigint): void {
  if (k < 0n || k >= ORDER) throw new InvalidArgumentError('scalar out of range');
}

/** The noble secp256k1 backend. */
export const secp256k1Noble: Group = Object.freeze({
  curve: 'secp256k1',
  backend: 'noble',
  order: ORDER,
  scalarLength: 32,
  pointLength: 33,
  identity: wrap(SP.ZERO),
  base: wrap(SP.BASE),
  ...scalarCodec(ORDER, 32, false),
  decodePoint(bytes: Uint8Array): Point {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) {
      throw new InvalidArgumentError('secp256k1 point must be 33-byte compressed SEC1');
    }
    try {
      const p = SP.fromBytes(bytes);
      p.assertValidity();
      return wrap(p);
    } catch {
      throw new InvalidArgumentError('secp256k1 point is not on the curve');
    }
  },
  encodePoint(p: Point): Uint8Array {
    const q = unwrap(p);
    if (q.is0()) throw new InvalidArgumentError('the secp256k1 identity has no encoding');
    return q.toBytes(true);
  },
  affine(p: Point): { x: bigint; y: bigint } {
    const q = unwrap(p);
    if (q.is0()) throw new InvalidArgumentError('the identity has no affine coordinates');
    return q.toAffine();
  },
  add: (a: Point, b: Point): Point => wrap(unwrap(a).add(unwrap(b))),
  sub: (a: Point, b: Point): Point => wrap(unwrap(a).subtract(unwrap(b))),
  mul(p: Point, k: bigint): Point {
    checkScalar(k);
    return wrap(unwrap(p).multiplyUnsafe(k));
  },
  mulSecret(p: Point, k: bigint): Point {
    checkScalar(k);
    // noble's constant-time ladder; it refuses k = 0 (degenerate: the identity).
    return k === 0n ? wrap(SP.ZERO) : wrap(unwrap(p).multiply(k));
  },
  baseMul(k: bigint): Point {
    checkScalar(k);
    return k === 0n ? wrap(SP.ZERO) : wrap(SP.BASE.multiply(k));
  },
  multiMul(points: readonly Point[], scalars: readonly bigint[]): Point {
    if (points.length !== scalars.length) throw new InvalidArgumentError('multiMul needs as many scalars as points');
    let acc = SP.ZERO;
    for (let i = 0; i < points.length; i++) {
      checkScalar(scalars[i]!);
      acc = acc.add(unwrap(points[i]!).multiplyUnsafe(scalars[i]!));
    }
    return wrap(acc);
  },
  equals: (a: Point, b: Point): boolean => unwrap(a).equals(unwrap(b)),
  isIdentity: (p: Point): boolean => unwrap(p).is0(),
});
