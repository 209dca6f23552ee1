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
