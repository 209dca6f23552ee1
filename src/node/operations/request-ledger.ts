/**
 * Signing requests by (wallet, tx_id): the idempotency and duplicate rules of the issue and of
 * docs/node.md. A request identical to a completed one (same digest: key type, wallet, network
 * code, tx id, tx and derivation path) gets the stored result again while it is kept; the same
 * tx id with any other content, or while the first is in flight, is a duplicate. A completed
 * (wallet, tx_id) keeps its digest for good — the derivation path is not signed by the
 * initiator, so a captured request replayed with another path must never sign again. The binding
 * is written before any signing starts (on the coordinator and on every signer), so neither a
 * crash, a failed session nor a lost result ever frees the tx id for other content; the identical
 * request may always try again. Not thread-safe across processes: one node, one vault.
 */
import { createHash } from 'node:crypto';
import { ByteWriter, constantTimeEqual } from '../../common/bytes.js';
import type { Durability, Vault } from '../../vault/index.js';

export type ClaimOutcome =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'replay'; readonly result: Uint8Array }
  /** `inFlight`: the identical request is being signed now (a redelivery or a client retry): its result will come. */
  | { readonly kind: 'duplicate'; readonly reason: string; readonly inFlight: boolean };

export interface RequestLedger {
  /**
   * Claims (wallet, txId) for session `sid` of `coordinator` (undefined: this node coordinates). An
   * in-flight claim of the same request is taken over when it is the same coordinator's (its
   * earlier attempt) or when its coordinator is another node that `isGone` says is down: that
   * session will never answer, and the request, delivered again, is coordinated anew. Does not throw.
   */
  claim(
    walletId: string,
    txId: string,
    digest: Uint8Array,
    sid: string,
    coordinator?: string,
    isGone?: (coordinator: string) => boolean,
  ): ClaimOutcome;
  /** The session signed: keep its result for the retention window (the digest is bound already). Does not throw. */
  complete(walletId: string, txId: string, sid: string, result: Uint8Array): void;
  /** The session failed: drop its in-flight claim (the identical request may try again; the binding stays). Does not throw. */
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

/**
 * The node's ledger: sessions in flight in memory (a crash loses only unanswered claims), completed
 * requests in the vault's request log — digests for good, results for `retentionMs` — so the rules
 * hold across restarts. A vault error on lookup fails closed (a duplicate, never a second signature).
 */
export class VaultRequestLedger implements RequestLedger {
  private readonly inflight = new Map<string, { digest: Uint8Array; sid: string; coordinator: string | undefined }>();
  /** Completions the vault refused to record: still binding in this process (bounded). */
  private readonly unrecorded = new Map<string, Uint8Array>();
  private lastPurge = 0;

  /**
   * `deferred`: how bindings are written (default: fsynced on their own); a node passes its
   * outbound gate's, so that a binding is durable before anything it sends next.
   */
  constructor(
    private readonly vault: Vault,
    private readonly retentionMs: number,
    private readonly now: () => number = Date.now,
    private readonly deferred: <T>(fn: (durability: Durability) => T) => T = (fn) => fn('sync'),
  ) {}

  claim(
    walletId: string,
    txId: string,
    digest: Uint8Array,
    sid: string,
    coordinator?: string,
    isGone?: (coordinator: string) => boolean,
  ): ClaimOutcome {
    const k = `${walletId}\u0000${txId}`;
    const live = this.inflight.get(k);
    const conflict = {
      kind: 'duplicate',
      reason: `duplicate signing request detected for walletID=${walletId} txID=${txId} (another request used this tx_id)`,
      inFlight: false,
    } as const;
    if (live) {
      if (!constantTimeEqual(live.digest, digest)) return conflict;
      // the coordinator's retry of its own request: its earlier attempt ended (the abort may still be on its way)
      if (coordinator !== undefined && live.coordinator === coordinator) {
        live.sid = sid;
        return { kind: 'claimed' };
      }
      // the session of a coordinator that died or left: nobody will answer it (its party here may
      // still wait for its timeout), while the request, delivered again, has a new coordinator
      if (live.coordinator !== undefined && live.coordinator !== coordinator && isGone?.(live.coordinator) === true) {
        live.sid = sid;
        live.coordinator = coordinator;
        return { kind: 'claimed' };
      }
      return {
        kind: 'duplicate',
        reason: `duplicate signing request detected for walletID=${walletId} txID=${txId}`,
        inFlight: true,
      };
    }
    const lost = this.unrecorded.get(k);
    if (lost)
      return constantTimeEqual(lost, digest)
        ? { kind: 'duplicate', reason: conflict.reason, inFlight: false }
        : conflict;
    let done: ReturnType<Vault['signedRequest']>;
    try {
      done = this.vault.signedRequest(walletId, txId);
      if (done && !constantTimeEqual(done.digest, digest)) return conflict;
      if (done?.result && this.now() - done.completedAt <= this.retentionMs)
        return { kind: 'replay', result: done.result };
      // bound durably before anything is signed: a crash or a lost result never frees the tx id for other content
      if (
        !done &&
        this.deferred((durability) =>
          this.vault.bindSignRequest(walletId, txId, digest, this.now(), { durability }),
        ) === 'conflict'
      )
        return conflict;
    } catch {
      return {
        kind: 'duplicate',
        reason: `the request log could not be used for walletID=${walletId} txID=${txId}`,
        inFlight: false,
      };
    }
    this.inflight.set(k, { digest: Uint8Array.from(digest), sid, coordinator });
    return { kind: 'claimed' };
  }

  complete(walletId: string, txId: string, sid: string, result: Uint8Array): void {
    const k = `${walletId}\u0000${txId}`;
    const live = this.inflight.get(k);
    if (!live || live.sid !== sid) return;
    this.inflight.delete(k);
    const now = this.now();
    try {
      this.vault.recordSignedRequest(walletId, txId, live.digest, result, now);
      if (now - this.lastPurge > 600_000) {
        this.lastPurge = now;
        this.vault.purgeRequestResults(now - this.retentionMs);
      }
    } catch {
      // the tx id stays bound in this process at least; the vault's error shows in its next write
      this.unrecorded.set(k, live.digest);
      if (this.unrecorded.size > 100_000) this.unrecorded.delete(this.unrecorded.keys().next().value as string);
    }
  }

  release(walletId: string, txId: string, sid: string): void {
    const k = `${walletId}\u0000${txId}`;
    if (this.inflight.get(k)?.sid === sid) this.inflight.delete(k);
  }
}
