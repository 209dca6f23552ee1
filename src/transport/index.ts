/**
 * Transports move bytes and know no protocol: the node-to-node {@link Bus}, the client
 * {@link WorkQueue} and the {@link KeyValue} bucket for peers and readiness, each with an
 * in-process implementation (the embedded cluster, tests) and a NATS one (`nats/`).
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
export {
  JetStreamWorkQueue,
  type JetStreamWorkQueueOptions,
  STREAM_MAX_AGE_MS,
  STREAM_MAX_BYTES,
} from './nats/jetstream-work-queue.js';
export { NatsBus } from './nats/nats-bus.js';
export { NatsKv, type NatsKvOptions } from './nats/nats-kv.js';
export {
  checkStream,
  checkStreams,
  MIN_DUPLICATE_WINDOW_MS,
  patternCovers,
  patternsOverlap,
  type StreamExpectation,
  type StreamReport,
} from './nats/stream-check.js';
export { checkPattern, checkPublishSubject, subjectMatches } from './subject.js';
export type { ConsumerConfig, DroppedMessage, StreamConfig, WorkMessage, WorkQueue } from './work-queue.js';
