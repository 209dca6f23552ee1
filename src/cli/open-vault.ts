/** Opening the vault for one command: its options, then read the secret, open, wipe the secret, run, close. */
import type { Command } from 'commander';
import { Vault } from '../vault/index.js';
import { readSecret, type SecretOptions, wipeSecret } from './secret-input.js';

/** Adds the options that name a vault and its secret (`--dir`, `--password-file`, `--key-file`). Does not throw. */
export const vaultOptions = (c: Command): Command =>
  c
    .requiredOption('--dir <dir>', 'vault directory')
    .option('--password-file <file>', 'file holding the vault password (one trailing newline is ignored)')
    .option('--key-file <file>', 'file holding a raw 32-byte vault key (instead of a password)');

/**
 * Opens the vault at `opts.dir` with the secret the options name (file, environment or prompt),
 * wipes the secret, runs `fn` and closes the vault whatever happens. Throws what `readSecret`,
 * `Vault.open` and `fn` throw.
 */
export async function withVault<T>(
  opts: SecretOptions & { dir: string },
  fn: (v: Vault) => Promise<T> | T,
): Promise<T> {
  const secret = await readSecret(opts);
  let vault: Vault;
  try {
    vault = await Vault.open(opts.dir, secret);
  } finally {
    wipeSecret(secret);
  }
  try {
    return await fn(vault);
  } finally {
    vault.close();
  }
}
