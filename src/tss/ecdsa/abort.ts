/**
 * Maps errors of the OT / multiplication / zero-sharing layer into the session's
 * `ProtocolAbortedError`, so an ECDSA session ends exactly like a FROST one — and classifies which
 * aborts are **OT evidence**: only those make a signer burn the pair [5/R-A].
 */
import { TesseraError } from '../../common/errors.js';
import {
  MalformedMessageError,
  OtAbortedError,
  OtCheckFailedError,
  OtReuseError,
  OtStateBurnedError,
  OtWindowExceededError,
} from '../ot/errors.js';
import { ProtocolAbortedError } from '../session/errors.js';
import { MultiplicationAbortedError } from './errors.js';

/**
 * An abort caused by evidence against the OT pair with the blamed peers: a failed KOS check, a
 * failed multiplication check, a failed χ·R / χ·pk consistency check of DKLs23 signing, a
 * malformed OT payload (multiplication message 1 or 2) or a reused extension index. A signer burns
 * its pair (both directions) with every party it blames **only** for this class of abort — the
 * selective-failure defence needs exactly that, and burning on anything else (a context mismatch,
 * an envelope error, a duplicate, an unparsable non-OT field, an echo verdict) lets anyone who can
 * make two honest parties disagree cut their pair for nothing.
 */
export class OtEvidenceAbortError extends ProtocolAbortedError {
  /** Always true: the blamed peers' OT pairs must be burnt. */
  readonly otEvidence = true as const;
}

/** True for an abort that is OT evidence (see {@link OtEvidenceAbortError}). Does not throw. */
export function isOtEvidence(e: unknown): e is OtEvidenceAbortError {
  return e instanceof OtEvidenceAbortError;
}

/**
 * Runs `fn`, which processes data received from `peer` with the OT layer. A failed OT or
 * multiplication check, a malformed OT message and a reused extension index (a replayed message)
 * become an {@link OtEvidenceAbortError} blaming the peer (OT evidence); an index below the
 * sender's sliding window (too many sessions in flight on the pair [5/R-C]) aborts without blame
 * and without OT evidence — retry with a new session; a burnt state blames nobody. Other OT-layer
 * aborts keep their blame but are not OT evidence. Anything else propagates unchanged.
 */
export function withOtAbort<T>(peer: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtocolAbortedError) throw e;
    if (
      e instanceof OtCheckFailedError ||
      e instanceof MultiplicationAbortedError ||
      e instanceof MalformedMessageError
    ) {
      throw new OtEvidenceAbortError(`${what}: ${e.reason}`, e.blame === undefined ? [] : [e.blame]);
    }
    if (e instanceof OtAbortedError) {
      throw new ProtocolAbortedError(`${what}: ${e.reason}`, e.blame === undefined ? [] : [e.blame]);
    }
    if (e instanceof OtWindowExceededError) {
      throw new ProtocolAbortedError(
        `${what}: OT extension index below the window (more than the window of ` +
          `sessions in flight on this pair; not a replay); retry with a new session`,
        [],
      );
    }
    if (e instanceof OtReuseError)
      throw new OtEvidenceAbortError(`${what}: OT index reused (replayed message)`, [peer]);
    if (e instanceof OtStateBurnedError) throw new ProtocolAbortedError(`${what}: the pairwise OT state is burnt`, []);
    if (e instanceof TesseraError && e.code === 'INVALID_ARGUMENT')
      throw new OtEvidenceAbortError(`malformed ${what}`, [peer]);
    throw e;
  }
}
