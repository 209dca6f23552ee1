/**
 * The one error type a protocol party ends with when a session cannot complete.
 */
import { TesseraError } from '../../common/errors.js';
import type { Message } from './message.js';

/**
 * A protocol session was aborted. `reason` says what went wrong (never contains secret data);
 * `blame` lists the party ids responsible, empty when the fault cannot be attributed.
 *
 * `blame` is this party's view, not a proof: over authenticated but unsigned channels nobody else
 * can verify it. In particular echo blame (inconsistent broadcasts) is a *suspicion* — "j
 * equivocated or k misreported" — and may name an honest party together with the culprit; blame
 * from a check on a direct message (a bad share) is the receiver's statement. Only messages signed
 * by the node layer turn either into transferable evidence.
 */
export class ProtocolAbortedError extends TesseraError {
  readonly reason: string;
  /** Parties this party suspects (see the class comment: a suspicion, not transferable proof). */
  readonly blame: readonly string[];
  /**
   * Messages the party produced for rounds it completed before it aborted (in the same call),
   * followed by any message the protocol attached to the abort (e.g. the DKG's complaint).
   * Send them once: they let the peers reach their own verdict instead of waiting for a timeout.
   */
  outbound: readonly Message[] = [];
  /**
   * `options.cause`: the error behind an abort from outside the protocol (e.g. a typed storage
   * error of a checkpoint).
   */
  constructor(reason: string, blame: readonly string[] = [], options?: { cause?: unknown }) {
    super(
      'PROTOCOL_ABORTED',
      `protocol aborted: ${reason}${blame.length > 0 ? ` (blamed: ${blame.join(', ')})` : ''}`,
      options,
    );
    this.reason = reason;
    this.blame = Object.freeze([...blame]);
  }
}

/**
 * The stable `code` of an error thrown by a caller-supplied callback (a log, a storage write), or
 * 'error' — for abort reasons that must not carry the error's message (it may name paths or data).
 * Does not throw.
 */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}
