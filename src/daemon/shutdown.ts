/**
 * Graceful shutdown on SIGTERM/SIGINT: the first signal runs `stop` (the daemon stops taking
 * requests, lets sessions finish within a bound, leaves the cluster, closes transports, HTTP and
 * the vault), flushes the logs and exits 0 — or 1 if `stop` failed or overran its bound; a second
 * signal while stopping flushes and exits at once (130).
 */
import type { Logger } from '../common/log.js';

/** The part of `process` this needs (a test passes an EventEmitter). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  /** Stops everything; should not throw (a throw exits 1). */
  readonly stop: () => Promise<void>;
  readonly log: Logger;
  /** Writes buffered log lines (before each exit). */
  readonly flush?: () => void;
  /** Bound on `stop` (default 45 s); then the process exits 1. */
  readonly timeoutMs?: number;
  readonly signals?: readonly NodeJS.Signals[];
  /** Default: `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Default: `process`. */
  readonly source?: SignalSource;
}

export interface ShutdownHandle {
  /** Settles once a shutdown (from a signal or `trigger`) finished, with its exit code. */
  readonly done: Promise<number>;
  /** Starts the shutdown as a signal would. Does not throw. */
  trigger(reason: string): Promise<number>;
  /** Removes the signal handlers. Does not throw. */
  dispose(): void;
}

/** Installs the handlers. Does not throw. */
export function handleShutdownSignals(opts: ShutdownOptions): ShutdownHandle {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const source = opts.source ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const flush = () => {
    try {
      opts.flush?.();
    } catch {
      // nothing more to do
    }
  };
  let running: Promise<number> | undefined;
  let settle: (code: number) => void = () => {};
  const done = new Promise<number>((r) => {
    settle = r;
  });

  const trigger = (reason: string): Promise<number> => {
    if (running) return running;
    opts.log.info({ reason, timeoutMs }, 'shutting down: no new requests, finishing those in progress');
    running = (async () => {
      let timer: NodeJS.Timeout | undefined;
      let code: number;
      try {
        const outcome = await Promise.race([
          opts.stop().then(() => 'stopped' as const),
          new Promise<'timeout'>((r) => {
            timer = setTimeout(() => r('timeout'), timeoutMs);
            timer.unref();
          }),
        ]);
        if (outcome === 'timeout') {
          opts.log.error({ timeoutMs }, 'shutdown did not finish in time; exiting anyway');
          code = 1;
        } else {
          opts.log.info({}, 'shut down');
          code = 0;
        }
      } catch (e) {
        opts.log.error({ err: (e as Error).message }, 'shutdown failed; exiting');
        code = 1;
      } finally {
        clearTimeout(timer);
      }
      flush();
      settle(code);
      exit(code);
      return code;
    })();
    return running;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      opts.log.warn({ signal }, 'second signal: exiting now without finishing the shutdown');
      flush();
      settle(130);
      exit(130);
      return;
    }
    void trigger(signal);
  };
  for (const s of signals) source.on(s, onSignal);
  return {
    done,
    trigger,
    dispose: () => {
      for (const s of signals) source.off(s, onSignal);
    },
  };
}
