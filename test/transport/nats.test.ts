import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { connectNats, JetStreamWorkQueue, NatsBus, NatsKv } from '../../src/transport/index.js';
import { type NatsServer, startNatsServer } from '../helpers/nats-server.js';
import { busConformance, kvConformance, workQueueConformance } from './conformance.js';

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

async function pair(): Promise<{ n1: NatsConnection; n2: NatsConnection; close(): Promise<void> }> {
  const n1 = await connectNats({ url: server.url, name: 'a' });
  const n2 = await connectNats({ url: server.url, name: 'b' });
  return { n1, n2, close: async () => void (await Promise.all([n1.close(), n2.close()])) };
}

busConformance('nats', async () => {
  const { n1, n2, close } = await pair();
  const a = new NatsBus(n1);
  const b = new NatsBus(n2);
  return {
    a,
    b,
    // a subscription is in effect once the server has it: one round trip on the subscriber's connection
    sync: async () => void (await Promise.all([n1.flush(), n2.flush()])),
    done: async () => {
      await Promise.all([a.close(), b.close()]);
      await close();
    },
  };
});

let buckets = 0;
kvConformance('nats', async (ttlMs) => {
  const n1 = await connectNats({ url: server.url });
  const n2 = await connectNats({ url: server.url });
  const name = `peers_${++buckets}`;
  const a = await NatsKv.open(n1, name, ttlMs);
  const b = await NatsKv.open(n2, name, ttlMs);
  return {
    a,
    b,
    sync: async () => void (await Promise.all([a.watching(), b.watching()])),
    done: async () => {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([n1.close(), n2.close()]);
    },
  };
});

workQueueConformance('nats', async () => {
  const n1 = await connectNats({ url: server.url });
  const n2 = await connectNats({ url: server.url });
  // every test starts from an empty server, as the memory suite does with a fresh MemoryJetStream
  const jsm = await jetstreamManager(n1);
  for await (const s of jsm.streams.names()) await jsm.streams.delete(s);
  const a = new JetStreamWorkQueue(n1);
  const b = new JetStreamWorkQueue(n2);
  return {
    a,
    b,
    done: async () => {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([n1.close(), n2.close()]);
    },
  };
});
