/**
 * Benchmark statistics, pure: exact percentiles and the summary of a run's samples (counts,
 * failures by code, throughput over the window from the first send to the last result, latency).
 * `tessera benchmark` and the cluster benchmarks print this summary.
 */
import { InvalidArgumentError } from '../common/errors.js';

/**
 * The exact `p`-th percentile (0 ≤ p ≤ 100) of `sorted` (ascending) by the nearest-rank method: the
 * smallest value such that at least p % of the values are ≤ it (p = 0: the minimum). Always one of
 * the values, never an interpolation. Throws `InvalidArgumentError` for an empty array or a `p`
 * outside [0, 100].
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new InvalidArgumentError('a percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new InvalidArgumentError('a percentile is between 0 and 100');
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.max(rank, 1) - 1]!;
}

/** One request of a run. Times are milliseconds on one monotonic clock (`performance.now()`). */
export interface BenchmarkSample {
  /** When the request was handed to the client (before it was signed and published). */
  readonly sentAt: number;
  /** When it settled: its result arrived, it timed out, or it failed locally. */
  readonly settledAt: number;
  /** A success result (and, where checked, a signature that verifies). */
  readonly ok: boolean;
  /** Why it failed: mpcium's `ERROR_*` code of an error result, `TIMEOUT`, `SIGNATURE_INVALID`, or the client error's code. */
  readonly code?: string;
  /** The cluster answered (a success or an error result); false for timeouts and local failures. */
  readonly answered: boolean;
}

/** Latency of the succeeded requests, in ms; all null when none succeeded. */
export interface LatencySummary {
  readonly count: number;
  readonly min: number | null;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** What a run comes to. Field names are the JSON document's (`tessera benchmark --json`). */
export interface BenchmarkStats {
  readonly requested: number;
  readonly succeeded: number;
  /** requested − succeeded: every request that did not succeed, including those never settled (`UNFINISHED`). */
  readonly failed: number;
  /** failed, by code; the counts add up to `failed`. */
  readonly failures: Readonly<Record<string, number>>;
  /** succeeded / requested (0 when nothing was requested). */
  readonly success_rate: number;
  /** From the first send to the last answer (success or error result; timeouts are no answer); 0 without answers. */
  readonly window_ms: number;
  /** From the first send to the last settlement of any kind (timeouts included). */
  readonly wall_ms: number;
  /** Succeeded requests per second and per minute over `window_ms` (0 when the window is empty). */
  readonly throughput: { readonly per_second: number; readonly per_minute: number };
  /** Latency (settledAt − sentAt) of the succeeded requests: exact nearest-rank percentiles. */
  readonly latency_ms: LatencySummary;
}

/** The code of samples that never settled. */
export const UNFINISHED = 'UNFINISHED';

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Summarizes `samples` of a run of `requested` requests (samples missing from the run count as
 * {@link UNFINISHED} failures). Latencies and times are rounded to 0.001 ms (rounding keeps their
 * order). Throws `InvalidArgumentError` if there are more samples than requests or a sample
 * settles before it was sent.
 */
export function summarize(requested: number, samples: readonly BenchmarkSample[]): BenchmarkStats {
  if (!Number.isSafeInteger(requested) || requested < 0 || samples.length > requested)
    throw new InvalidArgumentError('a run has a non-negative number of requests and at most one sample each');
  if (samples.some((s) => !(s.settledAt >= s.sentAt)))
    throw new InvalidArgumentError('a sample settles after it was sent');
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  for (const s of samples) {
    if (s.ok) latencies.push(s.settledAt - s.sentAt);
    else {
      const code = s.code || 'UNKNOWN';
      failures[code] = (failures[code] ?? 0) + 1;
    }
  }
  if (samples.length < requested) failures[UNFINISHED] = (failures[UNFINISHED] ?? 0) + requested - samples.length;
  latencies.sort((a, b) => a - b);
  const succeeded = latencies.length;
  // loops, not Math.min(...xs): a spread of a large run overflows the stack
  let first = Number.POSITIVE_INFINITY;
  let lastAnswer = Number.NEGATIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const s of samples) {
    first = Math.min(first, s.sentAt);
    last = Math.max(last, s.settledAt);
    if (s.answered) lastAnswer = Math.max(lastAnswer, s.settledAt);
  }
  const window = lastAnswer > first ? lastAnswer - first : 0;
  const wall = last > first ? last - first : 0;
  const perSecond = window > 0 ? (succeeded * 1000) / window : 0;
  const at = (p: number) => (succeeded > 0 ? round3(percentile(latencies, p)) : null);
  return {
    requested,
    succeeded,
    failed: requested - succeeded,
    failures: Object.fromEntries(Object.entries(failures).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    success_rate: requested > 0 ? succeeded / requested : 0,
    window_ms: round3(window),
    wall_ms: round3(wall),
    throughput: { per_second: round3(perSecond), per_minute: round3(perSecond * 60) },
    latency_ms: {
      count: succeeded,
      min: at(0),
      mean: succeeded > 0 ? round3(latencies.reduce((a, b) => a + b, 0) / succeeded) : null,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: at(100),
    },
  };
}
