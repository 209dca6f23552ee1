/**
 * Peers and readiness over a {@link KeyValue} bucket with a TTL (mpcium keeps `ready/<node>` in
 * Consul; Tessera needs no Consul): every node puts a heartbeat entry under its id, signed with its
 * Ed25519 identity key and carrying its boot epoch (random per process start). An entry that is
 * not put again within the bucket's TTL expires, and the node counts as down. A changed epoch
 * means the peer restarted: its channel keys are gone and must be exchanged again.
 *
 * Readiness is a liveness hint, never an authorisation: a forged or replayed entry can at most make
 * a coordinator pick a node that then does not answer (the session times out and is retried).
 * Entries are still signed and time-checked so that a writer of the bucket cannot claim a member
 * that is not running.
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import type { KeyValue, KvEntry } from '../../transport/index.js';
import { ed25519PublicKey } from '../crypto/ed25519.js';

const TAG = 'tessera/node/ready/v1';
const EPOCH_BYTES = 16;
/** How far a heartbeat's time may be ahead of this node's clock. */
const MAX_CLOCK_SKEW_MS = 30_000;

export interface ReadinessOptions {
  readonly self: string;
  readonly identityKey: KeyObject;
  /** Every member: node id → 32-byte Ed25519 public key. */
  readonly members: ReadonlyMap<string, Uint8Array>;
  /** The bucket; its TTL must exceed `heartbeatMs` (3× is a good choice). */
  readonly kv: KeyValue;
  /** This process's boot epoch (16 random bytes). */
  readonly epoch: Uint8Array;
  readonly heartbeatMs: number;
  /** Entries older than this (by their signed time) are ignored: the bucket's TTL plus clock skew. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
  readonly log?: Logger;
}

/** What a peer's heartbeat says. */
export interface PeerState {
  readonly epoch: string;
  readonly time: number;
}

/** A change of a peer's readiness: `restarted` when it came back with another epoch. */
export interface ReadinessChange {
  readonly peer: string;
  readonly ready: boolean;
  readonly restarted: boolean;
}

function encodeEntry(self: string, epoch: Uint8Array, time: number, key: KeyObject): Uint8Array {
  const body = new ByteWriter().tag(TAG).str(self).raw(epoch).u64(time).finish();
  const sig = sign(null, body, key);
  return new ByteWriter().bytes(body).bytes(sig).finish();
}

/** Decodes and verifies a heartbeat entry; undefined if it is not a valid entry of `node`. Does not throw. */
function decodeEntry(
  node: string,
  value: Uint8Array,
  publicKey: KeyObject,
): { epoch: Uint8Array; time: number } | undefined {
  try {
    const outer = new ByteReader(value);
    const body = outer.bytesView(1024);
    const sig = outer.bytesView(64);
    outer.end();
    if (!verify(null, body, publicKey, sig)) return undefined;
    const r = new ByteReader(body);
    r.expectTag(TAG);
    if (r.str() !== node) return undefined;
    const epoch = r.raw(EPOCH_BYTES);
    const time = r.u64();
    r.end();
    return { epoch, time };
  } catch {
    return undefined;
  }
}

export class Readiness {
  private readonly peers = new Map<string, PeerState>();
  /** The last epoch each peer announced, kept while it is down: a new one on return means it restarted. */
  private readonly epochs = new Map<string, string>();
  /** Epochs each peer's later processes replaced (bounded): their heartbeats are replays. */
  private readonly replaced = new Map<string, Set<string>>();
  private readonly keys = new Map<string, KeyObject>();
  private readonly handlers: ((c: ReadinessChange) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private watch: { stop(): void } | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly log: Logger;

  /** Throws `InvalidArgumentError` for a bad epoch or heartbeat. */
  constructor(private readonly opts: ReadinessOptions) {
    if (opts.epoch.length !== EPOCH_BYTES) throw new InvalidArgumentError('a boot epoch is 16 bytes');
    if (!(opts.heartbeatMs > 0) || !(opts.maxAgeMs > opts.heartbeatMs))
      throw new InvalidArgumentError('readiness needs heartbeatMs > 0 and maxAgeMs > heartbeatMs');
    for (const [id, pub] of opts.members) this.keys.set(id, ed25519PublicKey(pub));
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
  }

  /** Hears every change of a peer's readiness (not of this node's own). */
  onChange(handler: (c: ReadinessChange) => void): void {
    this.handlers.push(handler);
  }

  /** Puts this node's heartbeat, reads the peers already there and watches for changes. Throws what the bucket throws. */
  async start(): Promise<void> {
    this.watch = this.opts.kv.watch((e) => this.apply(e));
    await this.beat();
    for (const key of await this.opts.kv.keys()) {
      const e = await this.opts.kv.get(key);
      if (e) this.apply(e);
    }
    this.timer = setInterval(() => {
      if (!this.stopped)
        this.beating = this.beat().catch((err) => this.log.warn({ err: String(err) }, 'readiness heartbeat failed'));
      this.expire();
    }, this.opts.heartbeatMs);
    this.timer.unref();
  }

  /**
   * Stops heartbeats and removes this node's entry (peers see it down at once), but keeps
   * following the peers (a node finishing its sessions still needs to know who is up). Does not
   * throw.
   */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      // a heartbeat still on its way must not land after the delete
      await this.beating;
      await this.opts.kv.delete(this.opts.self);
    } catch {
      // the entry expires on its own
    }
  }

  /** Leaves (if it did not yet) and stops following the peers. Does not throw. */
  async stop(): Promise<void> {
    await this.leave();
    clearInterval(this.timer);
    this.timer = undefined;
    this.watch?.stop();
    this.watch = undefined;
  }

  /** True for this node (while started) and for a peer with a fresh, valid heartbeat. Does not throw. */
  isReady(node: string): boolean {
    if (node === this.opts.self) return !this.stopped;
    const p = this.peers.get(node);
    return p !== undefined && this.now() - p.time <= this.opts.maxAgeMs;
  }

  /** The ready members, this node included, in member order. Does not throw. */
  readyMembers(): string[] {
    return [...this.opts.members.keys()].filter((m) => this.isReady(m));
  }

  /** The boot epoch a peer last announced (hex), if known. Does not throw. */
  epochOf(node: string): string | undefined {
    return this.peers.get(node)?.epoch;
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    await this.opts.kv.put(
      this.opts.self,
      encodeEntry(this.opts.self, this.opts.epoch, this.now(), this.opts.identityKey),
    );
  }

  private emit(c: ReadinessChange): void {
    for (const h of this.handlers) {
      try {
        h(c);
      } catch (err) {
        this.log.error({ err: String(err), peer: c.peer }, 'a readiness handler failed');
      }
    }
  }

  private expire(): void {
    for (const [peer, p] of this.peers) {
      if (this.now() - p.time > this.opts.maxAgeMs) {
        this.peers.delete(peer);
        this.emit({ peer, ready: false, restarted: false });
      }
    }
  }

  private apply(e: KvEntry): void {
    const peer = e.key;
    if (peer === this.opts.self) return;
    const key = this.keys.get(peer);
    if (key === undefined) return;
    const before = this.peers.get(peer);
    if (e.operation === 'DEL') {
      if (before) {
        this.peers.delete(peer);
        this.emit({ peer, ready: false, restarted: false });
      }
      return;
    }
    const d = decodeEntry(peer, e.value, key);
    if (d === undefined) {
      this.log.warn({ peer }, 'ignored a readiness entry that does not verify under the peer identity');
      return;
    }
    const now = this.now();
    // not too old, not from the future (a clock jump or a forged time would pin the peer as ready)
    if (now - d.time > this.opts.maxAgeMs || d.time - now > MAX_CLOCK_SKEW_MS) return;
    const epoch = Buffer.from(d.epoch).toString('hex');
    // an older heartbeat of the same process is stale; another epoch (a restart) always counts
    if (before && d.time < before.time && before.epoch === epoch) return;
    // a heartbeat of a process the peer already replaced (a replay) never counts again
    const gone = this.replaced.get(peer);
    if (gone?.has(epoch)) return;
    this.peers.set(peer, { epoch, time: d.time });
    const known = this.epochs.get(peer);
    if (known !== undefined && known !== epoch) {
      const set = gone ?? new Set<string>();
      set.add(known);
      if (set.size > 64) set.delete(set.values().next().value as string);
      this.replaced.set(peer, set);
    }
    this.epochs.set(peer, epoch);
    const restarted = known !== undefined && known !== epoch;
    if (before === undefined || restarted) this.emit({ peer, ready: true, restarted });
  }
}
