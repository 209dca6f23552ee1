/**
 * The record of signing contexts a key share has started — the node's defence against a signing
 * session being run twice with the same inputs (docs/ecdsa.md, finding F2; docs/tss.md).
 *
 * Why: every signer's nonce contribution is derived from fresh randomness hedged with its secret
 * share and the signing context. If the randomness repeats (a process or VM resumed from a memory
 * snapshot, a broken RNG) and the *same* context is signed again, the honest signer's nonce
 * repeats while a malicious co-signer changes its own: two signatures with a known nonce
 * difference (ECDSA) or a repeated nonce pair under new binding factors (FROST) give away the key.
 * No hedge can prevent that — the nonce is committed before the peers' values are known — so a
 * signer must refuse to start a context twice. The signing parties call {@link SigningLog.claim}
 * once, before their first message exists.
 */
import { ProtocolAbortedError } from './errors.js';

/** Where a signer records the signing contexts it has started. */
export interface SigningLog {
  /**
   * Records the 32-byte `context` of a signing session and returns true, or returns false if it
   * was recorded before. In a node the record must be **durable** (on disk, fsynced) before this
   * returns — the vault's `claimSigningContext` is. Throws if it cannot record (the signing party
   * then aborts without sending anything).
   */
  claim(context: Uint8Array): boolean;
}

/** A signing party was asked to start a signing context its share had started before. */
export class SigningContextReusedError extends ProtocolAbortedError {
  constructor() {
    super('this key share has already started this signing context (same session id, key version, digest, derivation and signers); retry with a new session id');
  }
}

/**
 * A {@link SigningLog} in memory: for tests and benchmarks, and for one process's lifetime only —
 * it forgets everything on restart, so a node must use a durable log.
 */
export class MemorySigningLog implements SigningLog {
  private readonly seen = new Set<string>();
  /** Throws `RangeError` on a context that is not 32 bytes. */
  claim(context: Uint8Array): boolean {
    if (!(context instanceof Uint8Array) || context.length !== 32) throw new RangeError('a signing context is 32 bytes');
    const k = Buffer.from(context).toString('hex');
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
  /** Number of contexts recorded. */
  get size(): number {
    return this.seen.size;
  }
}

/**
 * Claims `context` in `log` for a signing party. Throws `SigningContextReusedError` if the log
 * says it was started before, `ProtocolAbortedError` (no blame) if the log could not record it.
 */
export function claimSigningContext(log: SigningLog, context: Uint8Array): void {
  let fresh: boolean;
  try {
    fresh = log.claim(Uint8Array.from(context));
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    const what = typeof code === 'string' ? code : 'error';
    throw new ProtocolAbortedError(`the signing context could not be recorded (${what}); nothing was sent — check the vault and retry with a new session id`);
  }
  if (fresh !== true) throw new SigningContextReusedError();
}
