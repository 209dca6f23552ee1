/**
 * The keyring on disk: two identical copies (`keyring`, `keyring.bak`), each replaced atomically.
 * Unlocking reads both, tells a wrong secret from a damaged file, and picks the newest copy the
 * secret opens. Either copy alone opens the vault, so one damaged file loses nothing.
 */

import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoError, NotFoundError, VaultCorruptedError, WrongPasswordError } from '../common/errors.js';
import { writeFileAtomic } from '../common/fs.js';
import { type DerivedKeys, deriveKeys, wipeDerived } from './kdf.js';
import {
  type KeyringBody,
  KeyringFormatError,
  type KeyringHeader,
  openKeyring,
  parseKeyring,
  type SealedKeyring,
  sealKeyring,
} from './keyring-format.js';
import type { VaultSecret } from './secret.js';

export const KEYRING_FILES = ['keyring', 'keyring.bak'] as const;

/** The outcome of a successful unlock. The caller owns (and wipes) `body` and `derived`. */
export interface UnlockedKeyring {
  header: KeyringHeader;
  body: KeyringBody;
  derived: DerivedKeys;
  /** Copies that are missing, damaged or older than the one used; a rewrite repairs them. */
  issues: string[];
}

/** True if `dir` holds at least one keyring copy. */
export function keyringExists(dir: string): boolean {
  return KEYRING_FILES.some((f) => existsSync(join(dir, f)));
}

/**
 * Unlocks the keyring of the vault in `dir` with `secret`.
 * @throws NotFoundError if there is no keyring; WrongPasswordError if a readable copy exists and
 *   the secret opens none; VaultCorruptedError('keyring') if no copy is readable or the one the
 *   secret matches fails authentication; IoError on read failures.
 */
export async function unlockKeyring(dir: string, secret: VaultSecret): Promise<UnlockedKeyring> {
  const issues: string[] = [];
  const parsed: { name: string; sealed: SealedKeyring }[] = [];
  for (const name of KEYRING_FILES) {
    const path = join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        issues.push(`${name}: missing`);
        continue;
      }
      throw new IoError(`reading ${path}`, e);
    }
    try {
      parsed.push({ name, sealed: parseKeyring(bytes) });
    } catch (e) {
      if (!(e instanceof KeyringFormatError)) throw e;
      issues.push(`${name}: damaged (${e.message})`);
    }
  }
  if (parsed.length === 0) {
    if (issues.every((i) => i.endsWith('missing')))
      throw new NotFoundError(`vault keyring in ${dir}`, 'create the vault with `tessera vault init` or check --dir');
    throw new VaultCorruptedError('keyring', dir, `no readable keyring copy (${issues.join('; ')})`);
  }
  parsed.sort((a, b) => b.sealed.header.generation - a.sealed.header.generation);
  const newest = parsed[0]!.sealed.header.generation;
  let authFailure: string | undefined;
  let lastKdfError: unknown; // a secret of the wrong kind for a copy's KDF
  const cache = new Map<string, DerivedKeys>();
  try {
    for (const { name, sealed } of parsed) {
      const h = sealed.header;
      const cacheKey =
        `${h.kdf}:${h.argon2.opsLimit}:${h.argon2.memLimit}:` +
        `${Buffer.from(h.salt).toString('hex')}:${Buffer.from(h.vaultId).toString('hex')}`;
      let derived = cache.get(cacheKey);
      if (!derived) {
        try {
          derived = await deriveKeys(secret, h.kdf, h.argon2, h.salt, h.vaultId);
        } catch (e) {
          lastKdfError = e;
          continue;
        }
        cache.set(cacheKey, derived);
      }
      if (!timingSafeEqual(derived.verifier, h.verifier)) continue;
      let body: KeyringBody;
      try {
        body = openKeyring(sealed, derived.kek);
      } catch (e) {
        authFailure = `${name}: ${(e as Error).message}`;
        issues.push(`${name}: damaged (${(e as Error).message})`);
        continue;
      }
      for (const other of parsed) {
        if (other.name !== name && other.sealed.header.generation < newest)
          issues.push(`${other.name}: older generation`);
      }
      if (h.generation < newest) issues.push(`${name}: opened an older generation than the newest copy`);
      cache.delete(cacheKey);
      return { header: copyHeader(h), body, derived, issues: [...new Set(issues)] };
    }
  } finally {
    for (const d of cache.values()) wipeDerived(d);
  }
  if (authFailure)
    throw new VaultCorruptedError(
      'keyring',
      dir,
      `the keyring matches the secret but fails authentication (${authFailure})`,
    );
  if (lastKdfError && parsed.every((p) => p.sealed.header.kdf !== (secret.kind === 'password' ? 1 : 2))) {
    // A password for a key-locked vault (or the reverse) is a wrong secret, with a precise hint.
    throw new WrongPasswordError(
      secret.kind === 'password'
        ? 'this vault is locked with a raw key, not a password; provide the key file (--key-file) or TESSERA_VAULT_KEY'
        : 'this vault is locked with a password, not a raw key; provide ' +
            'the password file (--password-file) or TESSERA_VAULT_PASSWORD',
    );
  }
  throw new WrongPasswordError();
}

function copyHeader(h: KeyringHeader): KeyringHeader {
  return {
    vaultId: Uint8Array.from(h.vaultId),
    kdf: h.kdf,
    argon2: { ...h.argon2 },
    salt: Uint8Array.from(h.salt),
    generation: h.generation,
    verifier: Uint8Array.from(h.verifier),
  };
}

/**
 * Writes the keyring to both copies, one after the other, each atomically (temp file, fsync,
 * rename, fsync directory). At every instant at least one copy holds a complete keyring.
 * @throws IoError if a write fails.
 */
export function writeKeyring(dir: string, header: KeyringHeader, body: KeyringBody, kek: Uint8Array): void {
  const file = sealKeyring(header, body, kek);
  for (const name of KEYRING_FILES) writeFileAtomic(join(dir, name), file);
}
