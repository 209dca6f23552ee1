/**
 * Ed25519 group backed by @noble/curves (audited pure JS): the reference backend.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { Group, Point } from './group.js';
import { scalarCodec } from './scalar-codec.js';

type NP = InstanceType<typeof ed25519.Point>;
const EP = ed25519.Point;
const ORDER = EP.Fn.ORDER;

const wrap = (p: NP): Point => p as unknown as Point;
const unwrap = (p: Point): NP => p as unknown as NP;

function checkScalar(k: bigint): void {
  if (k < 0n || k >= ORDER) throw new InvalidArgumentError('scalar out of range');
}

/** The noble Ed25519 backend. */
export const ed25519Noble: Group = Object.freeze({
  curve: 'ed25519',
  backend: 'noble',
  order: ORDER,
  scalarLength: 32,
  pointLength: 32,
  identity: wrap(EP.ZERO),
  base: wrap(EP.BASE),
  ...scalarCodec(ORDER, 32, true),
  decodePoint(bytes: Uint8Array): Point {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new InvalidArgumentError('ed25519 point must be 32 bytes');
    let p: NP;
    try {
      p = EP.fromBytes(bytes, false);
      p.assertValidity();
    } catch {
      throw new InvalidArgumentError('ed25519 point is not a valid encoding of a curve point');
    }
    if (p.is0()) throw new InvalidArgumentError('ed25519 point is the identity');
    if (!p.isTorsionFree()) throw new InvalidArgumentError('ed25519 point is not in the prime-order subgroup');
    // noble decodes some non-canonical encodings; insist on the canonical one.
    const again = p.toBytes();
    for (let i = 0; i < 32; i++) if (again[i] !== bytes[i]) throw new InvalidArgumentError('ed25519 point encoding is not canonical');
    return wrap(p);
  },
  encodePoint(p: Point): Uint8Array {
    return unwrap(p).toBytes();
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
    return k === 0n ? wrap(EP.ZERO) : wrap(unwrap(p).multiply(k));
  },
  baseMul(k: bigint): Point {
    checkScalar(k);
    return k === 0n ? wrap(EP.ZERO) : wrap(EP.BASE.multiply(k));
  },
  multiMul(points: readonly Point[], scalars: readonly bigint[]): Point {
    if (points.length !== scalars.length) throw new InvalidArgumentError('multiMul needs as many scalars as points');
    let acc = EP.ZERO;
    for (let i = 0; i < points.length; i++) {
      checkScalar(scalars[i]!);
      acc = acc.add(unwrap(points[i]!).multiplyUnsafe(scalars[i]!));
    }
    return wrap(acc);
  },
  equals: (a: Point, b: Point): boolean => unwrap(a).equals(unwrap(b)),
  isIdentity: (p: Point): boolean => unwrap(p).is0(),
});
