/**
 * Requests refused before they were authenticated (malformed, bad signature, unknown protocol):
 * anyone who can publish can send them, so each must cost the node little. They are counted and
 * written to the audit log as one entry per operation and code per period (not one fsynced vault
 * commit each, which a flood would turn into a stalled event loop and a vault that only grows), and
 * their log lines are rate-limited (the first few per period, then a count).
 */

import type { Logger } from '../../common/log.js';
import type { AuditEvent } from '../operations/context.js';

/** How often the counts go to the audit log. */
export const TALLY_PERIOD_MS = 60_000;
/** Warn lines per period before they are only counted. */
export const WARN_LINES_PER_PERIOD = 20;

export class UnauthenticatedTally {
  private counts = new Map<string, number>();
  private warned = 0;
  private suppressed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly audit: (e: AuditEvent) => void,
    private readonly log: Logger,
    periodMs = TALLY_PERIOD_MS,
  ) {
    this.timer = setInterval(() => this.flush(), periodMs);
    this.timer.unref();
  }

  /** Counts one refused request of `action` with `errorCode`. Does not throw. */
  refused(action: 'keygen' | 'sign' | 'reshare', errorCode: string): void {
    const key = `${action}\u0000${errorCode}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** A warn line, unless this period's share is spent (then only counted). Does not throw. */
  warn(reason: string, message: string): void {
    if (this.warned < WARN_LINES_PER_PERIOD) {
      this.warned++;
      this.log.warn({ reason }, message);
    } else this.suppressed++;
  }

  /** Writes the period's counts as audit entries and resets them. Does not throw (a failing audit is logged). */
  flush(): void {
    const counts = this.counts;
    this.counts = new Map();
    if (this.suppressed > 0)
      this.log.warn({ suppressed: this.suppressed }, 'more requests were refused before authentication than logged');
    this.warned = 0;
    this.suppressed = 0;
    for (const [key, count] of counts) {
      const [action, errorCode] = key.split('\u0000') as [string, string];
      try {
        this.audit({ actor: 'unauthenticated', action, outcome: 'error', errorCode, details: { count } });
      } catch (e) {
        this.log.error(
          { err: (e as Error).message },
          'ALERT: the audit entry of refused requests could not be written',
        );
      }
    }
  }

  /** Writes what is counted and stops the timer. Does not throw. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
