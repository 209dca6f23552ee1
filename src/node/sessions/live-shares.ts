/**
 * Exactly one live object per stored share version (docs/ecdsa.md rule 4): every session of a
 * wallet borrows the same `KeyShare`, so the OT counters and burnt pairs of a DKLs23 share move
 * on in one place and are written back with a compare-and-swap on the vault's sequence number
 * (rule 2). ECDSA sessions in flight per pair stay below the configured cap, itself below the OT
 * window (rule 6): a session that would exceed it waits for another to end. A burn whose write
 * failed keeps its object in memory and is written again until it sticks (rule 7).
 */
import { InvalidStateError, TimeoutError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import { ecdsa, frost } from '../../tss/index.js';
import type { Durability, Vault, KeyType as VaultKeyType } from '../../vault/index.js';

export type LiveShare = ecdsa.KeyShare | frost.KeyShare;

interface Entry {
  readonly keyType: VaultKeyType;
  readonly walletId: string;
  readonly version: number;
  readonly share: LiveShare;
  /** The vault sequence number of the last read or write of this version. */
  seq: number;
  /** ECDSA: writes the share if it changed since the last write (compare-and-swap). */
  readonly checkpoint: (() => void) | undefined;
  refs: number;
  /** ECDSA sessions in flight per peer. */
  readonly inflight: Map<string, number>;
  waiters: (() => void)[];
  retired: boolean;
  burnRetry: NodeJS.Timeout | undefined;
}

/** A borrowed share; `release()` once the session ends (idempotent). */
export interface ShareLease {
  readonly share: LiveShare;
  /** ECDSA only: the checkpoint to wrap the party with (`checkpointed(party, lease.checkpoint)`). */
  readonly checkpoint: () => void;
  release(): void;
}

export interface LiveSharesOptions {
  /** ECDSA sessions in flight per pair (below OT_INDEX_WINDOW). */
  readonly maxSessionsPerPair: number;
  /** Unused versions kept in memory (default 10 000); the least recently used beyond it are disposed. */
  readonly maxIdle?: number;
  readonly log?: Logger;
  /**
   * How share write-backs are written (default: fsynced on their own). A node passes its outbound
   * gate's: a write-back is then durable before any message published after it (rule 2). A write
   * that carries a burn is always fsynced on its own (rule 7: the burn is durable when the write returns).
   */
  readonly deferred?: <T>(fn: (durability: Durability) => T) => T;
}

const keyOf = (keyType: VaultKeyType, walletId: string, version: number) =>
  `${keyType}\u0000${walletId}\u0000${version}`;

export class LiveShares {
  private readonly entries = new Map<string, Entry>();
  private readonly leases = new WeakMap<ShareLease, Entry>();
  private readonly log: Logger;
  private readonly maxIdle: number;

  constructor(
    private readonly vault: Vault,
    private readonly opts: LiveSharesOptions,
  ) {
    this.log = opts.log ?? silentLogger;
    this.maxIdle = opts.maxIdle ?? 10_000;
    if (opts.maxSessionsPerPair < 1 || opts.maxSessionsPerPair >= ecdsa.OT_INDEX_WINDOW)
      throw new InvalidStateError(`sessions per pair must be 1..${ecdsa.OT_INDEX_WINDOW - 1}`);
  }

  /**
   * Borrows the live object of a stored version, loading it from the vault on first use.
   * Throws what `Vault.getShare` throws (`NotFoundError`, `ShareDestroyedError`, …),
   * `InvalidStateError` for a version retired while loaded, `InvalidArgumentError` for bytes that
   * do not decode.
   */
  acquire(keyType: VaultKeyType, walletId: string, version: number): ShareLease {
    const e = this.load(keyType, walletId, version);
    e.refs++;
    let released = false;
    const lease: ShareLease = {
      share: e.share,
      checkpoint: e.checkpoint ?? (() => {}),
      release: () => {
        if (released) return;
        released = true;
        e.refs--;
        this.wake(e);
        if (e.retired && e.refs === 0) this.dispose(e);
        else this.trim();
      },
    };
    this.leases.set(lease, e);
    return lease;
  }

  /**
   * Waits until an ECDSA session with `peers` fits under the per-pair cap, then counts it in;
   * the returned function counts it out (call it when the session ends). Rejects with
   * `TimeoutError` after `timeoutMs`, `InvalidStateError` if the version is retired meanwhile.
   */
  async admit(lease: ShareLease, peers: readonly string[], timeoutMs: number): Promise<() => void> {
    const e = this.entryOf(lease);
    const share = lease.share as ecdsa.KeyShare;
    const fits = () =>
      peers.every(
        (p) =>
          (e.inflight.get(p) ?? 0) < this.opts.maxSessionsPerPair &&
          share.extensionSpan(p) < this.opts.maxSessionsPerPair,
      );
    const deadline = Date.now() + timeoutMs;
    while (!fits()) {
      if (e.retired) throw new InvalidStateError('the share version was retired');
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError('a slot under the per-pair session cap', timeoutMs, 'the node is busy');
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        t.unref();
        e.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    for (const p of peers) e.inflight.set(p, (e.inflight.get(p) ?? 0) + 1);
    let out = false;
    return () => {
      if (out) return;
      out = true;
      for (const p of peers) {
        const n = (e.inflight.get(p) ?? 1) - 1;
        if (n <= 0) e.inflight.delete(p);
        else e.inflight.set(p, n);
      }
      this.wake(e);
    };
  }

  /**
   * After a session on an ECDSA share ended: if a burn is only in memory (rule 7), keep writing it
   * until it sticks. Does not throw.
   */
  settle(lease: ShareLease): void {
    const e = this.leases.get(lease);
    if (e?.keyType !== 'ecdsa' || e.burnRetry) return;
    const share = e.share as ecdsa.KeyShare;
    if (share.isDisposed || share.unpersistedBurns().length === 0) return;
    const retry = () => {
      try {
        e.checkpoint?.();
        clearInterval(e.burnRetry);
        e.burnRetry = undefined;
        this.log.warn({ wallet: e.walletId, version: e.version }, 'a burnt OT pair is now stored');
      } catch (err) {
        this.log.error(
          { wallet: e.walletId, version: e.version, err: (err as Error).message },
          'writing a burnt OT pair failed; retrying (the version must be re-set up if the node stops now)',
        );
      }
    };
    e.burnRetry = setInterval(retry, 1000);
    e.burnRetry.unref();
    retry();
  }

  /**
   * Forgets a version that the vault retired or discarded: its object is disposed once no session
   * holds it, and it cannot be borrowed again. Does not throw.
   */
  retire(keyType: VaultKeyType, walletId: string, version: number): void {
    const k = keyOf(keyType, walletId, version);
    const e = this.entries.get(k);
    if (!e) return;
    e.retired = true;
    this.entries.delete(k);
    this.wake(e);
    if (e.refs === 0) this.dispose(e); // otherwise the last session's release disposes it
  }

  /**
   * Disposes every object (node shutdown). A burn still only in memory (rule 7) gets one last
   * write; if that fails too, the vault is marked so that the next start burns every pair of every
   * ECDSA share before signing (rule 8's pass) — and if even the mark cannot be written, an alert
   * names the version. Does not throw.
   */
  close(): void {
    for (const e of this.entries.values()) {
      if (e.keyType === 'ecdsa' && !e.share.isDisposed && (e.share as ecdsa.KeyShare).unpersistedBurns().length > 0) {
        try {
          e.checkpoint?.();
        } catch {
          try {
            this.vault.markNeedsResetup();
            this.log.error(
              { wallet: e.walletId, version: e.version },
              'ALERT: a burnt OT pair was not stored; marked every pair for re-setup at the next start',
            );
          } catch {
            this.log.error(
              { wallet: e.walletId, version: e.version },
              'ALERT: a burnt OT pair was not stored and the vault cannot be marked: run `tessera vault mark-resetup` before this node signs again',
            );
          }
        }
      }
      this.dispose(e);
    }
    this.entries.clear();
  }

  private entryOf(lease: ShareLease): Entry {
    const e = this.leases.get(lease);
    if (!e || e.retired) throw new InvalidStateError('the share version was retired');
    return e;
  }

  private load(keyType: VaultKeyType, walletId: string, version: number): Entry {
    const k = keyOf(keyType, walletId, version);
    const hit = this.entries.get(k);
    if (hit) {
      // keep recently used entries at the end (LRU order)
      this.entries.delete(k);
      this.entries.set(k, hit);
      return hit;
    }
    const opened = this.vault.getShare(keyType, walletId, version);
    if (opened.status === 'retired') throw new InvalidStateError(`version ${version} of ${walletId} is retired`);
    let share: LiveShare;
    try {
      share = keyType === 'ecdsa' ? ecdsa.KeyShare.deserialize(opened.share) : frost.KeyShare.deserialize(opened.share);
    } finally {
      opened.share.fill(0);
    }
    const entry: Entry = {
      keyType,
      walletId,
      version,
      share,
      seq: opened.seq,
      checkpoint: undefined,
      refs: 0,
      inflight: new Map(),
      waiters: [],
      retired: false,
      burnRetry: undefined,
    };
    if (share instanceof ecdsa.KeyShare) {
      const write = (bytes: Uint8Array) => {
        const update = (durability: Durability) =>
          this.vault.updateShare('ecdsa', walletId, version, bytes, { expectSeq: entry.seq, durability });
        // the checkpoint marks burns durable once this returns: a write that carries one is fsynced now
        const burning = share.unpersistedBurns().length > 0;
        const info = burning || !this.opts.deferred ? update('sync') : this.opts.deferred(update);
        entry.seq = info.seq;
      };
      (entry as { checkpoint: (() => void) | undefined }).checkpoint = ecdsa.shareCheckpoint(share, write);
    }
    this.entries.set(k, entry);
    return entry;
  }

  private wake(e: Entry): void {
    const w = e.waiters;
    e.waiters = [];
    for (const f of w) f();
  }

  private trim(): void {
    if (this.entries.size <= this.maxIdle) return;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxIdle) break;
      if (e.refs > 0 || e.burnRetry) continue;
      this.entries.delete(k);
      this.dispose(e);
    }
  }

  private dispose(e: Entry): void {
    clearInterval(e.burnRetry);
    e.share.dispose();
  }
}
