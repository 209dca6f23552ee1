/**
 * Periodic backups for the node (mpcium's `backup_period_seconds`): one run per interval, never
 * two at once, a new full chain after `maxIncrementals` incrementals, retention after each run.
 * The clock is injectable so tests drive it without waiting.
 */
import { InvalidArgumentError } from '../common/errors.js';
import type { ChangeFeed } from '../vault/index.js';
import { listBackupDir } from './files.js';
import { type RunBackupOptions, type RunBackupResult, runBackup } from './writer.js';

/** The timer functions the scheduler uses (defaults: the real ones). */
export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SchedulerOptions extends Omit<RunBackupOptions, 'mode' | 'now'> {
  /** Seconds between runs (mpcium's backup_period_seconds). */
  periodSeconds: number;
  /** Start a new chain (full backup) after this many incrementals (default 48). */
  maxIncrementals?: number;
  clock?: SchedulerClock;
  onResult?: (r: RunBackupResult) => void;
  /** A failed run is reported here; the scheduler keeps going. */
  onError?: (e: unknown) => void;
}

export class BackupScheduler {
  private timer: unknown = null;
  private running: Promise<RunBackupResult | null> | null = null;
  private stopped = true;
  private readonly clock: SchedulerClock;
  /** Runs finished and failed since start (for status and tests). */
  runs = 0;
  failures = 0;

  constructor(
    private readonly vault: ChangeFeed,
    private readonly opts: SchedulerOptions,
  ) {
    if (!Number.isFinite(opts.periodSeconds) || opts.periodSeconds <= 0)
      throw new InvalidArgumentError('backup period must be a positive number of seconds');
    if (opts.maxIncrementals !== undefined && (!Number.isInteger(opts.maxIncrementals) || opts.maxIncrementals < 0))
      throw new InvalidArgumentError('maxIncrementals must be a non-negative integer');
    this.clock = opts.clock ?? realClock;
  }

  /** Starts the schedule: the first run after one period. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.runNow().finally(() => this.arm());
    }, this.opts.periodSeconds * 1000);
  }

  /** Runs one backup now (or joins the run in progress). Never throws; errors go to onError. */
  runNow(): Promise<RunBackupResult | null> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const r = await runBackup(this.vault, { ...this.opts, mode: this.chooseMode(), now: () => this.clock.now() });
        this.runs++;
        this.opts.onResult?.(r);
        return r;
      } catch (e) {
        this.failures++;
        this.opts.onError?.(e);
        return null;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private chooseMode(): 'auto' | 'full' {
    const max = this.opts.maxIncrementals ?? 48;
    try {
      const tag = this.vault.id.slice(0, 16);
      const mine = listBackupDir(this.opts.outDir).backups.filter((b) => b.vaultTag === tag);
      const last = mine.at(-1);
      // Nothing changed: 'auto' writes nothing rather than a redundant full.
      if (!last || this.vault.changesSince(this.vault.backupWatermark, 1).length === 0) return 'auto';
      const incrementals = mine.filter((b) => b.chain === last.chain && b.kind === 'incremental').length;
      return incrementals >= max ? 'full' : 'auto';
    } catch {
      return 'auto';
    }
  }

  /** Resolves when no run is in progress. */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }
}
