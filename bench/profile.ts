/**
 * Where the time of a signature goes in the cluster over NATS (`BENCH_PROFILE=1 npm run
 * bench:cluster`): the three node processes run with `--cpu-prof` (and under `strace`, counting
 * fsync/fdatasync, when it is installed; `BENCH_STRACE=0` turns that off), nats-server under
 * `strace` too; one signing case per key type runs for a window; then every node's main-thread
 * samples inside the window are attributed to a category and divided by the signatures completed,
 * with NATS messages (nats-server `/varz`), fsyncs and CPU (/proc) per signature. One JSON line
 * per case, plus the heaviest functions.
 *
 *   BENCH_PROFILE=1 npm run bench:cluster
 *   BENCH_PROFILE_CASES=ed25519:32,secp256k1:32   key type:concurrency (default)
 *   BENCH_PROFILE_SECONDS=10                      window per case (after a warm-up)
 *   node dist/bench/profile.js a.cpuprofile …     the same breakdown of whole profiles
 *
 * Attribution (self time of the main thread; a sample is wall time, so a synchronous fsync shows
 * under the code that waited for it): the innermost frame of the sample that belongs to a category
 * decides — Tessera's own layers by directory, nats.js, better-sqlite3, pino; JSON.parse/stringify
 * by name. Frames of shared libraries (@noble, node:crypto, node's internals, src/common) pass the
 * time on to their caller, so noble's curve arithmetic under a channel signature counts as
 * channels, under a tss party as tss.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectNats } from '../src/transport/index.js';
import { round } from './harness.js';
import { runBatch, signOp } from './load.js';
import { BenchCluster } from './nats-cluster.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
export interface CpuProfile {
  readonly nodes: ProfileNode[];
  /** µs, V8's monotonic clock (CLOCK_MONOTONIC on Linux, as `process.hrtime`). */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Category rules, tried on each frame from the sample's leaf to the root; the first that matches decides. */
const RULES: readonly [string, (f: CallFrame) => boolean][] = [
  ['JSON', (f) => f.url === '' && (f.functionName === 'parse' || f.functionName === 'stringify')],
  ['nats.js', (f) => f.url.includes('/node_modules/@nats-io/')],
  ['vault + better-sqlite3', (f) => f.url.includes('/node_modules/better-sqlite3') || f.url.includes('/src/vault/')],
  ['logging (pino)', (f) => /\/node_modules\/(pino|sonic-boom|thread-stream|fast-redact)/.test(f.url)],
  ['tss (protocol)', (f) => f.url.includes('/src/tss/')],
  ['channels (sign, encrypt, frame)', (f) => f.url.includes('/src/node/channels/')],
  ['request auth + handling', (f) => f.url.includes('/src/node/requests/')],
  ['api (request/result codec)', (f) => f.url.includes('/src/api/')],
  ['transport adapters', (f) => f.url.includes('/src/transport/')],
  [
    'node (sessions, operations, ledger, control)',
    (f) => f.url.includes('/src/node/') || f.url.includes('/src/daemon/'),
  ],
  ['zod (config, control)', (f) => f.url.includes('/node_modules/zod/')],
];

const SPECIAL: ReadonlyMap<string, string> = new Map([
  ['(garbage collector)', 'GC'],
  ['(idle)', 'idle'],
  ['(program)', 'program (native, outside JS)'],
  ['(root)', 'idle'],
]);

const OTHER = 'other (node internals, event loop)';

/** A function for the top-list: name and where. */
const where = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;

export interface Breakdown {
  /** ms per category. */
  readonly categories: Record<string, number>;
  /** ms of self time per function (leaf frames). */
  readonly functions: Record<string, number>;
  /** ms sampled in all. */
  readonly total: number;
}

/**
 * Attributes the samples of `p` between `fromUs` and `toUs` (V8 clock; default: all) to
 * categories and leaf functions, in ms. A sample lasts until the next one.
 */
export function breakdown(p: CpuProfile, fromUs = -Infinity, toUs = Infinity): Breakdown {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = categoryOf.get(id);
    if (known !== undefined) return known;
    const leaf = byId.get(id)!.callFrame;
    let cat = SPECIAL.get(leaf.functionName);
    for (let x: number | undefined = id; cat === undefined && x !== undefined; x = parent.get(x)) {
      const f = byId.get(x)!.callFrame;
      cat = RULES.find(([, test]) => test(f))?.[0];
    }
    cat ??= OTHER;
    categoryOf.set(id, cat);
    return cat;
  };
  const categories: Record<string, number> = {};
  const functions: Record<string, number> = {};
  let total = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const dur = (i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : 0) / 1000;
    if (t < fromUs || t > toUs || dur <= 0) continue;
    const id = p.samples[i]!;
    const cat = classify(id);
    categories[cat] = (categories[cat] ?? 0) + dur;
    const fn = where(byId.get(id)!.callFrame);
    functions[fn] = (functions[fn] ?? 0) + dur;
    total += dur;
  }
  return { categories, functions, total };
}

/** Sums breakdowns. */
function add(a: Breakdown, b: Breakdown): Breakdown {
  const merge = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    categories: merge(a.categories, b.categories),
    functions: merge(a.functions, b.functions),
    total: a.total + b.total,
  };
}

const EMPTY: Breakdown = { categories: {}, functions: {}, total: 0 };

/** `o`'s values divided by `n` and rounded, largest first. */
function perOp(o: Record<string, number>, n: number, top = Infinity): Record<string, number> {
  return Object.fromEntries(
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, round(v / n, 3)]),
  );
}

/**
 * fsync-family calls in an `strace -f -ttt -T` output between two epoch times (ms): how many, and
 * their summed duration in ms.
 */
export function countSyncs(text: string, fromMs: number, toMs: number): { calls: number; ms: number } {
  let calls = 0;
  let ms = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*(?:\d+\s+)?(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const at = Number(m[1]) * 1000;
    if (at < fromMs || at > toMs) continue;
    const rest = m[2]!;
    if (/^(fsync|fdatasync|sync_file_range|msync)\(/.test(rest)) calls++;
    const d = /<(\d+\.\d+)>\s*$/.exec(rest);
    if (d) ms += Number(d[1]) * 1000;
  }
  return { calls, ms };
}

/** A class of NATS subjects, for counting what a signature sends. */
export function subjectClass(subject: string): string {
  const node = /^[^.]+\.node\.[^.]+\.(msg|hs|rekey)$/.exec(subject);
  if (node) return `node channels .${node[1]}`;
  if (subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) return 'JetStream pull requests';
  if (subject.startsWith('$JS.ACK.')) return 'JetStream acks (+progress, nak)';
  if (subject.startsWith('$JS.API.')) return 'JetStream API';
  if (subject.startsWith('$KV.')) return 'KV (readiness heartbeats)';
  if (subject.startsWith('$JS.EVENT.')) return 'JetStream advisories';
  if (/^mpc\.signing_request\./.test(subject)) return 'client: signing requests';
  if (/^mpc\.mpc_signing_result/.test(subject)) return 'nodes: signing results';
  if (subject.startsWith('_INBOX')) return 'replies (_INBOX: PubAcks, pulled messages, API answers)';
  return subject.split('.').slice(0, 2).join('.');
}

function hasStrace(): boolean {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** The profiling run of `BENCH_PROFILE=1` (see the top of this file). */
export async function profileRun(config: Record<string, unknown>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-profile-'));
  const strace = process.env.BENCH_STRACE !== '0' && hasStrace();
  const traceArgs = (file: string) => [
    'strace',
    '-f',
    '--seccomp-bpf',
    '-ttt',
    '-T',
    '-e',
    'trace=fsync,fdatasync,sync_file_range,msync',
    '-o',
    file,
  ];
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? '10');
  const cases = (process.env.BENCH_PROFILE_CASES ?? 'ed25519:32,secp256k1:32').split(',').map((s) => {
    const [k, c] = s.split(':');
    if ((k !== 'ed25519' && k !== 'secp256k1') || !(Number(c) > 0))
      throw new Error(`BENCH_PROFILE_CASES: key type:concurrency, e.g. ed25519:32 (got ${s})`);
    return { keyType: k, c: Number(c) } as const;
  });
  const nats = await BenchCluster.start({
    config,
    nodeArgs: (name) => ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`],
    wrapper: strace ? (name) => traceArgs(join(dir, `${name}.strace`)) : undefined,
    serverWrapper: strace ? traceArgs(join(dir, 'nats-server.strace')) : undefined,
  });
  const windows: {
    keyType: string;
    c: number;
    hr: [number, number];
    epoch: [number, number];
    batch: Awaited<ReturnType<typeof runBatch>>;
  }[] = [];
  // every message the server routes, by subject class (a separate connection: its deliveries are
  // subtracted from the server's out_msgs below)
  const tap = await connectNats({ url: nats.server.url, name: 'bench-tap' });
  const counts = new Map<string, number>();
  let tapping = false;
  let tapped = 0;
  tap.subscribe('>', {
    callback: (_e, m) => {
      if (!tapping) return;
      tapped++;
      const k = subjectClass(m.subject);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    },
  });
  const perCase: Map<string, number>[] = [];
  const tappedPerCase: number[] = [];
  try {
    const client = await nats.client();
    const side = { client, wallet: await client.createWallet(`bench-wallet-${randomUUID()}`) };
    for (const { keyType, c } of cases) {
      const op = signOp(side, keyType);
      let hr: [number, number] = [0, 0];
      let epoch: [number, number] = [0, 0];
      const batch = await runBatch(
        c,
        Math.max(2, c * (keyType === 'ed25519' ? 0.02 : 0.08)),
        seconds,
        op,
        nats,
        (edge) => {
          const h = Number(process.hrtime.bigint() / 1000n);
          if (edge === 'start') {
            hr = [h, 0];
            epoch = [Date.now(), 0];
            counts.clear();
            tapped = 0;
            tapping = true;
          } else {
            tapping = false;
            hr[1] = h;
            epoch[1] = Date.now();
          }
        },
      );
      perCase.push(new Map(counts));
      tappedPerCase.push(tapped);
      windows.push({ keyType, c, hr, epoch, batch });
    }
    await client.close();
  } finally {
    await tap.close();
    await nats.stop();
  }
  const profiles = nats.files.names.map((name) => {
    const files = readdirSync(join(dir, name)).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length !== 1) throw new Error(`expected one CPU profile of ${name}, found ${files.length}`);
    return JSON.parse(readFileSync(join(dir, name, files[0]!), 'utf8')) as CpuProfile;
  });
  const traces = strace
    ? {
        nodes: nats.files.names.map((n) => readFileSync(join(dir, `${n}.strace`), 'utf8')),
        server: readFileSync(join(dir, 'nats-server.strace'), 'utf8'),
      }
    : undefined;
  for (const [k, w] of windows.entries()) {
    const n = w.batch.ops;
    const b = profiles.map((p) => breakdown(p, w.hr[0], w.hr[1])).reduce(add, EMPTY);
    const covered = profiles.every((p) => p.startTime <= w.hr[0] && p.endTime >= w.hr[1]);
    const syncs = traces
      ? {
          nodes: traces.nodes.map((t) => countSyncs(t, w.epoch[0], w.epoch[1])),
          server: countSyncs(traces.server, w.epoch[0], w.epoch[1]),
        }
      : undefined;
    const sumBy = (xs: { calls: number; ms: number }[], k: 'calls' | 'ms') => xs.reduce((a, x) => a + x[k], 0);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'cluster-profile',
        case: `${w.keyType === 'ed25519' ? 'EdDSA' : 'ECDSA'} sign 2-of-3, ${w.c} in flight, 3 node processes over NATS, profiled`,
        concurrency: w.c,
        operations: n,
        seconds: round(w.batch.seconds, 1),
        per_min: round((n * 60) / w.batch.seconds, 1),
        profile_covers_window: covered,
        node_thread_ms_per_op: perOp(b.categories, n),
        node_thread_ms_per_op_total: round(b.total / n, 2),
        cpu_ms_per_op: {
          nodes: round(w.batch.cpu.nodes.reduce((a, x) => a + x, 0) / n, 2),
          nodes_system: round(w.batch.cpu.nodesSystem.reduce((a, x) => a + x, 0) / n, 2),
          nats_server: round(w.batch.cpu.server / n, 2),
          client: round(w.batch.cpu.self / n, 2),
        },
        nats_msgs_per_op: {
          in: round((w.batch.nats?.inMsgs ?? 0) / n, 2),
          out: round(((w.batch.nats?.outMsgs ?? 0) - tappedPerCase[k]!) / n, 2),
          published_by_subject: perOp(Object.fromEntries(perCase[k]!), n),
        },
        ...(syncs
          ? {
              fsyncs_per_op: {
                nodes: round(sumBy(syncs.nodes, 'calls') / n, 2),
                nats_server: round(syncs.server.calls / n, 2),
              },
              fsync_ms_per_op: {
                nodes: round(sumBy(syncs.nodes, 'ms') / n, 3),
                nats_server: round(syncs.server.ms / n, 3),
              },
            }
          : { fsyncs_per_op: 'strace not installed' }),
        top_functions_ms_per_op: perOp(b.functions, n, 25),
        loadavg: loadavg().map((x) => round(x, 2)),
      })}\n`,
    );
  }
  if (process.env.BENCH_KEEP_PROFILES) process.stderr.write(`profiles kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: node dist/bench/profile.js <file.cpuprofile>…\n');
    process.exit(2);
  }
  const b = files.map((f) => breakdown(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile)).reduce(add, EMPTY);
  process.stdout.write(
    `${JSON.stringify({ total_ms: round(b.total, 1), categories_ms: perOp(b.categories, 1), top_functions_ms: perOp(b.functions, 1, 30) }, null, 2)}\n`,
  );
}
