/** Benchmark statistics: exact nearest-rank percentiles (properties) and a run's summary adding up. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BenchmarkSample, percentile, summarize, UNFINISHED } from '../../src/client/index.js';

const values = fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 300 });
const p = fc.double({ min: 0, max: 100, noNaN: true });
const asc = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

describe('percentile (nearest rank, exact)', () => {
  it('is one of the values; at least p % are ≤ it and fewer than p % are below it', () => {
    fc.assert(
      fc.property(values, p, (xs, q) => {
        const s = asc(xs);
        const v = percentile(s, q);
        expect(s).toContain(v);
        const k = (q * s.length) / 100; // p % of the values (0 also when p·n underflows)
        expect(s.filter((x) => x <= v).length).toBeGreaterThanOrEqual(k);
        if (k > 0) expect(s.filter((x) => x < v).length).toBeLessThan(k);
      }),
    );
  });

  it('p = 0 is the minimum, p = 100 the maximum, p = 50 of an odd count the median', () => {
    fc.assert(
      fc.property(values, (xs) => {
        const s = asc(xs);
        expect(percentile(s, 0)).toBe(s[0]);
        expect(percentile(s, 100)).toBe(s[s.length - 1]);
        if (s.length % 2 === 1) expect(percentile(s, 50)).toBe(s[(s.length - 1) / 2]);
      }),
    );
  });

  it('is monotone in p', () => {
    fc.assert(
      fc.property(values, p, p, (xs, a, b) => {
        const s = asc(xs);
        expect(percentile(s, Math.min(a, b))).toBeLessThanOrEqual(percentile(s, Math.max(a, b)));
      }),
    );
  });

  it('exact on a known case: 1..20 gives p50 = 10, p95 = 19, p99 = 20', () => {
    const s = Array.from({ length: 20 }, (_, i) => i + 1);
    expect([percentile(s, 50), percentile(s, 95), percentile(s, 99)]).toEqual([10, 19, 20]);
    expect(percentile([7], 99)).toBe(7);
  });

  it('refuses an empty array and a p outside [0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(/no values/);
    expect(() => percentile([1], 101)).toThrow(/between 0 and 100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/between 0 and 100/);
  });
});

const sample = fc
  .record({
    sentAt: fc.integer({ min: 0, max: 10_000 }),
    latency: fc.integer({ min: 0, max: 5_000 }),
    ok: fc.boolean(),
    answered: fc.boolean(),
    code: fc.constantFrom('ERROR_KEY_NOT_FOUND', 'TIMEOUT', 'ERROR_NOT_MAJORITY'),
  })
  .map(
    (r): BenchmarkSample => ({
      sentAt: r.sentAt,
      settledAt: r.sentAt + r.latency,
      ok: r.ok,
      answered: r.ok || r.answered,
      ...(r.ok ? {} : { code: r.code }),
    }),
  );

describe('summarize', () => {
  it('counts add up: succeeded + failed = requested, failures by code sum to failed, latency count = succeeded, ordered percentiles', () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 200 }), fc.nat(20), (samples, missing) => {
        const s = summarize(samples.length + missing, samples);
        expect(s.succeeded + s.failed).toBe(s.requested);
        expect(Object.values(s.failures).reduce((a, b) => a + b, 0)).toBe(s.failed);
        expect(s.failures[UNFINISHED] ?? 0).toBe(missing);
        expect(s.latency_ms.count).toBe(s.succeeded);
        const l = s.latency_ms;
        if (s.succeeded > 0) {
          const chain = [l.min, l.p50, l.p95, l.p99, l.max] as number[];
          for (let i = 1; i < chain.length; i++) expect(chain[i - 1]).toBeLessThanOrEqual(chain[i]!);
          expect(l.mean!).toBeGreaterThanOrEqual(l.min!);
          expect(l.mean!).toBeLessThanOrEqual(l.max!);
        } else expect(l).toMatchObject({ min: null, p50: null, p99: null, max: null });
        expect(s.window_ms).toBeLessThanOrEqual(s.wall_ms);
        if (s.window_ms > 0) expect(s.throughput.per_second).toBeCloseTo((s.succeeded * 1000) / s.window_ms, 2);
        expect(s.throughput.per_minute).toBeCloseTo(s.throughput.per_second * 60, 1);
      }),
    );
  });

  it('throughput runs from the first send to the last answer: a timeout after it does not stretch the window', () => {
    const s = summarize(3, [
      { sentAt: 100, settledAt: 300, ok: true, answered: true },
      { sentAt: 110, settledAt: 1100, ok: true, answered: true },
      { sentAt: 120, settledAt: 60_120, ok: false, code: 'TIMEOUT', answered: false },
    ]);
    expect(s.window_ms).toBe(1000);
    expect(s.wall_ms).toBe(60_020);
    expect(s.throughput).toEqual({ per_second: 2, per_minute: 120 });
    expect(s.failures).toEqual({ TIMEOUT: 1 });
    expect(s.latency_ms).toMatchObject({ count: 2, min: 200, p50: 200, p99: 990, max: 990, mean: 595 });
    expect(s.success_rate).toBeCloseTo(2 / 3);
  });

  it('an empty run and a run without answers have zero throughput; bad input is refused', () => {
    expect(summarize(0, [])).toMatchObject({ requested: 0, window_ms: 0, throughput: { per_second: 0 } });
    const none = summarize(1, [{ sentAt: 0, settledAt: 10, ok: false, code: 'TIMEOUT', answered: false }]);
    expect(none.throughput.per_minute).toBe(0);
    expect(() => summarize(0, [{ sentAt: 0, settledAt: 1, ok: true, answered: true }])).toThrow();
    expect(() => summarize(1, [{ sentAt: 5, settledAt: 1, ok: true, answered: true }])).toThrow();
  });
});
