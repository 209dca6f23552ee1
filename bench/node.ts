/**
 * Benchmark of the node: signatures per minute of the embedded 3-node cluster (`LocalCluster`:
 * real vaults on disk, encrypted channels, in-process transports) driven through the SDK
 * (`MpcClient`), for EdDSA and ECDSA at 1, 8 and 32 requests in flight, with p50/p95/p99 request
 * latency; keygens per minute at 1 and 2 in flight. Each case's baseline is the same protocol
 * with all parties in this process and nothing else (no vault, no channels, no client:
 * `MemorySigningLog`, the canonical wire encoding, the same 2-of-3 signers), measured in the same
 * run at the same concurrency: `c` sessions kept in flight, their messages delivered first in,
 * first out across sessions. Node and baseline batches alternate (the machine is shared); value and
 * baseline are the medians of the rounds, ratio the median of the per-round ratios. One JSON line
 * per case (bench/harness.ts).
 *
 *   npm run bench:node            (BENCH_SCALE=0.3 for a quick run; 1 takes about 4 minutes)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type KeygenOutcome,
  localSigner,
  MpcClient,
  type SignRequest,
  verifySignOutcome,
} from '../src/client/index.js';
import { LocalCluster } from '../src/node/index.js';
import { ecdsa, encodeMessage, frost, type Message, type ProtocolParty } from '../src/tss/index.js';
import { MemorySigningLog } from '../src/tss/testing.js';
import { cpuMs, emitter, median, round } from './harness.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const emit = emitter('node');
const TARGET_CONCURRENCY = 8;
const TARGET = '>= 0.7';

type KeyType = SignRequest['keyType'];

// ---------------------------------------------------------------------------------------------
// Protocol-only baseline: groups of parties that talk among themselves, several sessions
// interleaved in one process.

type Party = ProtocolParty<unknown>;
/** One operation: one or more protocol runs (a keygen is an ECDSA and an EdDSA DKG), each a list of parties. */
type Job = Party[][];

interface Delivery {
  readonly job: Running;
  readonly to: Party;
  readonly from: string;
  readonly bytes: Uint8Array;
}

/** A job in flight: when it started, the group of each party, the parties not done yet. */
interface Running {
  readonly t0: number;
  readonly groupOf: Map<Party, readonly Party[]>;
  readonly pending: Set<Party>;
}

interface Throughput {
  /** Operations completed. */
  readonly count: number;
  /** Wall ms from the first start to the last completion. */
  readonly ms: number;
  /** CPU ms of this process over the same span. */
  readonly cpuMs: number;
  /** Wall ms of each operation, start to completion. */
  readonly latencies: number[];
}

/**
 * Keeps `concurrency` jobs from `make` in flight for `seconds` (then lets those in flight finish),
 * delivering every message (encoded, as the local runner does) in the order sent across all
 * jobs. Throws what a party throws (`ProtocolAbortedError`), or if a job stalls.
 */
function protocolOnly(concurrency: number, seconds: number, make: () => Job): Throughput {
  const queue: Delivery[] = [];
  let head = 0;
  let live = 0;
  const latencies: number[] = [];
  const c0 = cpuMs();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const send = (job: Running, from: Party, msgs: readonly Message[]) => {
    for (const m of msgs) {
      const bytes = encodeMessage(m);
      for (const to of job.groupOf.get(from)!)
        if (to !== from && (m.to === null || m.to === to.self)) queue.push({ job, to, from: from.self, bytes });
    }
  };
  const step = (job: Running, p: Party, out: readonly Message[]) => {
    send(job, p, out);
    if (p.status !== 'done' || !job.pending.delete(p) || job.pending.size > 0) return;
    live--;
    latencies.push(performance.now() - job.t0);
    if (performance.now() < until) begin();
  };
  const begin = () => {
    const groups = make();
    const job: Running = { t0: performance.now(), groupOf: new Map(), pending: new Set() };
    for (const g of groups)
      for (const p of g) {
        job.groupOf.set(p, g);
        job.pending.add(p);
      }
    live++;
    for (const p of [...job.pending]) step(job, p, p.start());
  };
  for (let i = 0; i < concurrency; i++) begin();
  while (head < queue.length) {
    const d = queue[head++]!;
    if (head > 4096) {
      queue.splice(0, head);
      head = 0;
    }
    step(d.job, d.to, d.to.receiveBytes(d.from, d.bytes));
  }
  if (live > 0) throw new Error('protocol-only baseline: a session stalled');
  return { count: latencies.length, ms: performance.now() - t0, cpuMs: cpuMs() - c0, latencies };
}

const P = ['node-1', 'node-2', 'node-3'];
const SIGNERS = ['node-1', 'node-2'];
let counter = 0;

const dkgParties = (): Job => {
  const sid = `bench-dkg-${counter++}`;
  const common = { participants: P, threshold: 1 };
  return [
    P.map(
      (self) => new ecdsa.DkgParty({ ...common, self, sessionId: `${sid}/ecdsa`, setupLog: new MemorySigningLog() }),
    ),
    P.map((self) => new frost.DkgParty({ ...common, self, sessionId: `${sid}/eddsa` })),
  ];
};

/** The baseline's keys: one DKG of each curve through the same runner. */
const baseKeys = (() => {
  const job = dkgParties();
  protocolOnly(1, 0, () => job);
  const [e, f] = job.map((g) => new Map(g.map((p) => [p.self, p.result()])));
  return { ecdsa: e as Map<string, ecdsa.KeyShare>, eddsa: f as Map<string, frost.KeyShare> };
})();

const signJob = (keyType: KeyType): Job => {
  const sessionId = `bench-sign-${counter++}`;
  const signingLog = () => new MemorySigningLog();
  if (keyType === 'secp256k1') {
    const digest = randomBytes(32);
    return [
      SIGNERS.map(
        (self) =>
          new ecdsa.SignParty({
            sessionId,
            self,
            signers: SIGNERS,
            keyShare: baseKeys.ecdsa.get(self)!,
            digest,
            signingLog: signingLog(),
          }),
      ),
    ];
  }
  const message = randomBytes(64);
  return [
    SIGNERS.map(
      (self) =>
        new frost.SignParty({
          sessionId,
          self,
          signers: SIGNERS,
          keyShare: baseKeys.eddsa.get(self)!,
          message,
          signingLog: signingLog(),
        }),
    ),
  ];
};

// ---------------------------------------------------------------------------------------------
// The node: a 3-node 2-of-3 cluster and one client.

const cluster = await LocalCluster.start({
  nodes: 3,
  threshold: 1,
  config: { max_concurrent_signing: 64, max_concurrent_keygen: 4 },
});
const client = await MpcClient.create({
  workQueue: cluster.clientQueue(),
  bus: cluster.clientBus(),
  initiator: localSigner(cluster.initiatorKey),
});

/**
 * The vault's durable commits (each one fsynced SQLite transaction) and their wall time, over
 * every node: signing-log claims and share write-backs (signing), setup-log claims, share puts and
 * activations (keygen). Counted by wrapping the methods of the three open vaults.
 */
const commits = { n: 0, ms: 0 };
for (let i = 0; i < cluster.nodes.length; i++) {
  const v = cluster.vault(i);
  for (const name of ['claimSigningContext', 'updateShare', 'claimSetupContext', 'putShares', 'activate'] as const) {
    const f = (v[name] as (...a: unknown[]) => unknown).bind(v);
    Object.defineProperty(v, name, {
      value: (...a: unknown[]) => {
        const t = performance.now();
        try {
          return f(...a);
        } finally {
          commits.n++;
          commits.ms += performance.now() - t;
        }
      },
    });
  }
}

/** Keeps `concurrency` calls of `op` in flight for `seconds` (then lets those in flight finish). */
async function nodeLoad(concurrency: number, seconds: number, op: (i: number) => Promise<void>): Promise<Throughput> {
  const latencies: number[] = [];
  let i = 0;
  const c0 = cpuMs();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        await op(i++);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { count: latencies.length, ms: performance.now() - t0, cpuMs: cpuMs() - c0, latencies };
}

const WALLETS = 4;
/** Filled before the first case (inside the `try` that stops the cluster). */
const wallets: KeygenOutcome[] = [];

const signOp =
  (keyType: KeyType) =>
  async (i: number): Promise<void> => {
    const w = wallets[i % WALLETS]!;
    const tx = randomBytes(keyType === 'secp256k1' ? 32 : 64);
    const out = await client.sign({ walletId: w.walletId, keyType, tx, txId: randomUUID() });
    if (i % 64 === 0) {
      const pub = keyType === 'secp256k1' ? w.ecdsaPublicKey : w.eddsaPublicKey;
      if (!verifySignOutcome(out, pub, tx)) throw new Error('the cluster returned a signature that does not verify');
    }
  };
let keygens = 0;
const keygenOp = async (): Promise<void> => {
  await client.createWallet(`bench-keygen-${keygens++}`);
};

/** The p-th percentile (nearest rank) of a non-empty list. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const perMinute = (t: Throughput) => (t.count * 60_000) / t.ms;

/**
 * Alternates `rounds` batches of the baseline (`baseSeconds`) and the node (`nodeSeconds`) after a
 * short warm-up of each, and prints the line.
 */
async function compareCase(opts: {
  name: string;
  unit: string;
  concurrency: number;
  rounds: number;
  nodeSeconds: number;
  baseSeconds: number;
  node: (i: number) => Promise<void>;
  baseline: () => Job;
}): Promise<void> {
  const c = opts.concurrency;
  protocolOnly(c, 0, opts.baseline);
  await nodeLoad(c, 0, opts.node);
  const node: Throughput[] = [];
  const base: Throughput[] = [];
  const vault = { n: 0, ms: 0 };
  for (let r = 0; r < opts.rounds; r++) {
    base.push(protocolOnly(c, opts.baseSeconds * scale, opts.baseline));
    const before = { ...commits };
    node.push(await nodeLoad(c, opts.nodeSeconds * scale, opts.node));
    vault.n += commits.n - before.n;
    vault.ms += commits.ms - before.ms;
  }
  const lat = node.flatMap((t) => t.latencies);
  const baseLat = base.flatMap((t) => t.latencies);
  const count = node.reduce((n, t) => n + t.count, 0);
  const wallPerOp = node.reduce((n, t) => n + t.ms, 0) / count;
  const cpuPerOp = node.reduce((n, t) => n + t.cpuMs, 0) / count;
  const baseCount = base.reduce((n, t) => n + t.count, 0);
  emit({
    case: opts.name,
    unit: opts.unit,
    value: median(node.map(perMinute)),
    baseline: median(base.map(perMinute)),
    ratio: median(node.map((t, i) => perMinute(t) / perMinute(base[i]!))),
    ...(c === TARGET_CONCURRENCY && opts.unit === 'signatures/min' ? { target: TARGET } : {}),
    ratioOf: 'node throughput / protocol-only throughput (same concurrency, same run)',
    concurrency: c,
    p50_ms: round(percentile(lat, 50), 1),
    p95_ms: round(percentile(lat, 95), 1),
    p99_ms: round(percentile(lat, 99), 1),
    operations: count,
    node_wall_ms_per_op: round(wallPerOp, 2),
    node_cpu_ms_per_op: round(cpuPerOp, 2),
    vault_commits_per_op: round(vault.n / count, 2),
    vault_commit_ms_per_op: round(vault.ms / count, 2),
    baseline_p50_ms: round(percentile(baseLat, 50), 1),
    baseline_cpu_ms_per_op: round(base.reduce((n, t) => n + t.cpuMs, 0) / baseCount, 2),
    baseline_operations: baseCount,
  });
}

try {
  for (let i = 0; i < WALLETS; i++) wallets.push(await client.createWallet(`bench-wallet-${i}`));
  for (const [keyType, label, nodeSeconds, baseSeconds] of [
    ['ed25519', 'EdDSA', 5, 2.5],
    ['secp256k1', 'ECDSA', 7, 3.5],
  ] as const) {
    for (const c of [1, 8, 32]) {
      await compareCase({
        name: `${label} sign 2-of-3, ${c} in flight (3-node cluster through the SDK vs protocol only)`,
        unit: 'signatures/min',
        concurrency: c,
        rounds: 3,
        nodeSeconds,
        baseSeconds,
        node: signOp(keyType),
        baseline: () => signJob(keyType),
      });
    }
  }
  for (const c of [1, 2]) {
    await compareCase({
      name: `keygen (ECDSA + EdDSA DKG, 3 nodes), ${c} in flight (cluster through the SDK vs protocol only)`,
      unit: 'keygens/min',
      concurrency: c,
      rounds: 3,
      nodeSeconds: 6,
      baseSeconds: 3,
      node: keygenOp,
      baseline: dkgParties,
    });
  }
} finally {
  await client.close();
  await cluster.stop();
}
