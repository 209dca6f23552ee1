/** Parsing of the CLI's option values: every malformed value is an `InvalidArgumentError` naming the option. */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../common/errors.js';
import type { Argon2Params } from '../vault/index.js';

/** Parses a strict non-negative decimal integer option. Throws `InvalidArgumentError` otherwise. */
export function parseNat(what: string, s: string): number {
  if (!/^\d{1,15}$/.test(s))
    throw new InvalidArgumentError(`${what} must be a non-negative integer (got '${s.slice(0, 20)}')`);
  return Number(s);
}

/** Parses hex bytes (an optional 0x prefix). Throws `InvalidArgumentError` unless an even number of hex digits. */
export function parseHex(what: string, s: string): Uint8Array {
  const h = s.startsWith('0x') ? s.slice(2) : s;
  if (h.length === 0 || h.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(h))
    throw new InvalidArgumentError(`${what} must be an even number of hex digits`);
  return Buffer.from(h, 'hex');
}

/** The Argon2id cost options of a command that sets a password (`purpose` is appended to their help). Does not throw. */
export function argon2Options(c: Command, purpose = ''): Command {
  return c
    .option('--argon2-memory <MiB>', `Argon2id memory in MiB${purpose}`, '64')
    .option('--argon2-iterations <n>', `Argon2id iterations${purpose}`, '3');
}

/** The Argon2id parameters of those options. Throws `InvalidArgumentError` on a malformed value. */
export function argon2Params(o: { argon2Memory: string; argon2Iterations: string }): Argon2Params {
  return {
    memLimit: parseNat('--argon2-memory', o.argon2Memory) * 1024 * 1024,
    opsLimit: parseNat('--argon2-iterations', o.argon2Iterations),
  };
}

/** Parses a key type option (`secp256k1` or `ed25519`; `ecdsa` and `eddsa` as aliases). Throws `InvalidArgumentError` otherwise. */
export function parseKeyType(what: string, s: string): 'secp256k1' | 'ed25519' {
  if (s === 'secp256k1' || s === 'ecdsa') return 'secp256k1';
  if (s === 'ed25519' || s === 'eddsa') return 'ed25519';
  throw new InvalidArgumentError(`${what} is secp256k1 (ecdsa) or ed25519 (eddsa), not '${s.slice(0, 20)}'`);
}

/**
 * Parses a derivation path: `m/44/60/0/0/0`, `44/60/0/0/0` or `44,60,0,0,0`. Throws
 * `InvalidArgumentError` for an empty path, a hardened index (`44'`, `44h`: a threshold key has no
 * hardened children) or an index that is not a number below 2^31.
 */
export function parseDerivationPath(what: string, s: string): number[] {
  const t = s.trim();
  const body = t.startsWith('m/') ? t.slice(2) : t;
  if (body === '' || body === 'm') throw new InvalidArgumentError(`${what} is empty: give indices, e.g. m/44/60/0/0/0`);
  const parts = body.includes(',') ? body.split(',') : body.split('/');
  return parts.map((raw) => {
    const p = raw.trim();
    if (/^\d+['hH]$/.test(p))
      throw new InvalidArgumentError(
        `${what}: ${p} is hardened; a threshold key derives non-hardened children only (as mpcium), e.g. m/44/60/0/0/0`,
      );
    if (!/^\d{1,10}$/.test(p) || Number(p) >= 2 ** 31)
      throw new InvalidArgumentError(`${what}: '${p.slice(0, 20)}' is not an index below 2^31`);
    return Number(p);
  });
}

/** Parses a positive number of seconds into ms. Throws `InvalidArgumentError` otherwise. */
export function parseSeconds(what: string, s: string): number {
  if (!/^\d{1,7}(\.\d{1,3})?$/.test(s) || Number(s) <= 0)
    throw new InvalidArgumentError(`${what} is a positive number of seconds (got '${s.slice(0, 20)}')`);
  return Math.round(Number(s) * 1000);
}

/** Parses a comma-separated list of ids (blanks dropped). Throws `InvalidArgumentError` if empty or repeated. */
export function parseIdList(what: string, s: string): string[] {
  const ids = s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
  if (ids.length === 0) throw new InvalidArgumentError(`${what} names no id`);
  if (new Set(ids).size !== ids.length) throw new InvalidArgumentError(`${what} names an id twice`);
  return ids;
}
