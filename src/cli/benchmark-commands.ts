/**
 * `tessera benchmark keygen N | sign-ecdsa N WALLET | sign-eddsa N WALLET | reshare N WALLET`: a
 * load run against a cluster over NATS, as `mpcium-cli benchmark` runs one (batches, a timeout per
 * request, `--output` appends the result), with honest statistics (`client/stats.ts`): throughput
 * over the window from the first send to the last result, exact latency percentiles of the
 * succeeded requests, failures by code (timeouts included). A progress bar on a terminal only.
 */
import { appendFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { KeyType } from '../api/index.js';
import { type BenchmarkOperation, type BenchmarkReport, runBenchmark } from '../client/index.js';
import { InvalidArgumentError, IoError } from '../common/errors.js';
import { parseIdList, parseKeyType, parseNat, parseSeconds } from './args.js';
import { type ClientFlags, clientOptions, openClient } from './client-session.js';
import { EXIT, printJson, progressBar } from './output.js';
import { walletKey } from './wallet-commands.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

interface BenchFlags extends ClientFlags {
  batchSize: string;
  batchInterval: string;
  concurrency?: string;
  timeout: string;
  output?: string;
  json?: boolean;
}

/** The result document of a run: its name and client id, then the report (stable field names). */
export type BenchmarkDocument = { benchmark: string; client_id: string | null } & BenchmarkReport;

function benchOptions(c: Command, concurrency: string): Command {
  return clientOptions(c)
    .option('-b, --batch-size <n>', 'requests sent together', '10')
    .option('--batch-interval <ms>', 'pause between batches in ms', '10')
    .option('-c, --concurrency <n>', `requests waiting for results at most (default: ${concurrency})`)
    .option('-t, --timeout <seconds>', 'result timeout of each request', '60')
    .option('-o, --output <file>', 'append the result document to this file (one JSON line per run)')
    .option('--json', 'print the result document (JSON) instead of the summary');
}

function positive(what: string, s: string): number {
  const n = parseNat(what, s);
  if (n < 1) throw new InvalidArgumentError(`${what} must be at least 1`);
  return n;
}

const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(1));

/** The summary for a person. Does not throw. */
function summaryLines(d: BenchmarkDocument): string[] {
  const l = d.latency_ms;
  const pct = (d.success_rate * 100).toFixed(1);
  const failures = Object.entries(d.failures).map(([c, n]) => `${c} ${n}`);
  return [
    `benchmark ${d.benchmark}: ${d.requested} requests in batches of ${d.batch_size}, ${d.batch_interval_ms} ms apart, ` +
      `at most ${d.concurrency} waiting, timeout ${d.timeout_ms / 1000} s${d.client_id ? `, client id ${d.client_id}` : ''}`,
    `succeeded  ${d.succeeded}, failed ${d.failed} (${pct} % success)`,
    `time       ${fmt(d.window_ms)} ms from the first send to the last result (${fmt(d.wall_ms)} ms in all)`,
    `throughput ${d.throughput.per_second.toFixed(2)}/s, ${d.throughput.per_minute.toFixed(1)}/min (succeeded requests)`,
    `latency    ms over ${l.count} succeeded: min ${fmt(l.min)}, mean ${fmt(l.mean)}, p50 ${fmt(l.p50)}, ` +
      `p95 ${fmt(l.p95)}, p99 ${fmt(l.p99)}, max ${fmt(l.max)}`,
    ...(failures.length > 0 ? [`failures   ${failures.join(', ')}`] : []),
    ...(d.signatures_checked ? ['signatures checked under the wallet key'] : []),
  ];
}

/** Runs one benchmark and reports it; exit 0 if every request succeeded, 5 otherwise (the document is printed either way). */
async function bench(name: string, o: BenchFlags, requests: number, op: BenchmarkOperation, dflt: number) {
  const batchSize = positive('--batch-size', o.batchSize);
  const batchIntervalMs = parseNat('--batch-interval', o.batchInterval);
  const concurrency = o.concurrency === undefined ? dflt : positive('--concurrency', o.concurrency);
  const timeoutMs = parseSeconds('--timeout', o.timeout);
  const s = await openClient(o, { resultTimeoutMs: timeoutMs, maxPending: Math.max(1024, concurrency) });
  let report: BenchmarkReport;
  const bar = progressBar(name, { quiet: o.json, failures: true });
  try {
    report = await runBenchmark(s.client, op, {
      requests,
      batchSize,
      batchIntervalMs,
      concurrency,
      timeoutMs,
      onProgress: bar.onProgress,
    });
  } finally {
    bar.stop();
    await s.close();
  }
  const doc: BenchmarkDocument = { benchmark: name, client_id: o.clientId ?? null, ...report };
  if (o.output !== undefined)
    try {
      appendFileSync(o.output, `${JSON.stringify(doc)}\n`);
    } catch (e) {
      throw new IoError(`appending the result to ${o.output}`, e);
    }
  if (o.json) printJson(doc);
  else process.stdout.write(`${summaryLines(doc).join('\n')}\n`);
  return doc.failed === 0 ? EXIT.ok : EXIT.operationFailed;
}

/** Registers `benchmark` and its subcommands; `run` wraps each action with error handling. */
export function registerBenchmarkCommands(program: Command, run: Runner): void {
  const benchmark = program
    .command('benchmark')
    .description('load a cluster over NATS with N requests and report throughput, latency and failures');

  benchOptions(benchmark.command('keygen <n>').description('create N wallets'), 'N').action(
    (n: string, o: BenchFlags) =>
      run(async () => {
        const requests = positive('N', n);
        return bench('keygen', o, requests, { kind: 'keygen' }, requests);
      }, o.json),
  );

  for (const [name, keyType] of [
    ['sign-ecdsa', 'secp256k1'],
    ['sign-eddsa', 'ed25519'],
  ] as const) {
    benchOptions(
      benchmark
        .command(`${name} <n> <wallet>`)
        .description(`sign N random ${keyType === 'secp256k1' ? '32-byte digests' : '32-byte messages'} with WALLET`)
        .option('--public-key <hex>', `check every signature under the wallet's ${keyType} public key`)
        .option('--wallet-file <file>', 'the same from the JSON of `wallet create --json`'),
      'N',
    ).action((n: string, walletId: string, o: BenchFlags & { publicKey?: string; walletFile?: string }) =>
      run(async () => {
        const requests = positive('N', n);
        const { publicKey } = walletKey({ ...o, walletId }, keyType, false);
        return bench(name, o, requests, { kind: 'sign', walletId, keyType, publicKey }, requests);
      }, o.json),
    );
  }

  benchOptions(
    benchmark
      .command('reshare <n> <wallet>')
      .description('reshare WALLET N times (one at a time unless --concurrency)')
      .option('--key-type <type>', 'secp256k1 (ecdsa) or ed25519 (eddsa)', 'ed25519')
      .requiredOption('--node-ids <ids>', "the new committee's node ids, comma-separated")
      .requiredOption('--new-threshold <t>', 'the new t: t+1 of the new committee sign'),
    '1',
  ).action((n: string, walletId: string, o: BenchFlags & { keyType: string; nodeIds: string; newThreshold: string }) =>
    run(async () => {
      const requests = positive('N', n);
      const keyType: KeyType = parseKeyType('--key-type', o.keyType);
      const newThreshold = positive('--new-threshold', o.newThreshold);
      const nodeIds = parseIdList('--node-ids', o.nodeIds);
      if (nodeIds.length < newThreshold + 1)
        throw new InvalidArgumentError(`--new-threshold ${newThreshold} needs at least ${newThreshold + 1} --node-ids`);
      return bench('reshare', o, requests, { kind: 'reshare', walletId, keyType, nodeIds, newThreshold }, 1);
    }, o.json),
  );
}
