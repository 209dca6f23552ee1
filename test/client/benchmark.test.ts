/** runBenchmark over the embedded cluster: batches and concurrency, failures by code, signatures checked. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localSigner, MpcClient, runBenchmark } from '../../src/client/index.js';
import { LocalCluster } from '../../src/node/index.js';

let cluster: LocalCluster;
let client: MpcClient;
let wallet: { walletId: string; ecdsaPublicKey: Uint8Array; eddsaPublicKey: Uint8Array };

beforeAll(async () => {
  cluster = await LocalCluster.start({ nodes: 3, threshold: 1 });
  client = await MpcClient.create({
    workQueue: cluster.clientQueue(),
    bus: cluster.clientBus(),
    initiator: localSigner(cluster.initiatorKey),
  });
  wallet = await client.createWallet();
}, 60_000);
afterAll(async () => {
  await client?.close();
  await cluster?.stop();
});

describe('runBenchmark', () => {
  it('signs N times in batches with at most `concurrency` waiting; every signature checked; progress per request', async () => {
    let waiting = 0;
    let most = 0;
    const progress: number[] = [];
    const original = client.sign.bind(client);
    client.sign = async (req) => {
      most = Math.max(most, ++waiting);
      try {
        return await original(req);
      } finally {
        waiting--;
      }
    };
    try {
      const r = await runBenchmark(
        client,
        { kind: 'sign', walletId: wallet.walletId, keyType: 'ed25519', publicKey: wallet.eddsaPublicKey },
        { requests: 12, batchSize: 4, batchIntervalMs: 0, concurrency: 3, onProgress: (d) => progress.push(d) },
      );
      expect(r).toMatchObject({
        operation: 'signing',
        key_type: 'ed25519',
        wallet_id: wallet.walletId,
        requested: 12,
        succeeded: 12,
        failed: 0,
        failures: {},
        concurrency: 3,
        batch_size: 4,
        signatures_checked: true,
      });
      expect(most).toBeLessThanOrEqual(3);
      expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(r.latency_ms.count).toBe(12);
      expect(r.throughput.per_second).toBeGreaterThan(0);
    } finally {
      client.sign = original;
    }
  });

  it('counts failures by code: a wrong public key is SIGNATURE_INVALID, an unknown wallet ERROR_KEY_NOT_FOUND', async () => {
    const bad = await runBenchmark(
      client,
      {
        kind: 'sign',
        walletId: wallet.walletId,
        keyType: 'secp256k1',
        publicKey: new Uint8Array(wallet.ecdsaPublicKey).reverse(),
      },
      { requests: 3 },
    );
    expect(bad).toMatchObject({ succeeded: 0, failed: 3, failures: { SIGNATURE_INVALID: 3 } });
    expect(bad.window_ms).toBeGreaterThan(0); // the answers came: they count for the window
    const unknown = await runBenchmark(
      client,
      { kind: 'sign', walletId: 'no-such-wallet', keyType: 'ed25519' },
      { requests: 4 },
    );
    expect(unknown).toMatchObject({
      succeeded: 0,
      failed: 4,
      failures: { ERROR_KEY_NOT_FOUND: 4 },
      signatures_checked: false,
    });
    expect(unknown.latency_ms).toMatchObject({ count: 0, p50: null });
  });

  it('refuses bad options before sending anything', async () => {
    await expect(runBenchmark(client, { kind: 'keygen' }, { requests: 0 })).rejects.toThrow(/requests/);
    await expect(runBenchmark(client, { kind: 'keygen' }, { requests: 1, batchSize: 0 })).rejects.toThrow(/batch size/);
    expect(client.pendingRequests).toBe(0);
  });
});
