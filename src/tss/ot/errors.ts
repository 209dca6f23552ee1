/**
 * Typed errors of the OT layer (base OT, OT extension) and of the protocols built directly on it
 * (two-party multiplication, zero-sharing). Every abort is an {@link OtAbortedError}: a
 * `TesseraError` with code `PROTOCOL_ABORTED` and a `blame` field naming the party whose message or
 * behaviour caused it (`undefined` when nobody can be blamed, e.g. a local misuse). The protocol
 * parties translate them into the session's `ProtocolAbortedError` in one place (`ecdsa/abort.ts`).
 * No secret value is ever placed in a message or a property.
 */
import { TesseraError } from '../../common/errors.js';

/** Base class: the OT-layer protocol run cannot continue; `blame` names the party at fault if known. */
export class OtAbortedError extends TesseraError {
  readonly blame: string | undefined;
  /** Short machine-readable reason, e.g. `'malformed-message'`, `'kos-check'`. */
  readonly reason: string;
  constructor(reason: string, blame: string | undefined, message: string) {
    super(
      'PROTOCOL_ABORTED',
      `${message}${blame === undefined ? '' : ` (blamed party: ${blame})`}; the session is aborted`,
    );
    this.blame = blame;
    this.reason = reason;
  }
}

/**
 * A received message could not be decoded or carries an invalid value (bad point, out-of-range
 * scalar, wrong length).
 */
export class MalformedMessageError extends OtAbortedError {
  constructor(blame: string, detail: string) {
    super('malformed-message', blame, `malformed message from ${blame}: ${detail}`);
  }
}

/**
 * A consistency check of base OT or OT extension failed. The OT state of that pair is burnt for
 * good (see `OtStateBurnedError`); the pair must run base OT setup again.
 */
export class OtCheckFailedError extends OtAbortedError {
  constructor(blame: string, detail: string) {
    super(
      'ot-check',
      blame,
      `OT consistency check failed: ${detail}; this pair's OT state is burnt and must be set up again`,
    );
  }
}

/** The OT state was burnt by an earlier failed check (or explicitly destroyed): it can never be used again. */
export class OtStateBurnedError extends TesseraError {
  constructor(what: string) {
    super(
      'INVALID_STATE',
      `${what} is burnt after a failed check or was destroyed; run base OT setup for this pair again`,
    );
  }
}

/** An OT extension index (or a one-shot protocol state) would be used a second time. */
export class OtReuseError extends TesseraError {
  constructor(detail: string) {
    super('INVALID_STATE', `OT correlations must never be reused: ${detail}`);
  }
}

/**
 * An OT extension index lies below the sender's sliding window (`INDEX_WINDOW`): more sessions were
 * in flight on the pair than the window holds, and the sender already forgot which indices this low
 * it accepted. Not evidence of a replay: nothing was consumed, nobody is to blame, the pair stays
 * usable — retry with a new session (a new index) [5/R-C]. The node caps the sessions in flight per
 * pair below the window (docs/ecdsa.md, "What the node must do").
 */
export class OtWindowExceededError extends TesseraError {
  constructor(detail: string) {
    super(
      'INVALID_STATE',
      `OT extension index below the sender's window: ${detail}; ` +
        `too many sessions were in flight on this pair — retry with a new session`,
    );
  }
}
