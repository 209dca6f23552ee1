/**
 * secp256k1 scalars (integers mod the group order q) as used by this layer.
 *
 * NOT CONSTANT-TIME: scalars are JS BigInts. BigInt arithmetic has data-dependent timing and
 * BigInts cannot be wiped from memory; docs/ecdsa.md lists where secrets pass through BigInt.
 * Secrets are held as Uint8Array where practical and converted only for arithmetic.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { mod as modN } from '../group/group.js';

/** The order of secp256k1's group. */
export const Q: bigint = secp256k1.Point.Fn.ORDER;

/** Reduces a byte string (big-endian, e.g. 48 or 64 bytes of hash output) modulo q. */
export function reduceWide(bytes: Uint8Array): bigint {
  return bytesToBigInt(bytes) % Q;
}

/** Big-endian bytes to a non-negative BigInt. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length % 8 === 0) {
    const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let x = 0n;
    for (let i = 0; i < bytes.length; i += 8) x = (x << 64n) | d.getBigUint64(i, false);
    return x;
  }
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
}

/** Decodes 32 big-endian bytes as an integer; `undefined` if the value is not below q. */
export function decodeScalar(bytes: Uint8Array): bigint | undefined {
  if (bytes.length !== 32) return undefined;
  const x = bytesToBigInt(bytes);
  return x < Q ? x : undefined;
}

/** Encodes a scalar in [0, q) as 32 big-endian bytes. */
export function encodeScalar(x: bigint): Uint8Array {
  if (x < 0n || x >= Q) throw new RangeError('scalar out of range');
  return new Uint8Array(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
}

/** x mod q in [0, q): the group layer's `mod` with secp256k1's order. */
export function mod(x: bigint): bigint {
  return modN(x, Q);
}
