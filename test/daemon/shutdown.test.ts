/** SIGTERM stops the node and closes the port; a second signal forces the exit. */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log.js';
import { handleShutdownSignals, type SignalSource } from '../../src/daemon/index.js';
import { captureLogger, DaemonCluster, get, until } from './helpers.js';

const signals = () => new EventEmitter() as unknown as SignalSource & EventEmitter;

describe('shutdown on signals', () => {
  let c: DaemonCluster;
  beforeAll(async () => {
    c = await (await DaemonCluster.create(3)).startAll();
    await until(() => c.daemons.every((d) => d!.readiness().ready), 15_000, 'cluster ready');
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('SIGTERM stops the node, leaves the cluster, closes the port and exits 0', async () => {
    const d = c.daemons[2]!;
    const port = d.healthPort!;
    expect((await get(port, '/healthz')).status).toBe(200);
    const source = signals();
    const exits: number[] = [];
    const h = handleShutdownSignals({
      stop: () => d.stop(),
      log: d.log,
      flush: () => d.log.flush(),
      exit: (code) => exits.push(code),
      source,
    });
    source.emit('SIGTERM', 'SIGTERM');
    expect(await h.done).toBe(0);
    expect(exits).toEqual([0]);
    h.dispose();
    await expect(get(port, '/healthz')).rejects.toThrow();
    expect(d.readiness()).toMatchObject({ ready: false, details: { stopping: true, vault_open: false } });
    // the others see it leave
    const other = c.daemons[0]!;
    await until(() => other.node.readyMembers().length === 2, 15_000, 'node2 to leave');
    const lines = c.logs.get(c.names[2]!)!;
    expect(lines.some((l) => JSON.parse(l).msg === 'node stopped')).toBe(true);
    expect(lines.at(-1)).toContain('shut down');
    c.daemons[2] = undefined;
  });

  it('a second signal while stopping exits at once with 130', async () => {
    const source = signals();
    const exits: number[] = [];
    const { log, lines } = captureLogger('info');
    const h = handleShutdownSignals({
      stop: () => new Promise(() => {}),
      log,
      exit: (code) => exits.push(code),
      source,
    });
    source.emit('SIGINT', 'SIGINT');
    source.emit('SIGTERM', 'SIGTERM');
    expect(await h.done).toBe(130);
    expect(exits).toEqual([130]);
    expect(lines.map((l) => JSON.parse(l).msg)).toContain('second signal: exiting now without finishing the shutdown');
    h.dispose();
  });

  it('a stop that overruns its bound exits 1; one that throws exits 1', async () => {
    const exits: number[] = [];
    const slow = handleShutdownSignals({
      stop: () => new Promise(() => {}),
      log: silentLogger,
      timeoutMs: 50,
      exit: (code) => exits.push(code),
      source: signals(),
    });
    expect(await slow.trigger('test')).toBe(1);
    const failing = handleShutdownSignals({
      stop: async () => {
        throw new Error('boom');
      },
      log: silentLogger,
      exit: (code) => exits.push(code),
      source: signals(),
    });
    expect(await failing.trigger('test')).toBe(1);
    expect(exits).toEqual([1, 1]);
  });
});
