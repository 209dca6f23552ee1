/**
 * A load run through an {@link MpcClient}, as `mpcium-cli benchmark` runs one (reference §8):
 * `requests` operations sent in batches of `batchSize`, `batchIntervalMs` apart, at most
 * `concurrency` waiting at once, each with its own result timeout; every request's latency is the
 * time from handing it to the client (before it is signed) to its result. Signatures are checked
 * under the wallet key when one is given (a success that does not verify counts as a
 * `SIGNATURE_INVALID` failure). The run never throws for a failing request: it is counted by its
 * code ({@link summarize}).
 */
import type { KeyType } from '../api/index.js';
import { InvalidArgumentError, TesseraError } from '../common/errors.js';
import { secureRandomBytes } from '../common/random.js';
import type { MpcClient } from './client.js';
import { verifySignOutcome } from './derive.js';
import { OperationFailedError } from './outcomes.js';
import { type BenchmarkSample, type BenchmarkStats, summarize } from './stats.js';

/** What each request of a run does. */
export type BenchmarkOperation =
  | { readonly kind: 'keygen' }
  | {
      readonly kind: 'sign';
      readonly walletId: string;
      readonly keyType: KeyType;
      /** The wallet's (master) public key: every signature is checked under it. */
      readonly publicKey?: Uint8Array;
    }
  | {
      readonly kind: 'reshare';
      readonly walletId: string;
      readonly keyType: KeyType;
      readonly nodeIds: readonly string[];
      readonly newThreshold: number;
    };

export interface BenchmarkOptions {
  /** Requests in the run (≥ 1). */
  readonly requests: number;
  /** Requests sent together (default 10, mpcium's). */
  readonly batchSize?: number;
  /** Pause between batches in ms (default 10, mpcium's). */
  readonly batchIntervalMs?: number;
  /** Requests waiting for results at most (default: all of them, as mpcium's benchmark). */
  readonly concurrency?: number;
  /** Result timeout of each request in ms (default 60 000, mpcium's `--timeout 60`). */
  readonly timeoutMs?: number;
  /** Called after each request settles. Must not throw. */
  readonly onProgress?: (settled: number, total: number, failed: number) => void;
}

/** A run's statistics and how it was run; field names are the JSON document's. */
export interface BenchmarkReport extends BenchmarkStats {
  readonly operation: 'keygen' | 'signing' | 'reshare';
  readonly key_type: KeyType | null;
  readonly wallet_id: string | null;
  readonly batch_size: number;
  readonly batch_interval_ms: number;
  readonly concurrency: number;
  readonly timeout_ms: number;
  /** Wall-clock time of the first send (ISO 8601). */
  readonly started_at: string;
  /** Whether signatures were checked under the wallet key. */
  readonly signatures_checked: boolean;
}

function positiveInt(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
}

/** The failure code of a request's error: mpcium's code of an error result, else the error's own code. */
function codeOf(e: unknown): { code: string; answered: boolean } {
  if (e instanceof OperationFailedError) return { code: e.errorCode, answered: true };
  if (e instanceof TesseraError) return { code: e.code, answered: false };
  return { code: 'INTERNAL', answered: false };
}

/**
 * Runs `op` `requests` times through `client` and summarizes. Throws `InvalidArgumentError` for
 * bad options (before sending anything); never for a failing request.
 */
export async function runBenchmark(
  client: MpcClient,
  op: BenchmarkOperation,
  opts: BenchmarkOptions,
): Promise<BenchmarkReport> {
  const total = positiveInt('the number of requests', opts.requests);
  const batchSize = positiveInt('the batch size', opts.batchSize ?? 10);
  const concurrency = positiveInt('the concurrency', opts.concurrency ?? total);
  const batchIntervalMs = opts.batchIntervalMs ?? 10;
  if (!(Number.isFinite(batchIntervalMs) && batchIntervalMs >= 0))
    throw new InvalidArgumentError('the batch interval is a non-negative number of ms');
  const timeoutMs = positiveInt('the timeout', opts.timeoutMs ?? 60_000);

  const one = async (): Promise<BenchmarkSample> => {
    const sentAt = performance.now();
    try {
      if (op.kind === 'keygen') await client.createWallet(undefined, { timeoutMs });
      else if (op.kind === 'reshare')
        await client.reshare({
          walletId: op.walletId,
          keyType: op.keyType,
          nodeIds: op.nodeIds,
          newThreshold: op.newThreshold,
          timeoutMs,
        });
      else {
        const tx = secureRandomBytes(32);
        const out = await client.sign({ walletId: op.walletId, keyType: op.keyType, tx, timeoutMs });
        const settledAt = performance.now();
        if (op.publicKey && !verifySignOutcome(out, op.publicKey, tx))
          return { sentAt, settledAt, ok: false, code: 'SIGNATURE_INVALID', answered: true };
        return { sentAt, settledAt, ok: true, answered: true };
      }
      return { sentAt, settledAt: performance.now(), ok: true, answered: true };
    } catch (e) {
      return { sentAt, settledAt: performance.now(), ok: false, ...codeOf(e) };
    }
  };

  const samples: BenchmarkSample[] = [];
  const running = new Set<Promise<void>>();
  let failed = 0;
  const startedAt = new Date();
  let sent = 0;
  while (sent < total) {
    while (running.size >= concurrency) await Promise.race(running);
    const n = Math.min(batchSize, total - sent, concurrency - running.size);
    for (let i = 0; i < n; i++) {
      const p: Promise<void> = one().then((s) => {
        samples.push(s);
        if (!s.ok) failed++;
        running.delete(p);
        opts.onProgress?.(samples.length, total, failed);
      });
      running.add(p);
    }
    sent += n;
    if (sent < total && batchIntervalMs > 0) await new Promise((r) => setTimeout(r, batchIntervalMs));
  }
  await Promise.all(running);
  return {
    operation: op.kind === 'sign' ? 'signing' : op.kind,
    key_type: op.kind === 'keygen' ? null : op.keyType,
    wallet_id: op.kind === 'keygen' ? null : op.walletId,
    batch_size: batchSize,
    batch_interval_ms: batchIntervalMs,
    concurrency,
    timeout_ms: timeoutMs,
    started_at: startedAt.toISOString(),
    signatures_checked: op.kind === 'sign' && op.publicKey !== undefined,
    ...summarize(total, samples),
  };
}
