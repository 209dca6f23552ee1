/**
 * The benchmarks' shared harness: CPU and wall timing, medians, a same-run comparison that
 * alternates baseline and case batches (the machines are shared and noisy), and the one JSON line
 * every benchmark prints:
 *
 *   {"bench","case","unit","value","baseline","ratio","target"?, ...extra}
 *
 * `value` and `baseline` are in `unit`; `ratio` is stated by each benchmark's `ratioOf` (cost
 * multiple `value / baseline` for CPU cases, throughput fraction `value / baseline` for ops/s
 * cases); `target`, where there is one, says which side of it is good ("<= 25", ">= 0.8").
 */

import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';

/** The ECDSA benchmarks' baseline: one single-key secp256k1 sign + verify with @noble/curves. Throws if it fails. */
export function secp256k1SignVerify(): void {
  const sk = secp256k1.utils.randomSecretKey();
  const msg = randomBytes(32);
  const sig = secp256k1.sign(msg, sk, { prehash: false });
  if (!secp256k1.verify(sig, msg, secp256k1.getPublicKey(sk), { prehash: false })) throw new Error('baseline failed');
}

/** One output line. */
export interface BenchLine {
  readonly case: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: number;
  readonly ratio: number;
  readonly target?: string;
  readonly [extra: string]: unknown;
}

/** Returns a printer of lines for the benchmark `bench` (one JSON object per line on stdout). */
export function emitter(bench: string): (line: BenchLine) => void {
  return (line) => {
    const { case: name, unit, value, baseline, ratio, target, ...extra } = line;
    const out: Record<string, unknown> = {
      bench,
      case: name,
      unit,
      value: round(value),
      baseline: round(baseline),
      ratio: round(ratio),
    };
    if (target !== undefined) out.target = target;
    process.stdout.write(`${JSON.stringify({ ...out, ...extra })}\n`);
  };
}

/** `x` rounded to `digits` decimals (a number, for JSON). */
export function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

/** CPU time (user + system) of this process so far, in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `fn` for at least `minMs` of CPU and `minIters` calls; CPU ms per call and the last call's return value. */
export function timeCpu<T>(
  fn: () => T,
  minMs: number,
  minIters: number,
): { perOp: number; iterations: number; last: T } {
  let iterations = 0;
  let last: T;
  const c0 = cpuMs();
  do {
    last = fn();
    iterations++;
  } while (cpuMs() - c0 < minMs || iterations < minIters);
  return { perOp: (cpuMs() - c0) / iterations, iterations, last };
}

/** Wall-clock ms per call of `fn(i)` over `count` calls. */
export function timeWall(count: number, fn: (i: number) => unknown): number {
  const t = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  return (performance.now() - t) / count;
}

/** Median wall-clock ms of `count` single calls. */
export function medianWall(count: number, fn: () => unknown): number {
  const t: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** Result of {@link compareCpu}: medians over the rounds. */
export interface Comparison<T> {
  /** CPU ms per call of the case. */
  readonly value: number;
  /** CPU ms per call of the baseline. */
  readonly baseline: number;
  /** Median of the per-round ratios case / baseline. */
  readonly ratio: number;
  readonly iterations: number;
  /** The case's last return value (e.g. bytes exchanged). */
  readonly last: T;
}

/**
 * Alternates `rounds` batches of `baseline` (≥ `baselineMs` of CPU) and `fn` (≥ `caseMs` and
 * `minIters` calls), after one warm-up call of each, so that load on the machine hits both alike; reports medians.
 */
export function compareCpu<T>(
  fn: () => T,
  baseline: () => unknown,
  opts: { rounds: number; caseMs: number; minIters?: number; baselineMs?: number },
): Comparison<T> {
  fn(); // warm-up: JIT and caches, outside the measurement
  for (let i = 0; i < 5; i++) baseline();
  const ratios: number[] = [];
  const times: number[] = [];
  const bases: number[] = [];
  let iterations = 0;
  let last: T | undefined;
  for (let r = 0; r < opts.rounds; r++) {
    const b = timeCpu(baseline, opts.baselineMs ?? 150, 10);
    const c = timeCpu(fn, opts.caseMs, opts.minIters ?? 1);
    ratios.push(c.perOp / b.perOp);
    times.push(c.perOp);
    bases.push(b.perOp);
    iterations += c.iterations;
    last = c.last;
  }
  return { value: median(times), baseline: median(bases), ratio: median(ratios), iterations, last: last as T };
}

/** Result of {@link bestOfBatches}. */
export interface BatchTiming {
  /** CPU ms per call in the fastest batch. */
  readonly cpuMs: number;
  /** Wall ms per call in the median batch. */
  readonly wallMs: number;
  readonly iterations: number;
}

/**
 * CPU ms (user + system) per call of `fn(i)`, after a warm-up of a tenth of the calls: `n` calls
 * in 5 batches, the fastest batch reported (robust against other load on the machine); wall time
 * is the median batch.
 */
export function bestOfBatches(n: number, fn: (i: number) => void): BatchTiming {
  const warm = Math.max(5, Math.round(n / 10));
  for (let i = 0; i < warm; i++) fn(-1 - i);
  const batches = 5;
  const per = Math.max(1, Math.floor(n / batches));
  const cpu: number[] = [];
  const wall: number[] = [];
  let i = 0;
  for (let b = 0; b < batches; b++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let k = 0; k < per; k++) fn(i++);
    wall.push((performance.now() - t0) / per);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / per);
  }
  return { cpuMs: Math.min(...cpu), wallMs: median(wall), iterations: per * batches };
}

/** The line of a {@link compareCpu} result (CPU ms per operation), its `last` value reported as the bytes exchanged. */
export function cpuLine(
  name: string,
  r: Comparison<number>,
  ratioOf: string,
  extra: Record<string, unknown> = {},
): BenchLine {
  return {
    case: name,
    unit: 'cpu ms/op',
    value: r.value,
    baseline: r.baseline,
    ratio: r.ratio,
    ratioOf,
    bytes_exchanged: r.last,
    iterations: r.iterations,
    ...extra,
  };
}
