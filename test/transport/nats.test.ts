import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { connectNats, NatsBus } from '../../src/transport/index.js';
import { type NatsServer, startNatsServer } from '../helpers/nats-server.js';
import { busConformance } from './conformance.js';

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
