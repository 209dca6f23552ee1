/**
 * The node-to-node bus (core NATS semantics): at-most-once publish/subscribe with queue groups,
 * and request/reply with a timeout. Messages carry bytes and optional headers; the bus knows no
 * protocol. Implementations: `memory/memory-bus.ts` (one process) and `nats/nats-bus.ts` (core NATS).
 *
 * A subscription takes effect once the server has it: at once in memory, after a round trip on
 * NATS (a message another connection publishes before that may miss it, as on any NATS client).
 * Protocols that cannot lose the first message must not rely on subscribe-then-publish across
 * connections without a handshake.
 */

/** A message as a subscriber sees it. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: ReadonlyMap<string, string>;
  /** The subject to answer on (set for a request). */
  readonly reply?: string;
}

export interface Subscription {
  /** Stops delivery to this subscription. Does not throw. */
  unsubscribe(): void;
}

export interface PublishOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly reply?: string;
}

export interface Bus {
  /** Publishes (fire and forget). Throws `InvalidArgumentError` on a bad subject, `InvalidStateError` once closed. */
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void;
  /**
   * Delivers every message matching `pattern` (NATS wildcards) to `handler`, in order; with
   * `queue`, each message goes to one member of the group. A handler that throws or rejects does
   * not stop delivery. Throws `InvalidArgumentError` on a bad pattern, `InvalidStateError` once closed.
   */
  subscribe(pattern: string, handler: (m: BusMessage) => void | Promise<void>, opts?: { queue?: string }): Subscription;
  /**
   * Publishes with a fresh reply subject and resolves with the first answer. Rejects with
   * `TimeoutError` after `timeoutMs`, `NotFoundError` at once if nobody listens (as NATS "no
   * responders"), `InvalidStateError` once closed.
   */
  request(
    subject: string,
    data: Uint8Array,
    opts: { timeoutMs: number; headers?: Readonly<Record<string, string>> },
  ): Promise<BusMessage>;
  /** Stops every subscription and rejects pending requests. Does not throw. */
  close(): Promise<void>;
}
