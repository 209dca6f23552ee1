/** /healthz, /readyz and /metrics over real HTTP on a cluster of three daemons. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../src/daemon/index.js';
import { DaemonCluster, get, sample, until } from './helpers.js';

describe('health endpoints: live, ready while a majority is ready, metrics', () => {
  let c: DaemonCluster;
  beforeAll(async () => {
    c = await (await DaemonCluster.create(3)).startAll();
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('/healthz answers live, /readyz is ready with mpcium-style detail once every peer is ready', async () => {
    const port = c.daemons[0]!.healthPort!;
    const live = await get(port, '/healthz');
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toMatchObject({ status: 'live', live: true });
    await until(async () => (await get(port, '/readyz')).body.includes('"3/3"'), 15_000, 'all peers ready');
    const ready = await get(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.type).toContain('application/json');
    expect(JSON.parse(ready.body)).toEqual({
      status: 'ready',
      live: true,
      ready: true,
      details: {
        nats_connected: true,
        vault_open: true,
        peers_ready_count: '3/3',
        all_peers_ready: true,
        majority_ready: true,
        stopping: false,
      },
    });
    expect((await get(port, '/health')).status).toBe(200);
  });

  it('/metrics is Prometheus text with the node gauges', async () => {
    const m = await get(c.daemons[0]!.healthPort!, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toContain('text/plain');
    expect(sample(m.body, 'tessera_peers_ready')).toBe(3);
    expect(sample(m.body, 'tessera_peers_total')).toBe(3);
    expect(sample(m.body, 'tessera_vault_open')).toBe(1);
    expect(m.body).toContain('# TYPE tessera_session_duration_seconds histogram');
  });

  it('unknown paths are 404 and other methods 405', async () => {
    const port = c.daemons[0]!.healthPort!;
    expect((await get(port, '/nope')).status).toBe(404);
    const r = await fetch(`http://127.0.0.1:${port}/readyz`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(405);
  });

  it('ready stays with two of three, and flips to 503 when only one is left', async () => {
    const port = c.daemons[0]!.healthPort!;
    await c.stop(2);
    await until(async () => (await get(port, '/readyz')).body.includes('"2/3"'), 15_000, 'two ready');
    const two = await get(port, '/readyz');
    expect(two.status).toBe(200);
    expect(JSON.parse(two.body).details).toMatchObject({ majority_ready: true, all_peers_ready: false });
    await c.stop(1);
    await until(async () => (await get(port, '/readyz')).status === 503, 15_000, 'not ready');
    const one = JSON.parse((await get(port, '/readyz')).body);
    expect(one).toMatchObject({ status: 'not_ready', ready: false, live: true });
    expect(one.details).toMatchObject({ peers_ready_count: '1/3', majority_ready: false });
    expect(sample((await get(port, '/metrics')).body, 'tessera_peers_ready')).toBe(1);
    // still live
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('listen addresses take mpcium’s ":8080" form, host:port and [v6]:port, and refuse others', () => {
    expect(parseListenAddress(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    for (const bad of ['8080', ':99999', 'host:', 'a:b:c', ''])
      expect(() => parseListenAddress(bad)).toThrow(/healthcheck.address/);
  });
});
