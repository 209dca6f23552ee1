/**
 * mpcium-compatible non-hardened HD derivation on any group (reference §4): the node side gets the
 * additive tweak for a signing session, the client side the child public key. Pure functions;
 * `frost/hd.ts` and `ecdsa/hd.ts` are its Ed25519 and secp256k1 faces.
 *
 * For each index i of the path (each must be < 2^31):
 *   I  = HMAC-SHA512(key = chainCode, data = ser33(P) ‖ BE32(i))
 *   IL = int(I[0:32]) mod n   (n = the group order; IL = 0 is refused)
 *   P  = P + IL·G,  chainCode = I[32:64],  δ = δ + IL mod n
 * ser33(P) = (0x02 | (y mod 2)) ‖ BE32(x) over the affine coordinates: BIP32's CKDpub on
 * secp256k1, mpcium's (non-standard) convention on Ed25519. The child key is P + δ·G; a share s_i
 * becomes s_i + δ and every verifying share Y_j becomes Y_j + δ·G (Lagrange coefficients sum to 1).
 */
import { createHmac } from 'node:crypto';
import { InvalidArgumentError } from '../../common/errors.js';
import { bigToBytesBE, bytesToBigBE, mod } from '../group/group.js';
import type { Group, Point } from '../group/index.js';
import { concat } from './hash.js';

/** Highest non-hardened index + 1. */
export const HARDENED_OFFSET = 0x80000000;
/** Longest accepted path (BIP32 depth is one byte). */
export const MAX_PATH_LENGTH = 255;

/** Result of a derivation: child key, total additive tweak δ, and the final chain code. */
export interface ChildKey {
  readonly publicKey: Uint8Array;
  readonly tweak: bigint;
  readonly chainCode: Uint8Array;
}

/** Validates a derivation path. Throws `InvalidArgumentError`. */
export function validatePath(path: readonly number[]): void {
  if (!Array.isArray(path)) throw new InvalidArgumentError('derivation path must be an array of indices');
  if (path.length > MAX_PATH_LENGTH) throw new InvalidArgumentError('derivation path is longer than 255 indices');
  for (const i of path) {
    if (!Number.isInteger(i) || i < 0 || i >= HARDENED_OFFSET) {
      throw new InvalidArgumentError(
        'derivation indices must be integers in [0, 2^31): hardened derivation is not possible on a threshold key',
      );
    }
  }
}

/**
 * ser33 of a point per mpcium: parity of y, then big-endian x — the standard compressed encoding
 * on secp256k1, mpcium's own convention over the Edwards affine coordinates on Ed25519. Throws
 * `InvalidArgumentError` for the identity (it has no affine coordinates).
 */
export function ser33(group: Group, p: Point): Uint8Array {
  const { x, y } = group.affine(p);
  return concat(Uint8Array.of(0x02 | Number(y & 1n)), bigToBytesBE(x, 32));
}

/**
 * Derives the child of `masterPublicKey` along `path`. Throws `InvalidArgumentError` on a bad
 * key, chain code or path, or if a step yields IL = 0 or the identity.
 */
export function deriveChild(
  group: Group,
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): ChildKey {
  if (!(chainCode instanceof Uint8Array) || chainCode.length !== 32)
    throw new InvalidArgumentError('chain code must be 32 bytes');
  validatePath(path);
  let P = group.decodePoint(masterPublicKey);
  let cc = Uint8Array.from(chainCode);
  let delta = 0n;
  for (const index of path) {
    const data = new Uint8Array(37);
    data.set(ser33(group, P), 0);
    new DataView(data.buffer).setUint32(33, index);
    const I = new Uint8Array(createHmac('sha512', cc).update(data).digest());
    const il = mod(bytesToBigBE(I.subarray(0, 32)), group.order);
    if (il === 0n) throw new InvalidArgumentError('derivation step produced a zero tweak; use another index');
    P = group.add(P, group.baseMul(il));
    if (group.isIdentity(P)) throw new InvalidArgumentError('derivation produced the identity; use another index');
    cc = I.slice(32);
    delta = mod(delta + il, group.order);
  }
  return { publicKey: group.encodePoint(P), tweak: delta, chainCode: cc };
}
