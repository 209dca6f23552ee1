/**
 * Writing a DKLs23 key share back to storage only when it changed — the checkpoint to pass to
 * `checkpointed(party, …)` (docs/ecdsa.md, "What the node must do").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EcdsaKeyShare } from './key-share.js';

/**
 * Returns a checkpoint that serialises `share` and calls `write(bytes)` when the bytes differ from
 * the last ones written through it (the first call always writes): a step that only buffered a
 * message, or a final round that moved no OT counter, costs no commit. Only a SHA-256 digest of
 * the last write is kept (no second copy of the secret bytes); the bytes handed to `write` are
 * wiped when it returns. The returned function throws what `share.serialize()` (a burnt or disposed
 * pair: see `EcdsaKeyShare.serialize`) or `write` throws; after a throw the next call writes again.
 */
export function shareCheckpoint(share: EcdsaKeyShare, write: (bytes: Uint8Array) => void): () => void {
  let last: Uint8Array | undefined;
  return () => {
    const bytes = share.serialize();
    try {
      const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
      if (last !== undefined && timingSafeEqual(digest, last)) return;
      last = undefined;
      write(bytes);
      last = digest;
    } finally {
      bytes.fill(0);
    }
  };
}
