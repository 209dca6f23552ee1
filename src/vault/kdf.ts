/**
 * Key derivation for the keyring: password → Argon2id (or a raw key as is) → HKDF-SHA256 into a
 * key-encryption key (KEK) and an independent verifier. The verifier tells a wrong password from
 * a damaged keyring without decrypting anything.
 */
import { hkdfSync } from 'node:crypto';
import sodium from 'sodium-native';
import { InvalidArgumentError } from '../common/errors.js';
import type { VaultSecret } from './secret.js';
import { type Argon2Params, DEFAULT_ARGON2 } from './types.js';

export const KDF_ARGON2ID = 1;
export const KDF_RAW_KEY = 2;
export const SALT_BYTES = 16;

/**
 * The KDF and its cost for a new secret: Argon2id (with `argon2`, default m=64 MiB, t=3) for a
 * password; none for a raw key, whose parameters are stored as zeros.
 */
export function kdfFor(secret: VaultSecret, argon2: Argon2Params | undefined): { kdf: number; argon2: Argon2Params } {
  const kdf = secret.kind === 'password' ? KDF_ARGON2ID : KDF_RAW_KEY;
  return { kdf, argon2: kdf === KDF_ARGON2ID ? (argon2 ?? DEFAULT_ARGON2) : { opsLimit: 0, memLimit: 0 } };
}

/** Key material derived from a secret for one keyring header. Zero with `wipeDerived`. */
export interface DerivedKeys {
  kek: Buffer;
  verifier: Buffer;
}

/**
 * Rejects Argon2id parameters libsodium would refuse or that are too weak to be meant.
 * @throws InvalidArgumentError naming the parameter.
 */
export function assertArgon2Params(p: Argon2Params): void {
  if (!Number.isInteger(p.opsLimit) || p.opsLimit < 1 || p.opsLimit > 64) {
    throw new InvalidArgumentError(`Argon2id iterations must be an integer from 1 to 64 (got ${p.opsLimit})`);
  }
  if (!Number.isInteger(p.memLimit) || p.memLimit < 8192 || p.memLimit > 4 * 1024 ** 3 || p.memLimit % 1024 !== 0) {
    throw new InvalidArgumentError(
      `Argon2id memory must be a multiple of 1 KiB from 8 KiB to 4 GiB (got ${p.memLimit} bytes)`,
    );
  }
}

function secure(n: number): Buffer {
  return sodium.sodium_malloc(n);
}

/**
 * Derives the KEK and verifier for a keyring header. Argon2id runs on libuv's thread pool, so the
 * event loop keeps serving while a password is stretched.
 * @throws InvalidArgumentError for bad parameters.
 */
export async function deriveKeys(
  secret: VaultSecret,
  kdf: number,
  params: Argon2Params,
  salt: Uint8Array,
  vaultId: Uint8Array,
): Promise<DerivedKeys> {
  const ikm = secure(32);
  try {
    if (kdf === KDF_ARGON2ID) {
      if (secret.kind !== 'password')
        throw new InvalidArgumentError('this vault is locked with a password; provide the password, not a key file');
      assertArgon2Params(params);
      await sodium.crypto_pwhash_async(
        ikm,
        secret.password,
        salt,
        params.opsLimit,
        params.memLimit,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
      );
    } else if (kdf === KDF_RAW_KEY) {
      if (secret.kind !== 'key')
        throw new InvalidArgumentError('this vault is locked with a raw key; provide the key file, not a password');
      ikm.set(secret.key);
    } else {
      throw new InvalidArgumentError(`unknown key derivation ${kdf}`);
    }
    const hkdfSalt = Buffer.concat([Buffer.from(salt), Buffer.from(vaultId)]);
    const kek = secure(32);
    const verifier = secure(32);
    for (const [out, info] of [
      [kek, 'tessera/keyring/kek/v1'],
      [verifier, 'tessera/keyring/verifier/v1'],
    ] as const) {
      const okm = new Uint8Array(hkdfSync('sha256', ikm, hkdfSalt, info, 32));
      out.set(okm);
      okm.fill(0);
    }
    return { kek, verifier };
  } finally {
    sodium.sodium_memzero(ikm);
  }
}

/** Zeroes derived key material. */
export function wipeDerived(d: DerivedKeys): void {
  sodium.sodium_memzero(d.kek);
  sodium.sodium_memzero(d.verifier);
}
