/** Ed25519 public keys of node identities as node:crypto key objects. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../../common/errors.js';

/** The key object of a raw 32-byte Ed25519 public key. Throws `InvalidArgumentError` for anything else. */
export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== 32)
    throw new InvalidArgumentError('an Ed25519 public key is 32 bytes');
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw new InvalidArgumentError('not a valid Ed25519 public key');
  }
}
