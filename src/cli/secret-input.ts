import { InvalidArgumentError } from '../common/errors.js';
import { readSecretFile, trimNewline } from '../common/secret-file.js';
import type { VaultSecret } from '../vault/index.js';

export interface SecretOptions {
  passwordFile?: string;
  keyFile?: string;
}

/** Reads a password without echo from the controlling terminal. */
export async function promptHidden(question: string): Promise<Buffer> {
  const stdin = process.stdin;
  if (!stdin.isTTY)
    throw new InvalidArgumentError(
      'no secret given: use --password-file, --key-file, TESSERA_VAULT_PASSWORD or run on a terminal',
    );
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  const chunks: number[] = [];
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const onData = (d: Buffer) => {
        for (const c of d) {
          if (c === 0x0d || c === 0x0a) {
            stdin.off('data', onData);
            process.stderr.write('\n');
            resolve(Buffer.from(chunks));
            return;
          }
          if (c === 0x03) {
            stdin.off('data', onData);
            reject(new InvalidArgumentError('cancelled'));
            return;
          }
          if (c === 0x7f || c === 0x08) chunks.pop();
          else chunks.push(c);
        }
        d.fill(0);
      };
      stdin.on('data', onData);
    });
  } finally {
    chunks.fill(0);
    stdin.setRawMode(false);
    stdin.pause();
  }
}

/**
 * Resolves the vault secret from options, environment or a prompt.
 * @throws InvalidArgumentError for conflicting or malformed inputs (a key file that is not 32
 *   bytes, a bad TESSERA_VAULT_KEY); IoError for an unreadable file.
 */
export async function readSecret(opts: SecretOptions, prompt = 'Vault password: '): Promise<VaultSecret> {
  if (opts.passwordFile && opts.keyFile)
    throw new InvalidArgumentError('give either --password-file or --key-file, not both');
  if (opts.keyFile) {
    const key = readSecretFile(opts.keyFile, 'key file');
    if (key.length !== 32) {
      key.fill(0);
      throw new InvalidArgumentError(
        `the key file ${opts.keyFile} must hold exactly 32 raw bytes (it holds ` +
          `${key.length}); generate one with \`head -c 32 /dev/urandom > key\``,
      );
    }
    return { kind: 'key', key };
  }
  if (opts.passwordFile)
    return { kind: 'password', password: trimNewline(readSecretFile(opts.passwordFile, 'password file')) };
  const envKey = process.env.TESSERA_VAULT_KEY;
  if (envKey) {
    if (!/^[0-9a-fA-F]{64}$/.test(envKey))
      throw new InvalidArgumentError('TESSERA_VAULT_KEY must be 64 hexadecimal characters (32 bytes)');
    return { kind: 'key', key: Buffer.from(envKey, 'hex') };
  }
  const envPw = process.env.TESSERA_VAULT_PASSWORD;
  if (envPw) return { kind: 'password', password: Buffer.from(envPw, 'utf8') };
  return { kind: 'password', password: await promptHidden(prompt) };
}

/** Zeroes the bytes of a secret. */
export function wipeSecret(s: VaultSecret): void {
  if (s.kind === 'password') s.password.fill(0);
  else s.key.fill(0);
}
