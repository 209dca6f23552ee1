/**
 * A key-value bucket inside one process. Every node's view of one bucket is the same object
 * (`MemoryKvStore.bucket(name, ttlMs)` returns it), as every NATS client sees one server bucket.
 * Expiry is checked on every read and by one timer per bucket, so watchers see a `DEL` when a
 * heartbeat stops.
 */
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import type { KeyValue, KvEntry } from '../kv.js';

const KEY_RE = /^[-/_=.a-zA-Z0-9]+$/;

interface Live {
  entry: KvEntry;
  at: number;
}

/** The buckets of one in-process "server". */
export class MemoryKvStore {
  private readonly buckets = new Map<string, MemoryKv>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The bucket `name` (created on first use) whose entries live `ttlMs` after their last put (0:
   * forever). Throws `InvalidArgumentError` if the bucket exists with another TTL.
   */
  bucket(name: string, ttlMs = 0): KeyValue {
    const b = this.buckets.get(name);
    if (b) {
      if (b.ttlMs !== ttlMs) throw new InvalidArgumentError(`bucket ${name} exists with a TTL of ${b.ttlMs} ms`);
      return b.view();
    }
    const created = new MemoryKv(ttlMs, this.now);
    this.buckets.set(name, created);
    return created.view();
  }
}

class MemoryKv {
  private readonly entries = new Map<string, Live>();
  private readonly watchers = new Set<(e: KvEntry) => void>();
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  private emit(e: KvEntry): void {
    for (const w of [...this.watchers]) {
      try {
        w(e);
      } catch {
        // a failing watcher must not stop the others
      }
    }
  }

  /** Drops expired entries, telling watchers. */
  expire(): void {
    if (this.ttlMs <= 0) return;
    const t = this.now();
    for (const [key, l] of this.entries) {
      if (t - l.at >= this.ttlMs) {
        this.entries.delete(key);
        this.emit({ key, value: new Uint8Array(0), revision: ++this.revision, operation: 'DEL' });
      }
    }
  }

  private schedule(): void {
    if (this.ttlMs <= 0 || this.timer || this.watchers.size === 0) return;
    this.timer = setInterval(() => this.expire(), Math.max(10, Math.floor(this.ttlMs / 4)));
    this.timer.unref();
  }

  put(key: string, value: Uint8Array): number {
    if (!KEY_RE.test(key)) throw new InvalidArgumentError('a key is letters, digits and - / _ = .');
    this.expire();
    const entry: KvEntry = { key, value: Uint8Array.from(value), revision: ++this.revision, operation: 'PUT' };
    this.entries.set(key, { entry, at: this.now() });
    this.emit(entry);
    return entry.revision;
  }

  get(key: string): KvEntry | null {
    this.expire();
    const l = this.entries.get(key);
    return l ? { ...l.entry, value: Uint8Array.from(l.entry.value) } : null;
  }

  delete(key: string): void {
    this.expire();
    if (!this.entries.delete(key)) return;
    this.emit({ key, value: new Uint8Array(0), revision: ++this.revision, operation: 'DEL' });
  }

  keys(): string[] {
    this.expire();
    return [...this.entries.keys()];
  }

  watch(handler: (e: KvEntry) => void): () => void {
    this.watchers.add(handler);
    this.schedule();
    return () => {
      this.watchers.delete(handler);
      if (this.watchers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** One client's handle: closing it stops only its own watches. */
  view(): KeyValue {
    let closed = false;
    const stops = new Set<() => void>();
    const open = () => {
      if (closed) throw new InvalidStateError('the key-value handle is closed');
    };
    return {
      put: async (k, v) => {
        open();
        return this.put(k, v);
      },
      get: async (k) => {
        open();
        return this.get(k);
      },
      delete: async (k) => {
        open();
        this.delete(k);
      },
      keys: async () => {
        open();
        return this.keys();
      },
      watch: (h) => {
        open();
        const stop = this.watch(h);
        stops.add(stop);
        return {
          stop: () => {
            stop();
            stops.delete(stop);
          },
        };
      },
      close: async () => {
        closed = true;
        for (const s of stops) s();
        stops.clear();
      },
    };
  }
}
