import { describe, expect, it } from 'vitest';
import { UnauthenticatedTally, WARN_LINES_PER_PERIOD } from '../../../src/node/requests/unauthenticated-tally.js';

describe('requests refused before authentication', () => {
  it('cost one audit entry per operation and code per period, with their count, and a bounded number of log lines', () => {
    const audits: Record<string, unknown>[] = [];
    const warns: unknown[] = [];
    const log = { debug() {}, info() {}, warn: (f: unknown) => warns.push(f), error() {} };
    const t = new UnauthenticatedTally((e) => audits.push(e as never), log, 3_600_000);
    for (let i = 0; i < 10_000; i++) {
      t.refused('sign', i % 2 ? 'ERROR_UNMARSHAL_FAILURE' : 'ERROR_INVALID_INITIATOR_SIGNATURE');
      t.warn('bad', 'dropped');
    }
    t.refused('reshare', 'ERROR_UNMARSHAL_FAILURE');
    expect(audits).toEqual([]);
    expect(warns.length).toBe(WARN_LINES_PER_PERIOD);
    t.flush();
    expect(audits).toEqual([
      {
        actor: 'unauthenticated',
        action: 'sign',
        outcome: 'error',
        errorCode: 'ERROR_INVALID_INITIATOR_SIGNATURE',
        details: { count: 5000 },
      },
      {
        actor: 'unauthenticated',
        action: 'sign',
        outcome: 'error',
        errorCode: 'ERROR_UNMARSHAL_FAILURE',
        details: { count: 5000 },
      },
      {
        actor: 'unauthenticated',
        action: 'reshare',
        outcome: 'error',
        errorCode: 'ERROR_UNMARSHAL_FAILURE',
        details: { count: 1 },
      },
    ]);
    // the suppressed lines are reported as a count; a new period logs again
    expect(warns.at(-1)).toEqual({ suppressed: 10_000 - WARN_LINES_PER_PERIOD });
    t.warn('bad', 'dropped');
    expect(warns.length).toBe(WARN_LINES_PER_PERIOD + 2);
    t.close();
    expect(audits.length).toBe(3);
  });

  it('a failing audit write is logged as an alert, never thrown', () => {
    const errors: string[] = [];
    const log = { debug() {}, info() {}, warn() {}, error: (_f: unknown, m: string) => errors.push(m) };
    const t = new UnauthenticatedTally(
      () => {
        throw new Error('disk full');
      },
      log,
      3_600_000,
    );
    t.refused('keygen', 'ERROR_UNMARSHAL_FAILURE');
    expect(() => t.close()).not.toThrow();
    expect(errors[0]).toMatch(/ALERT/);
  });
});
