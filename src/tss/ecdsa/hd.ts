/**
 * mpcium-compatible non-hardened HD derivation for threshold ECDSA keys (reference §4): the
 * formula of `math/hd.ts` (`deriveChild`) on secp256k1, where ser33 is the standard compressed
 * encoding, i.e. BIP32's public child derivation CKDpub. A signing session applies the total
 * tweak δ additively: Σ sk_i = x + δ, child key PK + δ·G.
 */

import { ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { getGroup } from '../group/index.js';
import { deriveChild, validatePath } from '../math/hd.js';

/** A derivation request: the cluster chain code and a path of non-hardened indices. */
export interface EcdsaDerivation {
  readonly chainCode: Uint8Array;
  readonly path: readonly number[];
}

/**
 * Tweak δ, child key and the canonical encoding of the request (bound into the signing context).
 * Throws `InvalidArgumentError`.
 */
export function deriveTweak(
  masterPublicKey: Uint8Array,
  derivation?: EcdsaDerivation,
): { tweak: bigint; publicKey: Uint8Array; encoded: Uint8Array } {
  if (derivation === undefined)
    return { tweak: 0n, publicKey: Uint8Array.from(masterPublicKey), encoded: new Uint8Array(0) };
  if (!(derivation.chainCode instanceof Uint8Array) || derivation.chainCode.length !== 32)
    throw new InvalidArgumentError('chain code must be 32 bytes');
  validatePath(derivation.path);
  const child = deriveChild(getGroup('secp256k1'), masterPublicKey, derivation.chainCode, derivation.path);
  const w = new ByteWriter().raw(derivation.chainCode).u16(derivation.path.length);
  for (const i of derivation.path) w.u32(i);
  return { tweak: child.tweak, publicKey: child.publicKey, encoded: w.finish() };
}

/** Client side: the 33-byte compressed child public key of a master key. Throws `InvalidArgumentError`. */
export function deriveEcdsaChildPublicKey(
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): Uint8Array {
  return deriveChild(getGroup('secp256k1'), masterPublicKey, chainCode, path).publicKey;
}
