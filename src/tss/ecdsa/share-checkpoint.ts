/**
 * Writing a DKLs23 key share back to storage only when it changed — the checkpoint to pass to
 * `checkpointed(party, …)` (docs/ecdsa.md, "What the node must do").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { errorCode } from '../session/errors.js';
import { BurnNotPersistedError } from './errors.js';
import type { EcdsaKeyShare } from './key-share.js';

/** Options of {@link shareCheckpoint}. */
export interface ShareCheckpointOptions {
  /**
   * Write attempts for a state that records a burn not yet durable (default 3; at least 1). Other
   * states are tried once.
   */
  readonly burnWriteAttempts?: number;
}

/**
 * Returns a checkpoint that serialises `share` and calls `write(bytes)` when the bytes differ from
 * the last ones written through it (the first call always writes): a step that only buffered a
 * message, or a final round that moved no OT counter, costs no commit. Only a SHA-256 digest of
 * the last write is kept (no second copy of the secret bytes); the bytes handed to `write` are
 * wiped when it returns. After a successful write the share's burns count as durable
 * (`share.markPersisted()`).
 *
 * A burn must reach storage: when the state to write records a burnt pair that is not durable yet
 * (`share.unpersistedBurns()`), a failed write is retried (`burnWriteAttempts`, each time with
 * freshly serialised bytes) and, if every attempt fails, `BurnNotPersistedError` is thrown — the
 * share object stays burnt, and the node must keep it and retry (calling the checkpoint again
 * writes again) instead of reloading the stale version from storage [5/R-G]. Otherwise the returned
 * function throws what `share.serialize()` (a disposed share) or `write` throws; after a throw the
 * next call writes again.
 */
export function shareCheckpoint(
  share: EcdsaKeyShare,
  write: (bytes: Uint8Array) => void,
  opts: ShareCheckpointOptions = {},
): () => void {
  const attempts = Math.max(1, Math.floor(opts.burnWriteAttempts ?? 3));
  let last: Uint8Array | undefined;
  return () => {
    const burns = share.unpersistedBurns();
    const tries = burns.length > 0 ? attempts : 1;
    for (let i = 1; ; i++) {
      const bytes = share.serialize();
      try {
        const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
        if (last !== undefined && timingSafeEqual(digest, last)) return;
        last = undefined;
        write(bytes);
        last = digest;
        share.markPersisted();
        return;
      } catch (e) {
        if (i < tries) continue;
        if (burns.length > 0) throw new BurnNotPersistedError(burns, errorCode(e));
        throw e;
      } finally {
        bytes.fill(0);
      }
    }
  };
}
