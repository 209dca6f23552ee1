/**
 * Maps errors of the OT / multiplication / zero-sharing layer into the session's
 * `ProtocolAbortedError`, so an ECDSA session ends exactly like a FROST one.
 */
import { TesseraError } from '../../common/errors.js';
import { ProtocolAbortedError } from '../session/errors.js';
import { EcdsaProtocolAbortedError, OtReuseError, OtStateBurnedError } from './errors.js';

/**
 * Runs `fn`, which processes data received from `peer` with the OT layer. An OT-layer abort
 * becomes a `ProtocolAbortedError` with the OT layer's blame; a reused index (a replayed message)
 * blames the peer; a burnt state blames nobody. Anything else propagates unchanged.
 */
export function withOtAbort<T>(peer: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtocolAbortedError) throw e;
    if (e instanceof EcdsaProtocolAbortedError) {
      throw new ProtocolAbortedError(`${what}: ${e.reason}`, e.blame === undefined ? [] : [e.blame]);
    }
    if (e instanceof OtReuseError) throw new ProtocolAbortedError(`${what}: OT index reused (replayed message)`, [peer]);
    if (e instanceof OtStateBurnedError) throw new ProtocolAbortedError(`${what}: the pairwise OT state is burnt`, []);
    if (e instanceof TesseraError && e.code === 'INVALID_ARGUMENT') throw new ProtocolAbortedError(`malformed ${what}`, [peer]);
    throw e;
  }
}
