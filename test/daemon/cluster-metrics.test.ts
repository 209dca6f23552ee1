/** /metrics counts real requests served by a 3-node cluster of daemons (in-process transports). */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../helpers/cluster-client.js';
import { DaemonCluster, get, sample, until } from './helpers.js';

describe('metrics count the requests a cluster of daemons serves', () => {
  let c: DaemonCluster;
  let client: ClusterClient;
  beforeAll(async () => {
    c = await (await DaemonCluster.create(3)).startAll();
    await until(() => c.daemons.every((d) => d!.readiness().ready), 15_000, 'cluster ready');
    client = await new ClusterClient(c.asClientCluster()).start();
  }, 60_000);
  afterAll(async () => {
    client?.stop();
    await c?.close();
  });

  const scrapeAll = async () => Promise.all(c.daemons.map(async (d) => (await get(d!.healthPort!, '/metrics')).body));
  const total = (texts: string[], name: string, labels: Record<string, string> = {}) =>
    texts.reduce((n, t) => n + sample(t, name, labels), 0);

  it('one keygen, two signatures and one forged request: counted once each across the cluster', async () => {
    expect((await client.keygen('w-prom')).result_type).toBe('success');
    for (const [txId, keyType] of [
      ['tx-p-1', 'ed25519'],
      ['tx-p-2', 'secp256k1'],
    ] as const)
      expect((await client.sign({ walletId: 'w-prom', keyType, tx: randomBytes(32), txId })).result_type).toBe(
        'success',
      );
    const forged = JSON.parse(
      Buffer.from(
        client.signRequest({ walletId: 'w-prom', keyType: 'ed25519', tx: randomBytes(32), txId: 'tx-f' }),
      ).toString(),
    );
    forged.signature = randomBytes(64).toString('base64');
    await client.publishSign('tx-f', Buffer.from(JSON.stringify(forged)));
    expect((await client.waitSign('tx-f')).error_code).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');

    let texts = await scrapeAll();
    // every daemon is ready and connected, as its /readyz says
    for (const t of texts) {
      expect(sample(t, 'tessera_ready')).toBe(1);
      expect(sample(t, 'tessera_nats_connected')).toBe(1);
    }
    expect(total(texts, 'tessera_requests_total', { op: 'keygen' })).toBe(1);
    expect(total(texts, 'tessera_requests_total', { op: 'signing' })).toBe(3);
    expect(total(texts, 'tessera_results_total', { op: 'keygen', code: 'ok' })).toBe(1);
    expect(total(texts, 'tessera_results_total', { op: 'signing', code: 'ok' })).toBe(2);
    expect(total(texts, 'tessera_results_total', { op: 'signing', code: 'ERROR_INVALID_INITIATOR_SIGNATURE' })).toBe(1);
    // one coordinated keygen and two coordinated signatures; the keygen ran on every member
    expect(total(texts, 'tessera_session_duration_seconds_count', { op: 'keygen', role: 'coordinator' })).toBe(1);
    expect(total(texts, 'tessera_session_duration_seconds_count', { op: 'sign', role: 'coordinator' })).toBe(2);
    await until(
      async () => {
        texts = await scrapeAll();
        return total(texts, 'tessera_session_duration_seconds_count', { op: 'keygen', role: 'member' }) === 2;
      },
      10_000,
      'member keygen sessions to end',
    );
    expect(total(texts, 'tessera_session_duration_seconds_sum', { op: 'keygen', role: 'coordinator' })).toBeGreaterThan(
      0,
    );
    await until(
      async () => {
        texts = await scrapeAll();
        return texts.every((t) => !/^tessera_active_sessions\{[^}]*\} [1-9]/m.test(t));
      },
      10_000,
      'no session in progress',
    );
  });
});
