/**
 * The {@link KeyValue} over a NATS KV bucket (history 1, the bucket's TTL as its MaxAge).
 *
 * NATS KV before server 2.11 reports no expiry to watchers: an entry past its TTL silently leaves
 * the stream. A watch here therefore tracks the live keys it has seen and, once one has not been
 * put again for the TTL, asks the bucket; if the entry is gone it reports a `DEL` (whose revision
 * is the expired write's, since no write happened). A watch takes effect once its consumer exists
 * at the server ({@link NatsKv.watching}); changes made before that are not reported.
 */
import { type KV, Kvm, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import type { KeyValue, KvEntry } from '../kv.js';

const KEY_RE = /^[-/_=.a-zA-Z0-9]+$/;

export interface NatsKvOptions {
  /** Bucket replicas on a clustered NATS (default 1). */
  readonly replicas?: number;
}

export class NatsKv implements KeyValue {
  private closed = false;
  private readonly stops = new Set<() => void>();
  private readonly starting = new Set<Promise<unknown>>();

  private constructor(
    private readonly kv: KV,
    readonly ttlMs: number,
  ) {}

  /**
   * Opens the bucket `name` (created on first use) whose entries live `ttlMs` after their last put
   * (0: forever). Throws `InvalidArgumentError` if the bucket exists with another TTL.
   */
  static async open(nc: NatsConnection, name: string, ttlMs = 0, opts: NatsKvOptions = {}): Promise<NatsKv> {
    if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new InvalidArgumentError('a bucket TTL is a whole number of ms');
    const kvm = new Kvm(nc);
    let kv: KV;
    try {
      kv = await kvm.open(name);
      const status = await kv.status();
      if (status.ttl !== ttlMs) throw new InvalidArgumentError(`bucket ${name} exists with a TTL of ${status.ttl} ms`);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw e;
      kv = await kvm.create(name, { history: 1, ttl: ttlMs, replicas: opts.replicas ?? 1 });
    }
    return new NatsKv(kv, ttlMs);
  }

  private open(): void {
    if (this.closed) throw new InvalidStateError('the key-value handle is closed');
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.open();
    if (!KEY_RE.test(key)) throw new InvalidArgumentError('a key is letters, digits and - / _ = .');
    return this.kv.put(key, value);
  }

  async get(key: string): Promise<KvEntry | null> {
    this.open();
    if (!KEY_RE.test(key)) return null;
    const e = await this.kv.get(key);
    if (e?.operation !== 'PUT') return null;
    return { key: e.key, value: Uint8Array.from(e.value), revision: e.revision, operation: 'PUT' };
  }

  async delete(key: string): Promise<void> {
    this.open();
    if (!KEY_RE.test(key)) return;
    await this.kv.delete(key);
  }

  async keys(): Promise<string[]> {
    this.open();
    const out: string[] = [];
    for await (const k of await this.kv.keys()) out.push(k);
    return out;
  }

  /** Resolves once every watch started so far is in effect at the server. Does not throw. */
  async watching(): Promise<void> {
    await Promise.allSettled([...this.starting]);
  }

  watch(handler: (e: KvEntry) => void): { stop(): void } {
    this.open();
    let stopped = false;
    let iter: { stop(): void } | undefined;
    let timer: NodeJS.Timeout | undefined;
    // live keys this watch has seen: last revision and when it was seen
    const live = new Map<string, { revision: number; at: number }>();
    const emit = (e: KvEntry) => {
      if (stopped) return;
      try {
        handler(e);
      } catch {
        // a failing watcher must not stop the watch
      }
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.stops.delete(stop);
      clearInterval(timer);
      iter?.stop();
    };
    this.stops.add(stop);
    const checkExpiry = async () => {
      const now = Date.now();
      for (const [key, l] of [...live]) {
        if (now - l.at < this.ttlMs) continue;
        let e: Awaited<ReturnType<KV['get']>>;
        try {
          e = await this.kv.get(key);
        } catch {
          continue; // disconnected: look again later
        }
        if (live.get(key) !== l) continue; // a newer event arrived meanwhile
        if (e?.operation !== 'PUT') {
          live.delete(key);
          emit({ key, value: new Uint8Array(0), revision: l.revision, operation: 'DEL' });
        } else if (e.revision !== l.revision) live.set(key, { revision: e.revision, at: now });
      }
    };
    const started = (async () => {
      const it = await this.kv.watch({ include: KvWatchInclude.LastValue });
      iter = it;
      if (stopped) return it.stop();
      if (this.ttlMs > 0) {
        let busy = false;
        timer = setInterval(
          () => {
            if (busy) return;
            busy = true;
            void checkExpiry().finally(() => {
              busy = false;
            });
          },
          Math.max(25, Math.floor(this.ttlMs / 4)),
        );
        timer.unref();
      }
      void (async () => {
        for await (const e of it) {
          if (stopped) break;
          const op = e.operation === 'PUT' ? 'PUT' : 'DEL';
          if (op === 'PUT') live.set(e.key, { revision: e.revision, at: Date.now() });
          else live.delete(e.key);
          // entries that existed before the watch are tracked (for expiry) but not reported
          if (e.isUpdate) emit({ key: e.key, value: Uint8Array.from(e.value), revision: e.revision, operation: op });
        }
      })().catch(() => {});
    })();
    this.starting.add(started);
    void started.catch(() => {}).finally(() => this.starting.delete(started));
    return { stop };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.stops]) s();
  }
}
