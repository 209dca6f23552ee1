/** CLI output: JSON or human text on stdout, errors on stderr, exit codes, progress bars. */
import { SingleBar } from 'cli-progress';
import { TesseraError } from '../common/errors.js';

/** Exit codes shared by every `tessera` command. */
export const EXIT = { ok: 0, other: 1, wrongPassword: 2, corrupted: 3, locked: 4 } as const;

/** The exit code for an error. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof TesseraError) {
    if (e.code === 'WRONG_PASSWORD') return EXIT.wrongPassword;
    if (e.code === 'VAULT_CORRUPTED' || e.code === 'BACKUP_CORRUPTED') return EXIT.corrupted;
    if (e.code === 'VAULT_LOCKED') return EXIT.locked;
  }
  return EXIT.other;
}

/** Prints an error for a person (or as JSON) without a stack trace or any secret. */
export function reportError(e: unknown, json: boolean): void {
  const code = e instanceof TesseraError ? e.code : 'INTERNAL';
  const message =
    e instanceof TesseraError
      ? e.message
      : `unexpected failure: ${e instanceof Error ? e.message : String(e)} (this is a bug; please report it)`;
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`tessera: ${message}\n`);
  if (process.env.TESSERA_DEBUG && e instanceof Error && !(e instanceof TesseraError))
    process.stderr.write(`${e.stack}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2)}\n`,
  );
}

/** A progress callback that draws a bar on a TTY and does nothing otherwise. */
export function progressBar(label: string): { onProgress: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total}`,
    stream: process.stderr,
    clearOnComplete: true,
    hideCursor: true,
  });
  let started = false;
  return {
    onProgress(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
