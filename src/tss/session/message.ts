/**
 * Protocol messages and their canonical wire encoding.
 *
 * Wire format (all integers big-endian):
 *   tag "tessera/tss/msg" (u32 length ‖ utf8) ‖ format version u8 (=1) ‖ sessionId (u32 len ‖ utf8)
 *   ‖ round u16 ‖ from (u32 len ‖ utf8) ‖ kind u8 (0 broadcast, 1 direct) ‖ [to (u32 len ‖ utf8) if direct]
 *   ‖ payload (u32 len ‖ bytes)
 * Decoding is strict: any other byte string is refused.
 */

import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { utf8 } from '../math/hash.js';

/** A protocol message. `to` is a party id for a direct message, `null` for a broadcast. */
export interface Message {
  readonly sessionId: string;
  readonly round: number;
  readonly from: string;
  readonly to: string | null;
  readonly payload: Uint8Array;
}

export const MESSAGE_TAG = 'tessera/tss/msg';
export const MESSAGE_FORMAT_VERSION = 1;
/** Upper bound on a payload (1 MiB); larger messages are refused. */
export const MAX_PAYLOAD_BYTES = 1 << 20;
/** Upper bound on session and party id lengths (bytes). */
export const MAX_ID_BYTES = 256;

/**
 * Encodes a message canonically. Throws `InvalidArgumentError` if a field is out of range (round
 * not in [0, 65535], an id over 256 bytes or not well-formed Unicode (a lone surrogate), a payload
 * over 1 MiB).
 */
export function encodeMessage(m: Message): Uint8Array {
  for (const s of [m.sessionId, m.from, ...(m.to === null ? [] : [m.to])]) {
    if (typeof s !== 'string' || !s.isWellFormed() || utf8(s).length > MAX_ID_BYTES) {
      throw new InvalidArgumentError('message ids must be well-formed strings of at most 256 bytes');
    }
  }
  if (!(m.payload instanceof Uint8Array) || m.payload.length > MAX_PAYLOAD_BYTES)
    throw new InvalidArgumentError('payload must be at most 1 MiB of bytes');
  const w = new ByteWriter().tag(MESSAGE_TAG).u8(MESSAGE_FORMAT_VERSION).str(m.sessionId).u16(m.round).str(m.from);
  if (m.to === null) w.u8(0);
  else w.u8(1).str(m.to);
  return w.bytes(m.payload).finish();
}

/** Decodes a message. Throws `MalformedError` on anything that is not a canonical encoding. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new ByteReader(bytes);
  r.expectTag(MESSAGE_TAG);
  if (r.u8() !== MESSAGE_FORMAT_VERSION) throw new MalformedError('unsupported message format version');
  const sessionId = r.str(MAX_ID_BYTES);
  const round = r.u16();
  const from = r.str(MAX_ID_BYTES);
  const kind = r.u8();
  let to: string | null;
  if (kind === 0) to = null;
  else if (kind === 1) to = r.str(MAX_ID_BYTES);
  else throw new MalformedError('unknown message kind');
  const payload = r.bytes(MAX_PAYLOAD_BYTES);
  r.end();
  return { sessionId, round, from, to, payload };
}
