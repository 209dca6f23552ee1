/**
 * A key-value bucket (NATS KV semantics) for peers and readiness: revisions, deletes as
 * tombstones, watch, and a per-bucket TTL after which an entry not put again is gone (a node's
 * heartbeat). Implementations: `memory/memory-kv.ts` and `nats/nats-kv.ts`.
 *
 * Where NATS differs: NATS KV (server < 2.11) does not tell watchers that an entry expired; the
 * NATS watch detects it itself (a live key not put again for the TTL that the bucket no longer
 * holds) and reports a `DEL` a little after the TTL, whose revision is that of the expired write
 * (no write happened; memory numbers it as a new revision). A NATS watch takes effect once its
 * consumer exists at the server (`NatsKv.watching()`), not at once as in memory.
 */

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Bucket-wide increasing revision of this write. */
  readonly revision: number;
  readonly operation: 'PUT' | 'DEL';
}

export interface KeyValue {
  /** Writes `value`; returns its revision. Throws `InvalidArgumentError` on a bad key, `InvalidStateError` once closed. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** The live entry, or null if absent, deleted or expired. Throws `InvalidStateError` once closed. */
  get(key: string): Promise<KvEntry | null>;
  /** Deletes (a tombstone watchers see). Throws `InvalidStateError` once closed. */
  delete(key: string): Promise<void>;
  /** The live keys. Throws `InvalidStateError` once closed. */
  keys(): Promise<string[]>;
  /**
   * Calls `handler` for every later change (puts, deletes, and a `DEL` when an entry expires).
   * A handler that throws does not stop the watch. Throws `InvalidStateError` once closed.
   */
  watch(handler: (e: KvEntry) => void): { stop(): void };
  /** Stops watches and timers. Does not throw. */
  close(): Promise<void>;
}
