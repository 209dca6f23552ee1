/**
 * A key-value bucket (NATS KV semantics) for peers and readiness: revisions, deletes as
 * tombstones, watch, and a per-bucket TTL after which an entry not put again is gone (a node's
 * heartbeat). Implementations: `memory/memory-kv.ts` and, later, NATS.
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
