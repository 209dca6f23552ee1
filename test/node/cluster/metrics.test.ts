/**
 * The node reports what it does through `NodeMetrics` (the daemon binds it to prom-client): every
 * request taken, every result by error code, sessions as coordinator and member with their
 * durations, ready peers as they change, backups.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, type NodeMetrics } from '../../../src/node/index.js';
import { ClusterClient } from '../../helpers/cluster-client.js';
import { testLog } from '../../helpers/test-log.js';

class Recorder implements NodeMetrics {
  readonly events: string[] = [];
  readonly durations: number[] = [];
  active = 0;
  ready: [number, number] = [0, 0];
  requestReceived(op: string) {
    this.events.push(`request ${op}`);
  }
  resultPublished(op: string, code: string | undefined) {
    this.events.push(`result ${op} ${code ?? 'ok'}`);
  }
  sessionStarted(op: string, role: string) {
    this.active++;
    this.events.push(`start ${op} ${role}`);
  }
  sessionEnded(op: string, role: string, seconds: number) {
    this.active--;
    this.durations.push(seconds);
    this.events.push(`end ${op} ${role}`);
  }
  peersReady(ready: number, members: number) {
    this.ready = [ready, members];
  }
  backupFinished(ok: boolean, kind?: string) {
    this.events.push(`backup ${ok} ${kind}`);
  }
  count(e: string) {
    return this.events.filter((x) => x === e).length;
  }
}

describe('node metrics: what a cluster reports while it serves requests', () => {
  let cluster: LocalCluster;
  let client: ClusterClient;
  const rec = new Map<string, Recorder>();
  const all = () => [...rec.values()];

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      heartbeatMs: 200,
      log: testLog,
      metrics: (name) => {
        const r = new Recorder();
        rec.set(name, r);
        return r;
      },
    });
    client = await new ClusterClient(cluster).start();
  }, 120_000);

  afterAll(async () => {
    client?.stop();
    await cluster?.stop();
  });

  it('every ready member is reported once the cluster has formed', async () => {
    const deadline = Date.now() + 10_000;
    while (all().some((r) => r.ready[0] !== 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const r of all()) expect(r.ready).toEqual([3, 3]);
  });

  it('a keygen and a signature count one request and one success each, with sessions on every member', async () => {
    const k = await client.keygen('w-metrics');
    expect(k.result_type).toBe('success');
    const s = await client.sign({ walletId: 'w-metrics', keyType: 'ed25519', tx: randomBytes(32), txId: 'tx-m-1' });
    expect(s.result_type).toBe('success');
    const sum = (e: string) => all().reduce((n, r) => n + r.count(e), 0);
    expect(sum('request keygen')).toBe(1);
    expect(sum('result keygen ok')).toBe(1);
    expect(sum('request signing')).toBe(1);
    expect(sum('result signing ok')).toBe(1);
    expect(sum('start keygen coordinator')).toBe(1);
    expect(sum('start sign coordinator')).toBe(1);
    // keygen runs on all three; signing on t+1 = 2 (and observers join too)
    expect(sum('start keygen member')).toBe(2);
    expect(sum('start sign member')).toBeGreaterThanOrEqual(1);
    // sessions end (members may confirm a moment after the result)
    const deadline = Date.now() + 10_000;
    while (all().some((r) => r.active !== 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const r of all()) expect(r.active).toBe(0);
    for (const r of all()) for (const d of r.durations) expect(d).toBeGreaterThan(0);
  });

  it('a request that fails authentication is counted under its error code', async () => {
    const data = Buffer.from(
      JSON.stringify({
        key_type: 'ed25519',
        wallet_id: 'w-metrics',
        network_internal_code: 'test',
        tx_id: 'tx-bad',
        tx: randomBytes(32).toString('base64'),
        signature: randomBytes(64).toString('base64'),
      }),
    );
    await client.publishSign('tx-bad', data);
    const r = await client.waitSign('tx-bad');
    expect(r.error_code).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');
    const codes = all().flatMap((x) =>
      x.events.filter((e) => e === 'result signing ERROR_INVALID_INITIATOR_SIGNATURE'),
    );
    expect(codes).toHaveLength(1);
  });

  it('a backup run is reported, and a stopped member drops out of the others’ ready count', async () => {
    await cluster.nodes[0]!.backupNow();
    expect(rec.get('node0')!.events.filter((e) => e.startsWith('backup true'))).toHaveLength(1);
    await cluster.stopNode(2);
    expect(rec.get('node2')!.ready[0]).toBe(0);
    const deadline = Date.now() + 15_000;
    while ((rec.get('node0')!.ready[0] !== 2 || rec.get('node1')!.ready[0] !== 2) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(rec.get('node0')!.ready).toEqual([2, 3]);
    expect(rec.get('node1')!.ready).toEqual([2, 3]);
  });
});
