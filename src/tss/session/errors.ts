/**
 * The one error type a protocol party ends with when a session cannot complete.
 */
import { TesseraError } from '../../common/errors.js';

/**
 * A protocol session was aborted. `reason` says what went wrong (never contains secret data);
 * `blame` lists the party ids responsible, empty when the fault cannot be attributed.
 */
export class ProtocolAbortedError extends TesseraError {
  readonly reason: string;
  readonly blame: readonly string[];
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
