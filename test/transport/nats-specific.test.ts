/** What the NATS transports do beyond the conformance suites: connection options and errors, stream limits, advisories. */
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectNats,
  NatsConnectError,
  natsConnectionOptions,
  reconnectDelay,
  reconnectDelayHandler,
  redactUrl,
} from '../../src/transport/nats/connect.js';
import {
  JetStreamWorkQueue,
  STREAM_MAX_AGE_MS,
  STREAM_MAX_BYTES,
} from '../../src/transport/nats/jetstream-work-queue.js';
import { NatsKv } from '../../src/transport/nats/nats-kv.js';
import { freePort, type NatsServer, startNatsServer } from '../helpers/nats-server.js';
import { until } from './conformance.js';

let server: NatsServer;
let authed: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
  authed = await startNatsServer(['--user', 'node1', '--pass', 's3cret']);
});
afterAll(async () => {
  await server?.stop();
  await authed?.stop();
});

describe('NATS connection', () => {
  it('refuses contradictory options up front, with what to fix', () => {
    expect(() => natsConnectionOptions({ url: '' })).toThrow(NatsConnectError);
    expect(() => natsConnectionOptions({ url: 'nats://x', user: 'u', token: 't' })).toThrow(/only one/);
    expect(() => natsConnectionOptions({ url: 'nats://x', password: 'p' })).toThrow(/user/);
    expect(() => natsConnectionOptions({ url: 'nats://x', tls: { certFile: 'c' } })).toThrow(/go together/);
    expect(() => natsConnectionOptions({ url: 'nats://x', credsFile: '/nonexistent/x.creds' })).toThrow(/cannot read/);
    const o = natsConnectionOptions({ url: 'nats://x' });
    expect(o.maxReconnectAttempts).toBe(-1);
  });

  it('backs off exponentially up to the cap', () => {
    for (let i = 0; i < 20; i++) {
      expect(reconnectDelay(0, 250, 10_000)).toBeLessThanOrEqual(250);
      expect(reconnectDelay(10, 250, 10_000)).toBeLessThanOrEqual(10_000);
      expect(reconnectDelay(10, 250, 10_000)).toBeGreaterThanOrEqual(5_000);
    }
  });

  it("the reconnect delay grows once per dial, not on each turn of nats.js's dial loop; a reconnect starts it over", () => {
    let t = 0;
    const backoff = { attempt: 0 };
    const handler = reconnectDelayHandler(backoff, 100, 10_000, () => t);
    const d0 = handler();
    // the loop asks again while it sleeps towards that delay: the same answer
    t += d0 / 2;
    expect(handler()).toBe(d0);
    expect(handler()).toBe(d0);
    expect(backoff.attempt).toBe(1);
    // once it has passed (a dial happened), the next delay is the next step
    t += d0;
    const d1 = handler();
    expect(backoff.attempt).toBe(2);
    expect(d1).toBeGreaterThanOrEqual(100); // step 1: 100–200 ms
    expect(d1).toBeLessThanOrEqual(200);
    // a reconnect resets the count: the first step again, at once
    backoff.attempt = 0;
    expect(handler()).toBeLessThanOrEqual(100);
    expect(backoff.attempt).toBe(1);
  });

  it('the reconnect backoff starts over after each reconnect (it does not stay at the cap after a few outages)', async () => {
    const own = await startNatsServer();
    try {
      const backoff = { attempt: 0 };
      const nc = await connectNats({ url: own.url, reconnectWaitMs: 50, maxReconnectWaitMs: 400 }, backoff);
      const reconnected = async () => {
        for await (const s of nc.status()) if (s.type === 'reconnect') return;
      };
      for (let outage = 0; outage < 2; outage++) {
        await own.halt('SIGKILL');
        await until(() => backoff.attempt >= 4);
        const back = reconnected();
        await own.restart();
        await back;
        expect(backoff.attempt).toBe(0);
      }
      await nc.close();
    } finally {
      await own.stop();
    }
  });

  it('an unreachable server and refused credentials are typed errors', async () => {
    const port = await freePort();
    await expect(connectNats({ url: `nats://127.0.0.1:${port}`, connectTimeoutMs: 1000 })).rejects.toMatchObject({
      reason: 'unreachable',
      code: 'IO_ERROR',
    });
    await expect(connectNats({ url: authed.url, user: 'node1', password: 'wrong' })).rejects.toMatchObject({
      reason: 'auth',
      code: 'INVALID_ARGUMENT',
    });
    const nc = await connectNats({ url: authed.url, user: 'node1', password: 's3cret' });
    await nc.close();
  });

  it('credentials written into the server URL never reach an error message', async () => {
    const port = await freePort();
    const e = await connectNats({ url: `nats://node1:hunter2secret@127.0.0.1:${port}`, connectTimeoutMs: 1000 }).catch(
      (x: unknown) => x as Error,
    );
    expect(e).toBeInstanceOf(NatsConnectError);
    expect(String((e as Error).message)).not.toMatch(/hunter2secret/);
    expect(String((e as Error).message)).toMatch(/\[redacted\]@127\.0\.0\.1/);
    const wrong = authed.url.replace('nats://', 'nats://node1:wrongpass@');
    const w = await connectNats({ url: wrong }).catch((x: unknown) => x as Error);
    expect(w).toMatchObject({ reason: 'auth' });
    expect(String((w as Error).message)).not.toMatch(/wrongpass/);
    expect(redactUrl('tls://a:b@h:1')).toBe('tls://[redacted]@h:1');
    expect(redactUrl('nats://h:4222')).toBe('nats://h:4222');
  });
});

describe('JetStream work queue on NATS', () => {
  it("creates streams with mpcium's limits and uses an existing stream as it is", async () => {
    const nc = await connectNats({ url: server.url });
    const wq = new JetStreamWorkQueue(nc);
    await wq.ensureStream({ name: 'mpc-signing', subjects: ['mpc.signing_request.*'], duplicateWindowMs: 60_000 });
    await wq.ensureStream({ name: 'mpc-signing', subjects: ['mpc.signing_request.*'] });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('mpc-signing');
    expect(info.config.max_age).toBe(STREAM_MAX_AGE_MS * 1_000_000);
    expect(info.config.max_bytes).toBe(STREAM_MAX_BYTES);
    expect(info.config.duplicate_window).toBe(60_000 * 1_000_000);
    expect(info.config.retention).toBe('limits');
    await wq.close();
    await nc.close();
  });

  it('the max-deliveries listener gets the original message, once across the members of the durable', async () => {
    const n1 = await connectNats({ url: server.url });
    const n2 = await connectNats({ url: server.url });
    const a = new JetStreamWorkQueue(n1);
    const b = new JetStreamWorkQueue(n2);
    await a.ensureStream({ name: 'sig', subjects: ['sig.*'] });
    const cfg = { stream: 'sig', durable: 'signers', filter: 'sig.*', maxDeliver: 2, ackWaitMs: 100, maxAckPending: 5 };
    const dropped: string[] = [];
    const never = () => {};
    a.consume(cfg, never, {
      onMaxDeliveries: (m) => dropped.push(`a:${m.subject}:${new TextDecoder().decode(m.data)}`),
    });
    b.consume(cfg, never, {
      onMaxDeliveries: (m) => dropped.push(`b:${m.subject}:${new TextDecoder().decode(m.data)}`),
    });
    await a.publish('sig.tx1', new TextEncoder().encode('{"tx_id":"tx1"}'));
    await until(() => dropped.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(dropped.length).toBe(1);
    expect(dropped[0]!.slice(2)).toBe('sig.tx1:{"tx_id":"tx1"}');
    await Promise.all([a.close(), b.close()]);
    await Promise.all([n1.close(), n2.close()]);
  });

  it('consuming from a stream that does not exist reports NOT_FOUND to onError', async () => {
    const nc = await connectNats({ url: server.url });
    const errors: Error[] = [];
    const wq = new JetStreamWorkQueue(nc, { onError: (e) => errors.push(e) });
    wq.consume(
      { stream: 'nope', durable: 'd', filter: 'nope.*', maxDeliver: 1, ackWaitMs: 1000, maxAckPending: 1 },
      () => {},
    );
    await until(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: 'NOT_FOUND' });
    await wq.close();
    await nc.close();
  });
});

describe('KV on NATS', () => {
  it('refuses to open a bucket with another TTL', async () => {
    const nc = await connectNats({ url: server.url });
    await NatsKv.open(nc, 'ttl_check', 1000);
    await expect(NatsKv.open(nc, 'ttl_check', 2000)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await nc.close();
  });
});
