/** CLI output: JSON or human text on stdout, errors on stderr, exit codes, progress bars. */
import { SingleBar } from 'cli-progress';
import { OperationFailedError } from '../client/index.js';
import { TesseraError } from '../common/errors.js';

/**
 * Exit codes shared by every `tessera` command. The client commands add: 5 the cluster answered
 * with an error result (its mpcium code is printed), 6 no result in time, 7 a returned signature
 * does not verify.
 */
export const EXIT = {
  ok: 0,
  other: 1,
  wrongPassword: 2,
  corrupted: 3,
  locked: 4,
  operationFailed: 5,
  timeout: 6,
  signatureInvalid: 7,
  /** `tessera start`: the configuration, a key file or the NATS credentials need an operator (sysexits EX_CONFIG). */
  config: 78,
} as const;

/** The exit code for an error. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof TesseraError) {
    if (e.code === 'WRONG_PASSWORD') return EXIT.wrongPassword;
    if (e.code === 'VAULT_CORRUPTED' || e.code === 'BACKUP_CORRUPTED') return EXIT.corrupted;
    if (e.code === 'VAULT_LOCKED') return EXIT.locked;
    if (e.code === 'OPERATION_FAILED') return EXIT.operationFailed;
    if (e.code === 'TIMEOUT') return EXIT.timeout;
    if (e.code === 'SIGNATURE_INVALID') return EXIT.signatureInvalid;
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
  // an error result also carries mpcium's code, the node's reason and what it answered
  const result =
    e instanceof OperationFailedError
      ? { operation: e.operation, id: e.id, mpcium_code: e.errorCode, reason: e.reason, is_timeout: e.isTimeout }
      : {};
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message, ...result } })}\n`);
  else process.stderr.write(`tessera: ${message}\n`);
  if (process.env.TESSERA_DEBUG && e instanceof Error && !(e instanceof TesseraError))
    process.stderr.write(`${e.stack}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(
    `${JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2)}\n`,
  );
}

/**
 * A progress callback that draws a bar on stderr when it is a TTY and does nothing otherwise (nor
 * when `quiet`: JSON output). `failures` adds the count of failed items to the line.
 */
export function progressBar(
  label: string,
  opts: { quiet?: boolean; failures?: boolean } = {},
): { onProgress: (done: number, total: number, failed?: number) => void; stop: () => void } {
  if (opts.quiet || !process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total}${opts.failures ? ' ({failed} failed)' : ''}`,
    stream: process.stderr,
    clearOnComplete: true,
    hideCursor: true,
  });
  let started = false;
  return {
    onProgress(done, total, failed = 0) {
      if (!started) {
        bar.start(total, done, { failed });
        started = true;
      } else bar.update(done, { failed });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
