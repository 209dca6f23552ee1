import { MemoryBroker, MemoryJetStream, MemoryKvStore } from '../../src/transport/index.js';
import { busConformance, kvConformance, workQueueConformance } from './conformance.js';

busConformance('memory', async () => {
  const broker = new MemoryBroker();
  const a = broker.bus();
  const b = broker.bus();
  return { a, b, done: async () => Promise.all([a.close(), b.close()]).then(() => undefined) };
});

kvConformance('memory', async (ttlMs) => {
  let t = 1_000;
  const store = new MemoryKvStore(() => t);
  const a = store.bucket('peers', ttlMs);
  const b = store.bucket('peers', ttlMs);
  return {
    a,
    b,
    advance: (ms) => {
      t += ms;
    },
    done: async () => Promise.all([a.close(), b.close()]).then(() => undefined),
  };
});

workQueueConformance('memory', async () => {
  const server = new MemoryJetStream();
  const a = server.connect();
  const b = server.connect();
  return { a, b, done: async () => Promise.all([a.close(), b.close()]).then(() => undefined) };
});
