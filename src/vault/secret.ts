/**
 * What unlocks a vault: a password (stretched with Argon2id) or a raw 32-byte key (e.g. held in a
 * KMS, used as is). The bytes belong to the caller, who zeroes them after the call returns.
 */
import { InvalidArgumentError } from '../common/errors.js';

export type VaultSecret = { kind: 'password'; password: Uint8Array } | { kind: 'key'; key: Uint8Array };

export const RAW_KEY_BYTES = 32;
/** Passwords are bounded so that a mistaken file (a whole disk image, say) fails clearly. */
export const MAX_PASSWORD_BYTES = 4096;

/**
 * Checks a secret's shape.
 * @throws InvalidArgumentError for an empty or oversized password or a key that is not 32 bytes.
 */
export function assertSecret(secret: VaultSecret): void {
  if (secret.kind === 'password') {
    if (secret.password.length === 0)
      throw new InvalidArgumentError('the vault password is empty; provide a non-empty password');
    if (secret.password.length > MAX_PASSWORD_BYTES) {
      throw new InvalidArgumentError(
        `the vault password is longer than ${MAX_PASSWORD_BYTES} bytes; is the password file the right file?`,
      );
    }
  } else if (secret.key.length !== RAW_KEY_BYTES) {
    throw new InvalidArgumentError(
      `a vault key must be exactly ${RAW_KEY_BYTES} raw bytes (got ` +
        `${secret.key.length}); write the key as raw bytes, not hex or base64`,
    );
  }
}
