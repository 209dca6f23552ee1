/**
 * Typed errors of threshold ECDSA above the OT layer (whose errors are in `ot/errors.ts`): the
 * two-party multiplication's failed check, and a burn a share checkpoint could not persist.
 */
import { TesseraError } from '../../common/errors.js';
import { OtAbortedError } from '../ot/errors.js';

/** The two-party multiplication's check failed: the sender used inconsistent inputs. The OT state is burnt. */
export class MultiplicationAbortedError extends OtAbortedError {
  constructor(blame: string, detail: string) {
    super(
      'multiplication-check',
      blame,
      `two-party multiplication check failed: ${detail}; this pair's OT state is burnt and must be set up again`,
    );
  }
}

/**
 * A share checkpoint could not write a state that records a burnt OT pair: the burn is only in
 * memory, and the durable copy still holds the live pair — reloading it would give a malicious peer
 * another selective-failure guess against the same Δ [5/R-G]. The share object stays burnt
 * (`unpersistedBurns()` lists `peers`). The node keeps that object, never reloads this version from
 * storage in its place, and retries the write until it succeeds; if it must stop first, it calls
 * `requireResetup()` on the version when it next loads it (docs/ecdsa.md).
 */
export class BurnNotPersistedError extends TesseraError {
  /** Peers whose pair is burnt in memory but not in storage. */
  readonly peers: readonly string[];
  /** The `code` of the write's error ('error' if it had none); its message is not kept (it may name paths). */
  readonly writeErrorCode: string;
  constructor(peers: readonly string[], writeErrorCode: string) {
    super(
      'IO_ERROR',
      `the burn of the OT pair with ${peers.join(', ')} could not be written (${writeErrorCode}); ` +
        `keep this share object, do not reload this version from storage, and retry the write ` +
        `until it succeeds (or require an OT re-setup of every pair when the version is next loaded)`,
    );
    this.peers = Object.freeze([...peers]);
    this.writeErrorCode = writeErrorCode;
  }
}
