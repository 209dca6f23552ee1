/**
 * The load of bench/cluster.ts and bench/profile.ts: `c` requests kept in flight through an SDK
 * client, completions counted in a window, CPU (/proc) and nats-server counters over the window.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type KeygenOutcome, type MpcClient, type SignRequest, verifySignOutcome } from '../src/client/index.js';
import { cpuMs } from './harness.js';
import { type BenchCluster, processCpuMs } from './nats-cluster.js';

export type KeyType = SignRequest['keyType'];

export interface Side {
  readonly client: MpcClient;
  readonly wallet: KeygenOutcome;
}

/** What a batch measured in its window. */
export interface Batch {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latencies: number[];
  /** CPU ms in the window: this process, each node process, nats-server (NATS side only). */
  readonly cpu: { self: number; nodes: number[]; nodesSystem: number[]; server: number };
  /** nats-server's message and byte counters over the window (NATS side only). */
  readonly nats?: { inMsgs: number; outMsgs: number; inBytes: number; outBytes: number };
}

interface Snapshot {
  readonly t: number;
  readonly self: number;
  readonly nodes: number[];
  readonly nodesSystem: number[];
  readonly server: number;
  readonly varz?: { in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number };
}

/** CPU counters now (synchronously), then nats-server's counters. */
async function snapshot(nats: BenchCluster | undefined): Promise<Snapshot> {
  const t = performance.now();
  const self = cpuMs();
  if (!nats) return { t, self, nodes: [], nodesSystem: [], server: 0 };
  const pids = nats.pids;
  const nodes = pids.nodes.map((p) => processCpuMs(p));
  const nodesSystem = pids.nodes.map((p) => processCpuMs(p, 'system'));
  const server = processCpuMs(pids.server);
  const varz = await nats.server.monitor<NonNullable<Snapshot['varz']>>('varz');
  return { t, self, nodes, nodesSystem, server, varz };
}

/**
 * Keeps `c` calls of `op` in flight: starts them spread over `warmS`, counts those that complete in
 * the `measureS` window after it, then lets the calls in flight finish. `nats`: the cluster whose
 * processes and server to account. Throws the first error if no call in the window succeeded.
 */
export async function runBatch(
  c: number,
  warmS: number,
  measureS: number,
  op: (i: number) => Promise<void>,
  nats?: BenchCluster,
  onWindow?: (edge: 'start' | 'end') => void,
): Promise<Batch> {
  let before: Promise<Snapshot> | undefined;
  let after: Promise<Snapshot> | undefined;
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  const opened = new Promise<void>((r) =>
    setTimeout(() => {
      windowStart = performance.now();
      onWindow?.('start');
      before = snapshot(nats);
      setTimeout(() => {
        windowEnd = performance.now();
        onWindow?.('end');
        after = snapshot(nats);
        r();
      }, measureS * 1000);
    }, warmS * 1000),
  );
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  let i = 0;
  await Promise.all(
    Array.from({ length: c }, async (_, w) => {
      await new Promise((r) => setTimeout(r, (warmS * 1000 * w) / c));
      while (performance.now() < windowEnd) {
        const s = performance.now();
        try {
          await op(i++);
        } catch (e) {
          errors++;
          firstError ??= e;
          continue;
        }
        const e = performance.now();
        if (e >= windowStart && e <= windowEnd) latencies.push(e - s);
      }
    }),
  );
  await opened;
  const b = await before!;
  const a = await after!;
  if (latencies.length === 0) throw firstError ?? new Error('no operation completed in the measurement window');
  return {
    ops: latencies.length,
    errors,
    seconds: (windowEnd - windowStart) / 1000,
    latencies,
    cpu: {
      self: a.self - b.self,
      nodes: a.nodes.map((x, k) => x - b.nodes[k]!),
      nodesSystem: a.nodesSystem.map((x, k) => x - b.nodesSystem[k]!),
      server: a.server - b.server,
    },
    nats:
      a.varz && b.varz
        ? {
            inMsgs: a.varz.in_msgs - b.varz.in_msgs,
            outMsgs: a.varz.out_msgs - b.varz.out_msgs,
            inBytes: a.varz.in_bytes - b.varz.in_bytes,
            outBytes: a.varz.out_bytes - b.varz.out_bytes,
          }
        : undefined,
  };
}

/** The p-th percentile (nearest rank) of a non-empty list. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A signing operation on `side`'s wallet; every 64th signature is verified here too. */
export const signOp =
  (side: Side, keyType: KeyType) =>
  async (i: number): Promise<void> => {
    const tx = randomBytes(keyType === 'secp256k1' ? 32 : 64);
    const out = await side.client.sign({ walletId: side.wallet.walletId, keyType, tx, txId: randomUUID() });
    if (i % 64 === 0) {
      const pub = keyType === 'secp256k1' ? side.wallet.ecdsaPublicKey : side.wallet.eddsaPublicKey;
      if (!verifySignOutcome(out, pub, tx)) throw new Error('the cluster returned a signature that does not verify');
    }
  };

export const keygenOp = (side: Side) => async (): Promise<void> => {
  await side.client.createWallet(`bench-keygen-${randomUUID()}`);
};
