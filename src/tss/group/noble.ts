/**
 * The reference backends: Ed25519 and secp256k1 over @noble/curves (audited pure JS), one generic
 * group over noble's point class with per-curve point encodings. Variable-time `mul`/`multiMul`
 * (noble's `multiplyUnsafe`) for public scalars; `mulSecret` and `baseMul` use noble's
 * constant-time `multiply`.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { CurveName, Group, Point } from './group.js';
import { scalarCodec } from './scalar-codec.js';

/** What the generic backend needs of a noble point. */
interface NoblePoint<P> {
  add(other: P): P;
  subtract(other: P): P;
  multiply(k: bigint): P;
  multiplyUnsafe(k: bigint): P;
  equals(other: P): boolean;
  is0(): boolean;
  toAffine(): { x: bigint; y: bigint };
}

/** A curve's noble point class and encodings. */
interface NobleCurve<P extends NoblePoint<P>> {
  readonly curve: CurveName;
  readonly zero: P;
  readonly base: P;
  readonly order: bigint;
  readonly pointLength: number;
  readonly scalarLittleEndian: boolean;
  /**
   * Decodes and validates a point (on the curve, prime-order subgroup, not the identity,
   * canonical); throws `InvalidArgumentError`.
   */
  decode(bytes: Uint8Array): P;
  /** Encodes a point; throws `InvalidArgumentError` for a point without an encoding. */
  encode(p: P): Uint8Array;
}

function nobleGroup<P extends NoblePoint<P>>(c: NobleCurve<P>): Group {
  const wrap = (p: P): Point => p as unknown as Point;
  const unwrap = (p: Point): P => p as unknown as P;
  const checkScalar = (k: bigint): void => {
    if (k < 0n || k >= c.order) throw new InvalidArgumentError('scalar out of range');
  };
  return Object.freeze({
    curve: c.curve,
    backend: 'noble',
    order: c.order,
    scalarLength: 32,
    pointLength: c.pointLength,
    identity: wrap(c.zero),
    base: wrap(c.base),
    ...scalarCodec(c.order, 32, c.scalarLittleEndian),
    decodePoint: (bytes: Uint8Array): Point => wrap(c.decode(bytes)),
    encodePoint: (p: Point): Uint8Array => c.encode(unwrap(p)),
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
      return k === 0n ? wrap(c.zero) : wrap(unwrap(p).multiply(k));
    },
    baseMul(k: bigint): Point {
      checkScalar(k);
      return k === 0n ? wrap(c.zero) : wrap(c.base.multiply(k));
    },
    multiMul(points: readonly Point[], scalars: readonly bigint[]): Point {
      if (points.length !== scalars.length) throw new InvalidArgumentError('multiMul needs as many scalars as points');
      let acc = c.zero;
      for (let i = 0; i < points.length; i++) {
        checkScalar(scalars[i]!);
        acc = acc.add(unwrap(points[i]!).multiplyUnsafe(scalars[i]!));
      }
      return wrap(acc);
    },
    equals: (a: Point, b: Point): boolean => unwrap(a).equals(unwrap(b)),
    isIdentity: (p: Point): boolean => unwrap(p).is0(),
  });
}

type EdPoint = InstanceType<typeof ed25519.Point>;
type SecPoint = InstanceType<typeof secp256k1.Point>;

/** The noble Ed25519 backend: 32-byte points, little-endian scalars. */
export const ed25519Noble: Group = nobleGroup<EdPoint>({
  curve: 'ed25519',
  zero: ed25519.Point.ZERO,
  base: ed25519.Point.BASE,
  order: ed25519.Point.Fn.ORDER,
  pointLength: 32,
  scalarLittleEndian: true,
  decode(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32)
      throw new InvalidArgumentError('ed25519 point must be 32 bytes');
    let p: EdPoint;
    try {
      p = ed25519.Point.fromBytes(bytes, false);
      p.assertValidity();
    } catch {
      throw new InvalidArgumentError('ed25519 point is not a valid encoding of a curve point');
    }
    if (p.is0()) throw new InvalidArgumentError('ed25519 point is the identity');
    if (!p.isTorsionFree()) throw new InvalidArgumentError('ed25519 point is not in the prime-order subgroup');
    // noble decodes some non-canonical encodings; insist on the canonical one.
    const again = p.toBytes();
    for (let i = 0; i < 32; i++)
      if (again[i] !== bytes[i]) throw new InvalidArgumentError('ed25519 point encoding is not canonical');
    return p;
  },
  encode: (p) => p.toBytes(),
});

/** The noble secp256k1 backend: 33-byte compressed SEC1 points (the identity has no encoding), big-endian scalars. */
export const secp256k1Noble: Group = nobleGroup<SecPoint>({
  curve: 'secp256k1',
  zero: secp256k1.Point.ZERO,
  base: secp256k1.Point.BASE,
  order: secp256k1.Point.Fn.ORDER,
  pointLength: 33,
  scalarLittleEndian: false,
  decode(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 33 || (bytes[0] !== 2 && bytes[0] !== 3)) {
      throw new InvalidArgumentError('secp256k1 point must be 33-byte compressed SEC1');
    }
    try {
      const p = secp256k1.Point.fromBytes(bytes);
      p.assertValidity();
      return p;
    } catch {
      throw new InvalidArgumentError('secp256k1 point is not on the curve');
    }
  },
  encode(p) {
    if (p.is0()) throw new InvalidArgumentError('the secp256k1 identity has no encoding');
    return p.toBytes(true);
  },
});
