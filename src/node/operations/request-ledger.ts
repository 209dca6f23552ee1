/**
 * Signing requests by (wallet, tx_id): the idempotency and duplicate rules of the issue and of
 * docs/node.md. A request identical to a completed one (same digest: key type, wallet, network
 * code, tx id, tx and derivation path) gets the stored result again while it is kept; the same
 * tx id with any other content, or while the first is in flight, is a duplicate. A completed
 * (wallet, tx_id) keeps its digest for good — the derivation path is not signed by the
 * initiator, so a captured request replayed with another path must never sign again. A failed
 * session leaves nothing (nothing was signed).
 */
import { createHash } from 'node:crypto';
import { ByteWriter, constantTimeEqual } from '../../common/bytes.js';

export type ClaimOutcome =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'replay'; readonly result: Uint8Array }
  /** `inFlight`: the identical request is being signed now (a redelivery or a client retry): its result will come. */
  | { readonly kind: 'duplicate'; readonly reason: string; readonly inFlight: boolean };

export interface RequestLedger {
  /** Claims (wallet, txId) for session `sid`. Does not throw. */
  claim(walletId: string, txId: string, digest: Uint8Array, sid: string): ClaimOutcome;
  /** The session signed: keep its digest for good and its result for the retention window. Does not throw. */
  complete(walletId: string, txId: string, sid: string, result: Uint8Array): void;
  /** The session failed: drop its claim (a retry may start afresh). Does not throw. */
  release(walletId: string, txId: string, sid: string): void;
}

/** SHA-256 of what makes two signing requests identical. Does not throw. */
export function signRequestDigest(r: {
  keyType: string;
  walletId: string;
  networkInternalCode: string;
  txId: string;
  tx: Uint8Array;
  derivationPath: readonly number[] | null;
}): Uint8Array {
  const w = new ByteWriter()
    .tag('tessera/node/sign-request/v1')
    .str(r.keyType)
    .str(r.walletId)
    .str(r.networkInternalCode)
    .str(r.txId)
    .bytes(r.tx);
  const path = r.derivationPath ?? [];
  w.u8(r.derivationPath === null ? 0 : 1).u16(path.length);
  for (const i of path) w.u32(i);
  return new Uint8Array(createHash('sha256').update(w.finish()).digest());
}

interface Entry {
  readonly digest: Uint8Array;
  /** A session signed this request before (its digest is then kept for good). */
  done: boolean;
  /** The session working on it now. */
  inflight: string | undefined;
  result: Uint8Array | undefined;
  doneAt: number;
}

/**
 * The ledger in memory, bounded: the oldest completed entries beyond `maxEntries` are forgotten
 * (a restart forgets all). The node's durable ledger is in the vault.
 */
export class MemoryRequestLedger implements RequestLedger {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly retentionMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  claim(walletId: string, txId: string, digest: Uint8Array, sid: string): ClaimOutcome {
    const k = `${walletId}\u0000${txId}`;
    const e = this.entries.get(k);
    const same = e !== undefined && constantTimeEqual(e.digest, digest);
    if (e && !same) {
      return {
        kind: 'duplicate',
        reason: `duplicate signing request detected for walletID=${walletId} txID=${txId} (another request used this tx_id)`,
        inFlight: false,
      };
    }
    if (e?.inflight !== undefined)
      return {
        kind: 'duplicate',
        reason: `duplicate signing request detected for walletID=${walletId} txID=${txId}`,
        inFlight: true,
      };
    if (e?.result && this.now() - e.doneAt <= this.retentionMs) return { kind: 'replay', result: e.result };
    if (e) {
      e.inflight = sid;
      e.result = undefined;
      return { kind: 'claimed' };
    }
    this.entries.set(k, { digest: Uint8Array.from(digest), done: false, inflight: sid, result: undefined, doneAt: 0 });
    this.trim();
    return { kind: 'claimed' };
  }

  complete(walletId: string, txId: string, sid: string, result: Uint8Array): void {
    const e = this.entries.get(`${walletId}\u0000${txId}`);
    if (!e || e.inflight !== sid) return;
    e.inflight = undefined;
    e.done = true;
    e.result = Uint8Array.from(result);
    e.doneAt = this.now();
  }

  release(walletId: string, txId: string, sid: string): void {
    const k = `${walletId}\u0000${txId}`;
    const e = this.entries.get(k);
    if (!e || e.inflight !== sid) return;
    if (e.done) e.inflight = undefined;
    else this.entries.delete(k);
  }

  private trim(): void {
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) return;
      if (e.inflight === undefined) this.entries.delete(k);
    }
  }
}
