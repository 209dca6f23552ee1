/**
 * HD derivation for Ed25519 keys (mpcium §4): `math/hd.ts` on Ed25519, where ser33 is mpcium's
 * convention over the Edwards affine coordinates.
 */
import { type Group, getGroup } from '../group/index.js';
import { type ChildKey, deriveChild as deriveOnGroup } from '../math/hd.js';

export { type ChildKey, HARDENED_OFFSET, MAX_PATH_LENGTH, validatePath } from '../math/hd.js';

/**
 * Derives the child of an Ed25519 `masterPublicKey` along `path`. Throws `InvalidArgumentError` on
 * a bad key, chain code or path, or if a step yields IL = 0 or the identity.
 */
export function deriveChild(
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
  group: Group = getGroup('ed25519'),
): ChildKey {
  return deriveOnGroup(group, masterPublicKey, chainCode, path);
}

/** Client side: the child public key (32 bytes) of a master public key. Throws `InvalidArgumentError`. */
export function deriveChildPublicKey(
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): Uint8Array {
  return deriveChild(masterPublicKey, chainCode, path).publicKey;
}
