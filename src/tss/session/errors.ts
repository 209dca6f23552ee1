/**
 * The one error type a protocol party ends with when a session cannot complete.
 */
import { TesseraError } from '../../common/errors.js';
import type { Message } from './message.js';

/**
 * A protocol session was aborted. `reason` says what went wrong (never contains secret data);
 * `blame` lists the party ids responsible, empty when the fault cannot be attributed.
 */
export class ProtocolAbortedError extends TesseraError {
  readonly reason: string;
  readonly blame: readonly string[];
  /**
   * Messages the party produced for rounds it completed before it aborted (in the same call).
   * Send them once: they let the peers reach their own verdict instead of waiting for a timeout.
   */
  outbound: readonly Message[] = [];
  constructor(reason: string, blame: readonly string[] = []) {
    super('PROTOCOL_ABORTED', `protocol aborted: ${reason}${blame.length > 0 ? ` (blamed: ${blame.join(', ')})` : ''}`);
    this.reason = reason;
    this.blame = Object.freeze([...blame]);
  }
}

/** Internal: a payload could not be parsed. Converted to ProtocolAbortedError blaming the sender. */
export class MalformedPayloadError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'MalformedPayloadError';
  }
}
