/**
 * Load (issue: "1,000 sign requests across 3 nodes complete with zero failures"): 1,000 signing
 * requests — 500 ECDSA, 500 EdDSA, interleaved — kept 48 in flight through two SDK clients, on a
 * 2-of-3 cluster of `tessera start` processes over a real nats-server -js. Every request must end
 * in a signature that verifies under the wallet key (noble), and each node must have coordinated
 * some of them (its /metrics).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MpcClient } from '../../src/client/index.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import {
  type KeyType,
  type Settled,
  signAndSettle,
  signVerified,
  type TestWallet,
  tally,
  txFor,
} from '../helpers/signing.js';

const PER_CURVE = 500;
/** Requests in flight per client. */
const PER_CLIENT = 24;
/** The clients' result timeout: a hang guard only. */
const HANG_GUARD_MS = 150_000;

/** The sum of a counter's samples on a node's /metrics whose labels match `labels`. */
async function counter(port: number, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

describe('load: 1,000 signing requests across a 2-of-3 cluster over NATS', () => {
  let cluster: NatsCluster;
  let clients: MpcClient[];
  let wallet: TestWallet;

  beforeAll(async () => {
    cluster = await NatsCluster.start({ nodes: 3, threshold: 1 });
    clients = [
      await cluster.client({ clientId: 'load-a', resultTimeoutMs: HANG_GUARD_MS }),
      await cluster.client({ clientId: 'load-b', resultTimeoutMs: HANG_GUARD_MS }),
    ];
    wallet = await clients[0]!.createWallet(`w-${randomBytes(4).toString('hex')}`);
    await signVerified(clients[0]!, wallet, 'secp256k1', 'warm-up');
    await signVerified(clients[1]!, wallet, 'ed25519', 'warm-up');
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('500 ECDSA and 500 EdDSA requests, 48 in flight through two clients, all end in a signature that verifies (noble); every node coordinated some', async () => {
    const queue: KeyType[] = [];
    for (let i = 0; i < PER_CURVE; i++) queue.push('secp256k1', 'ed25519');
    const settled: Settled[] = [];
    let next = 0;
    const worker = async (client: MpcClient) => {
      for (let i = next++; i < queue.length; i = next++) {
        const keyType = queue[i]!;
        settled.push(await signAndSettle(client, wallet, keyType, txFor(keyType, `load ${i}`)));
      }
    };
    const before = await Promise.all(
      cluster.healthPorts.map((p) => counter(p, 'tessera_results_total', { op: 'signing', code: 'ok' })),
    );
    await Promise.all(clients.flatMap((c) => Array.from({ length: PER_CLIENT }, () => worker(c))));
    const counts = tally(settled);
    console.log('load:', counts);
    expect(settled.length).toBe(2 * PER_CURVE);
    expect(counts).toEqual({ 'secp256k1 verified': PER_CURVE, 'ed25519 verified': PER_CURVE });
    const after = await Promise.all(
      cluster.healthPorts.map((p) => counter(p, 'tessera_results_total', { op: 'signing', code: 'ok' })),
    );
    const coordinated = after.map((a, i) => a - before[i]!);
    console.log('signatures coordinated per node:', coordinated);
    for (const n of coordinated) expect(n).toBeGreaterThan(0);
    expect(coordinated.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2 * PER_CURVE);
  }, 600_000);
});
