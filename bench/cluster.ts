/**
 * Benchmark of a real cluster: `nats-server -js` and three `tessera start` processes on this
 * machine (2-of-3, one wallet), driven through the SDK over NATS (`MpcClient` on
 * `JetStreamWorkQueue` + `NatsBus`) exactly as an application would. EdDSA and ECDSA signatures
 * per minute at 8, 32 and 128 requests in flight with p50/p95/p99 latency, keygens per minute at 1
 * and 2 in flight. Each case's baseline is the in-process cluster (`LocalCluster`, as bench/node.ts
 * drives it: three nodes on one thread, in-process transports, the same configuration, one wallet)
 * at the same concurrency in the same run; batches of the two alternate (the machine is shared).
 *
 * Each batch keeps `c` requests in flight: the first `c` start spread over the warm-up (so that
 * completions do not come in waves), completions are counted in the measurement window after it,
 * then the requests in flight drain, uncounted. Per case, value and baseline are pooled over the
 * rounds (operations / seconds); ratio = value / baseline. CPU per operation is read from /proc for
 * each node process, nats-server and this process (the client) — `cpu_bound_per_min` is what the
 * machine's cores would do at that CPU per operation with nothing else running — NATS messages per
 * operation from nats-server's monitoring (`/varz`). One JSON line per case (bench/harness.ts);
 * the signing cases carry the targets (`target`, `met`). docs/benchmarks.md, "Cluster over
 * NATS".
 *
 *   npm run bench:cluster                    about 9.5 minutes
 *   BENCH_SCALE=0.3 npm run bench:cluster    a quick run (about 3 minutes)
 *   BENCH_CASES=eddsa,ecdsa,keygen           only these groups (default all); BENCH_ROUNDS (2)
 *   BENCH_PROFILE=1 npm run bench:cluster    where the time goes: see bench/profile.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { localSigner, MpcClient } from '../src/client/index.js';
import { LocalCluster } from '../src/node/index.js';
import { emitter, round } from './harness.js';
import { type Batch, keygenOp, percentile, runBatch, type Side, signOp } from './load.js';
import { BenchCluster } from './nats-cluster.js';
import { profileRun } from './profile.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const groups = new Set((process.env.BENCH_CASES ?? 'eddsa,ecdsa,keygen').split(','));
const emit = emitter('cluster');
/** Ten times mpcium's published numbers (≈ 900 EdDSA and ≈ 267 ECDSA signatures per minute). */
const TARGETS = { ed25519: 9000, secp256k1: 2670 } as const;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');

/** Both clusters run with this (LocalCluster's defaults for the bench, enough slots for 128 in flight). */
const CONFIG = { max_concurrent_signing: 128, max_concurrent_keygen: 4 };

/** Starts both clusters and a client and a wallet on each. */
export async function startSides(opts: { nats?: Parameters<typeof BenchCluster.start>[0] } = {}) {
  const nats = await BenchCluster.start({ ...opts.nats, config: { ...CONFIG, ...opts.nats?.config } });
  let local: LocalCluster | undefined;
  try {
    const natsClient = await nats.client();
    local = await LocalCluster.start({ nodes: 3, threshold: 1, config: CONFIG });
    const localClient = await MpcClient.create({
      workQueue: local.clientQueue(),
      bus: local.clientBus(),
      initiator: localSigner(local.initiatorKey),
    });
    const sides = {
      nats: { client: natsClient, wallet: await natsClient.createWallet('bench-wallet') } as Side,
      local: { client: localClient, wallet: await localClient.createWallet('bench-wallet') } as Side,
    };
    const stop = async () => {
      await sides.local.client.close();
      await sides.nats.client.close();
      await local?.stop();
      await nats.stop();
    };
    return { nats, local, sides, stop };
  } catch (e) {
    await local?.stop();
    await nats.stop();
    throw e;
  }
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const cpus = availableParallelism();
const perMin = (ops: number, seconds: number) => (ops * 60) / seconds;
const load = () => loadavg().map((x) => round(x, 2));

/** Alternates `ROUNDS` batches of the in-process cluster and the NATS cluster and prints the line. */
async function compareCase(
  env: Awaited<ReturnType<typeof startSides>>,
  o: {
    name: string;
    unit: string;
    c: number;
    warmS: number;
    measureS: number;
    op: (side: Side) => (i: number) => Promise<void>;
    target?: number;
  },
): Promise<void> {
  const nats: Batch[] = [];
  const local: Batch[] = [];
  const loadBefore = load();
  const warm = Math.max(1, o.warmS * scale);
  const measure = Math.max(2, o.measureS * scale);
  for (let r = 0; r < ROUNDS; r++) {
    const runLocal = async () => local.push(await runBatch(o.c, warm, measure, o.op(env.sides.local)));
    const runNats = async () => nats.push(await runBatch(o.c, warm, measure, o.op(env.sides.nats), env.nats));
    if (r % 2 === 0) {
      await runLocal();
      await runNats();
    } else {
      await runNats();
      await runLocal();
    }
  }
  const ops = sum(nats.map((b) => b.ops));
  const seconds = sum(nats.map((b) => b.seconds));
  const baseOps = sum(local.map((b) => b.ops));
  const baseSeconds = sum(local.map((b) => b.seconds));
  const value = perMin(ops, seconds);
  const baseline = perMin(baseOps, baseSeconds);
  const lat = nats.flatMap((b) => b.latencies);
  const baseLat = local.flatMap((b) => b.latencies);
  const perOp = (f: (b: Batch) => number) => round(sum(nats.map(f)) / ops, 2);
  emit({
    case: o.name,
    unit: o.unit,
    value,
    baseline,
    ratio: value / baseline,
    ...(o.target !== undefined ? { target: `>= ${o.target}`, met: value >= o.target } : {}),
    ratioOf: 'throughput of 3 node processes over NATS / of the in-process cluster (same concurrency, same run)',
    concurrency: o.c,
    operations: ops,
    seconds: round(seconds, 1),
    errors: sum(nats.map((b) => b.errors)),
    p50_ms: round(percentile(lat, 50), 1),
    p95_ms: round(percentile(lat, 95), 1),
    p99_ms: round(percentile(lat, 99), 1),
    rounds: nats.map((b, i) => ({
      value: round(perMin(b.ops, b.seconds), 1),
      baseline: round(perMin(local[i]!.ops, local[i]!.seconds), 1),
    })),
    cpu_ms_per_op: {
      nodes: perOp((b) => sum(b.cpu.nodes)),
      nats_server: perOp((b) => b.cpu.server),
      client: perOp((b) => b.cpu.self),
    },
    // what the machine's cores could do if this run had them to itself and kept them busy
    cpu_bound_per_min: round(
      (cpus * 60_000 * ops) / sum(nats.map((b) => sum(b.cpu.nodes) + b.cpu.server + b.cpu.self)),
      0,
    ),
    nats_msgs_per_op: {
      in: perOp((b) => b.nats?.inMsgs ?? 0),
      out: perOp((b) => b.nats?.outMsgs ?? 0),
    },
    nats_kib_per_op: {
      in: round(sum(nats.map((b) => b.nats?.inBytes ?? 0)) / 1024 / ops, 1),
      out: round(sum(nats.map((b) => b.nats?.outBytes ?? 0)) / 1024 / ops, 1),
    },
    baseline_operations: baseOps,
    baseline_errors: sum(local.map((b) => b.errors)),
    baseline_p50_ms: round(percentile(baseLat, 50), 1),
    baseline_p99_ms: round(percentile(baseLat, 99), 1),
    baseline_cpu_ms_per_op: round(sum(local.map((b) => b.cpu.self)) / baseOps, 2),
    loadavg_before: loadBefore,
    loadavg_after: load(),
  });
}

async function main(): Promise<void> {
  if (process.env.BENCH_PROFILE) {
    await profileRun(CONFIG);
    return;
  }
  const env = await startSides();
  try {
    if (groups.has('eddsa') || groups.has('ecdsa'))
      for (const [keyType, label, measureS, warmPerC] of [
        ['ed25519', 'EdDSA', 8, 0.012],
        ['secp256k1', 'ECDSA', 12, 0.065],
      ] as const) {
        if (!groups.has(label.toLowerCase())) continue;
        for (const c of [8, 32, 128])
          await compareCase(env, {
            name: `${label} sign 2-of-3, ${c} in flight (3 node processes over NATS vs in-process cluster)`,
            unit: 'signatures/min',
            c,
            warmS: Math.max(1, c * warmPerC),
            measureS,
            op: (side) => signOp(side, keyType),
            target: TARGETS[keyType],
          });
      }
    if (groups.has('keygen'))
      for (const c of [1, 2])
        await compareCase(env, {
          name: `keygen (ECDSA + EdDSA DKG, 3 nodes), ${c} in flight (3 node processes over NATS vs in-process cluster)`,
          unit: 'keygens/min',
          c,
          warmS: 1.5 * c,
          measureS: 10,
          op: (side) => keygenOp(side),
        });
  } finally {
    await env.stop();
  }
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench:cluster: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
