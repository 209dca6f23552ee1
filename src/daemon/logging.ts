/**
 * Structured logs: pino (JSON lines) bound to the node's {@link Logger}. The node never puts a
 * secret in a log line; as defence in depth this binding also redacts, at any depth, every field
 * whose name says it holds one (`password`, `passphrase`, `secret`, `seed`, `token`,
 * `mnemonic`, `credentials`, any `…share` or `…key` other than a public key or a key type),
 * every string that looks like an age secret key, and it never prints raw bytes.
 */
import pino from 'pino';
import type { Logger } from '../common/log.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const REDACTED = '[redacted]';

/** Field names (lower-cased, `_`/`-` removed) that are never secrets though they say "key". */
const SAFE_NAMES = new Set(['publickey', 'pubkey', 'keytype', 'keyid', 'keys', 'ecdsapubkey', 'eddsapubkey']);
const SECRET_WORD =
  /(password|passphrase|passwd|secret|seed|token|mnemonic|credential|creds|private|privkey|sharedata|sharebytes)/;
const SECRET_VALUE = /AGE-SECRET-KEY-1[0-9A-Z]+/g;
const MAX_DEPTH = 6;

/** True if a field of this name may hold a secret. Does not throw. */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[_-]/g, '');
  if (SAFE_NAMES.has(n)) return false;
  if (SECRET_WORD.test(n)) return true;
  // `share`, `keyShare`, `…key` (but not `shares`, a count)
  return n.endsWith('key') || n.endsWith('share') || n === 'pin';
}

/** A copy of `value` with secret-named fields, secret-looking strings and raw bytes replaced. Does not throw. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(SECRET_VALUE, REDACTED);
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Map) return redact(Object.fromEntries(value), depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretName(k) ? REDACTED : redact(v, depth + 1);
  return out;
}

export interface DaemonLogger extends Logger {
  /** A logger whose lines also carry `fields` (e.g. the node name). */
  child(fields: Readonly<Record<string, unknown>>): DaemonLogger;
  /** Writes what is buffered (at shutdown). Does not throw. */
  flush(): void;
}

export interface LoggingOptions {
  /** Lowest level written (default 'info'). */
  readonly level?: LogLevel;
  /** Where lines go (default: stdout, buffered up to 4 KiB, flushed every second and at shutdown). */
  readonly destination?: pino.DestinationStream;
  /** Fields on every line. */
  readonly base?: Readonly<Record<string, unknown>>;
}

/** Parses a level name (config `tessera.log_level`, `TESSERA_LOG_LEVEL`). Returns undefined for others. Does not throw. */
export function parseLogLevel(s: string | undefined): LogLevel | undefined {
  const l = s?.trim().toLowerCase();
  return l === 'debug' || l === 'info' || l === 'warn' || l === 'error' ? l : undefined;
}

function bind(p: pino.Logger, flush: () => void): DaemonLogger {
  const at =
    (level: LogLevel) =>
    (fields: Readonly<Record<string, unknown>>, message: string): void => {
      try {
        if (!p.isLevelEnabled(level)) return;
        p[level](redact(fields, 0) as Record<string, unknown>, redact(message) as string);
      } catch {
        // a log call never throws into the node
      }
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => bind(p.child(redact(fields) as Record<string, unknown>), flush),
    flush,
  };
}

/** A pino logger (JSON lines: `level` as a name, `time` in ms, `msg`) behind the node's Logger. Does not throw. */
export function createLogger(opts: LoggingOptions = {}): DaemonLogger {
  // buffered for throughput, but never for long: a quiet node's lines (its start, a peer leaving)
  // must reach the log within a second, and a crash (SIGKILL) loses at most that second
  const destination =
    opts.destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 });
  const p = pino(
    {
      level: opts.level ?? 'info',
      base: opts.base ? (redact(opts.base) as Record<string, unknown>) : null,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.epochTime,
      messageKey: 'msg',
    },
    destination,
  );
  const flush = () => {
    try {
      const d = destination as { flushSync?: () => void };
      d.flushSync?.();
    } catch {
      // nothing buffered, or the stream is gone
    }
  };
  return bind(p, flush);
}
