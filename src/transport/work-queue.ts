/**
 * The client work queue (JetStream semantics, as mpcium uses it): durable streams of requests and
 * results, publish with a message id deduplicated within a window, durable consumers shared by
 * several nodes (each message to one of them), explicit ack, nak (redelivery, optionally later),
 * term, redelivery after the ack wait, and a maximum number of deliveries after which the message
 * is dropped and an advisory raised. Implementations: `memory/memory-work-queue.ts` and
 * `nats/jetstream-work-queue.ts`.
 *
 * Where NATS differs (the node relies on neither):
 * - Retention: memory removes a message once it is acked or terminated; NATS streams are created
 *   with Limits retention (as mpcium's nodes and Go client create them), so an acked message stays
 *   stored (until MaxAge 7 days / MaxBytes 100 MB) but is never delivered to that durable again.
 * - `consume` returns before the NATS consumer exists: its stream is looked up asynchronously, and
 *   a missing stream (or any later failure) goes to the implementation's `onError` option instead
 *   of being thrown. Call `ensureStream` first (the node does).
 * - Redelivery after a missed ack wait and the max-deliveries advisory come from the server's
 *   timers: later than the ack wait by up to the server's check interval.
 * - `onMaxDeliveries` is called on one member of the durable in both (NATS: a queue group on the
 *   advisory subject); the message is the stored original (data and headers), fetched by its stream
 *   sequence.
 */

import { InvalidArgumentError } from '../common/errors.js';

/** A message dropped after `maxDeliver` deliveries: the stored original, headers included. */
export interface DroppedMessage {
  readonly subject: string;
  readonly seq: number;
  readonly data: Uint8Array;
  readonly headers: ReadonlyMap<string, string>;
}

export interface WorkMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** The publisher's headers, and `Nats-Msg-Id` when it was published with a `msgId`. */
  readonly headers: ReadonlyMap<string, string>;
  /** The stream sequence. */
  readonly seq: number;
  /** 1 for the first delivery. */
  readonly deliveryCount: number;
  /** Done: the message leaves the stream. Does not throw. */
  ack(): void;
  /** Deliver again (after `delayMs`). Does not throw. */
  nak(delayMs?: number): void;
  /** Never deliver again. Does not throw. */
  term(): void;
  /** Still working: restarts the ack wait. Does not throw. */
  working(): void;
}

/** A message dropped after its last delivery, as stored: what `onMaxDeliveries` hears of. */
export interface DroppedMessage {
  readonly subject: string;
  /** The stream sequence. */
  readonly seq: number;
  readonly data: Uint8Array;
  /** The publisher's headers as stored with the message (e.g. `ClientID`), and `Nats-Msg-Id` if it had one. */
  readonly headers: ReadonlyMap<string, string>;
}

export interface StreamConfig {
  readonly name: string;
  readonly subjects: readonly string[];
  /** Window of `msgId` deduplication (default 2 minutes, as NATS). */
  readonly duplicateWindowMs?: number;
}

export interface ConsumerConfig {
  readonly stream: string;
  readonly durable: string;
  readonly filter: string;
  /** Deliveries before a message is dropped (with an advisory). */
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  /** Messages delivered and not yet acked, across every member of the durable. */
  readonly maxAckPending: number;
}

/**
 * Checks a consumer's numbers (both implementations take the same). Throws `InvalidArgumentError`.
 */
export function checkConsumerConfig(cfg: ConsumerConfig): void {
  if (
    !Number.isInteger(cfg.maxDeliver) ||
    cfg.maxDeliver < 1 ||
    !(cfg.ackWaitMs > 0) ||
    !Number.isInteger(cfg.maxAckPending) ||
    cfg.maxAckPending < 1
  ) {
    throw new InvalidArgumentError('maxDeliver and maxAckPending must be positive integers and ackWaitMs positive');
  }
}

export interface WorkQueue {
  /** Creates the stream if it does not exist. Throws `InvalidArgumentError` on a bad config, `InvalidStateError` once closed. */
  ensureStream(cfg: StreamConfig): Promise<void>;
  /**
   * Stores a message in the stream whose subjects match; a `msgId` seen within the stream's window
   * is not stored again (`duplicate: true`). Throws `NotFoundError` if no stream takes the subject,
   * `InvalidStateError` once closed.
   */
  publish(
    subject: string,
    data: Uint8Array,
    opts?: { msgId?: string; headers?: Readonly<Record<string, string>> },
  ): Promise<{ seq: number; duplicate: boolean }>;
  /**
   * Joins the durable consumer (created on first use with `cfg`) and hands it messages. A handler
   * that throws or rejects gets its message redelivered (nak). `onMaxDeliveries` hears of a
   * message dropped after `maxDeliver` deliveries. Throws `NotFoundError` for an unknown stream,
   * `InvalidStateError` once closed.
   */
  consume(
    cfg: ConsumerConfig,
    handler: (m: WorkMessage) => void | Promise<void>,
    opts?: { onMaxDeliveries?: (m: DroppedMessage) => void },
  ): { stop(): void };
  /** Stops this connection's consumers. Does not throw. */
  close(): Promise<void>;
}
