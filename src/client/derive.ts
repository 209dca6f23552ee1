/**
 * Client-side HD derivation (reference §4): the public key a node signs with for a derivation
 * path, computed from the wallet's master public key and the cluster's chain code — mpcium's
 * non-hardened BIP32-style CKDpub, through `tss` (the same code the nodes run). And a check of a
 * signing outcome against a public key with @noble/curves, independent of `tss`.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { KeyType } from '../api/index.js';
import { InvalidArgumentError } from '../common/errors.js';
import { ecdsa, frost } from '../tss/index.js';
import type { SignOutcome } from './outcomes.js';

/**
 * A secp256k1 public key in its 33-byte compressed encoding, from the 64-byte X‖Y a keygen result
 * carries, the 65-byte uncompressed or the 33-byte compressed SEC1 encoding. Throws
 * `InvalidArgumentError` for another length or a point not on the curve.
 */
export function compressSecp256k1PublicKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || ![33, 64, 65].includes(key.length))
    throw new InvalidArgumentError('a secp256k1 public key is 64 bytes X‖Y, 65 bytes uncompressed or 33 compressed');
  const sec1 = key.length === 64 ? Uint8Array.of(4, ...key) : key;
  try {
    return secp256k1.Point.fromBytes(sec1).toBytes(true);
  } catch {
    throw new InvalidArgumentError('the secp256k1 public key is not a point on the curve');
  }
}

/**
 * The child public key of `masterPublicKey` along `path` (indices below 2^31; hardened ones are
 * impossible on a threshold key), with the cluster's 32-byte `chainCode` (the nodes' `chain_code`).
 * secp256k1: master as X‖Y (keygen result), uncompressed or compressed; the child comes back as 33
 * bytes compressed. ed25519: 32 bytes in, 32 bytes out. Throws `InvalidArgumentError` for a bad
 * key, chain code or path.
 */
export function deriveChildPublicKey(
  keyType: KeyType,
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly number[],
): Uint8Array {
  if (keyType === 'secp256k1')
    return ecdsa.deriveChildPublicKey(compressSecp256k1PublicKey(masterPublicKey), chainCode, path);
  if (keyType === 'ed25519') return frost.deriveChildPublicKey(masterPublicKey, chainCode, path);
  throw new InvalidArgumentError('key type is secp256k1 or ed25519');
}

/**
 * True if `outcome` is a valid signature of `tx` under `publicKey` — secp256k1: (r, s) low-S over
 * the 32-byte digest `tx` and the recovery id recovers `publicKey`; ed25519: the signature of the
 * message `tx`. The public key is encoded as {@link deriveChildPublicKey} accepts it. Does not
 * throw (a malformed key or signature is `false`).
 */
export function verifySignOutcome(outcome: SignOutcome, publicKey: Uint8Array, tx: Uint8Array): boolean {
  try {
    if (outcome.keyType === 'ed25519') return ed25519.verify(outcome.signature, tx, publicKey, { zip215: false });
    const pub = compressSecp256k1PublicKey(publicKey);
    const rs = Uint8Array.of(...outcome.r, ...outcome.s);
    if (!secp256k1.verify(rs, tx, pub, { prehash: false, lowS: true, format: 'compact' })) return false;
    const recovered = secp256k1.Signature.fromBytes(rs, 'compact')
      .addRecoveryBit(outcome.recoveryId)
      .recoverPublicKey(tx)
      .toBytes(true);
    return Buffer.from(recovered).equals(pub);
  } catch {
    return false;
  }
}
