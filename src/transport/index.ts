/**
 * Transports move bytes and know no protocol: the node-to-node {@link Bus}, the client
 * {@link WorkQueue} and the {@link KeyValue} bucket for peers and readiness, each with an
 * in-process implementation (the embedded cluster, tests) and, later, NATS.
 */

export type { Bus, BusMessage, PublishOptions, Subscription } from './bus.js';
export type { KeyValue, KvEntry } from './kv.js';
export { MemoryBroker } from './memory/memory-bus.js';
export { MemoryKvStore } from './memory/memory-kv.js';
export { MemoryJetStream } from './memory/memory-work-queue.js';
export {
  connectNats,
  NatsConnectError,
  type NatsConnectFailure,
  type NatsOptions,
  type NatsTlsOptions,
  natsConnectionOptions,
  reconnectDelay,
} from './nats/connect.js';
export { NatsBus } from './nats/nats-bus.js';
export { checkPattern, checkPublishSubject, subjectMatches } from './subject.js';
export type { ConsumerConfig, StreamConfig, WorkMessage, WorkQueue } from './work-queue.js';
