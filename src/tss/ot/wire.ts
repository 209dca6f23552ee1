/**
 * Canonical byte encodings and domain-separated hashing for the OT / multiplication layer.
 *
 * Every hash is `SHA-256(len(tag) ‖ tag ‖ len(part1) ‖ part1 ‖ …)` with 4-byte big-endian lengths, so
 * no two different part lists hash the same input (unambiguous transcripts). Every message starts
 * with a one-byte version and a one-byte type, fields have fixed lengths or 4-byte length prefixes,
 * and the reader rejects trailing bytes: each message has exactly one encoding.
 */
import { hash } from 'node:crypto';
import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';
import { taggedHash } from '../math/hash.js';
import { MalformedMessageError } from './errors.js';

/** Wire format version of every message of this layer. */
export const WIRE_VERSION = 1;

function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Big-endian 4-byte encoding of a non-negative integer below 2^32. */
export function encodeU32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('u32 out of range');
  return u32(n);
}

/** One-shot SHA-512 of a single buffer (the caller guarantees an unambiguous, fixed-layout input). */
export function sha512Raw(input: Uint8Array): Uint8Array {
  const out = hash('sha512', input, 'buffer') as unknown as Buffer;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** One-shot SHA-256 of a single buffer (the caller guarantees an unambiguous, fixed-layout input). */
export function sha256Raw(input: Uint8Array): Uint8Array {
  const out = hash('sha256', input, 'buffer') as unknown as Buffer;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Canonical context of a pairwise protocol run: binds the session id and both parties with their roles. */
export function pairContext(sessionId: Uint8Array, senderId: string, receiverId: string): Uint8Array {
  if (senderId === receiverId) throw new RangeError('a pair needs two distinct parties');
  const enc = new TextEncoder();
  return taggedHash('sha256', 'tessera/ecdsa/pair-context/v1', sessionId, enc.encode(senderId), enc.encode(receiverId));
}

/** Overwrites secret bytes with zeros. */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

/**
 * A writer for one message of this layer: version and type, then the fields (`raw` for fields of
 * a length both sides know, `u32`, `bytes` for length-prefixed ones). `size` pre-sizes the buffer.
 */
export function messageWriter(type: number, size = 256): ByteWriter {
  return new ByteWriter(size).u8(WIRE_VERSION).u8(type);
}

/**
 * Reads one message of type `type` from `from`: checks version and type, runs `read` on the fields
 * (it must end with `r.end()`), and turns every codec failure into a `MalformedMessageError`
 * blaming `from`. Other errors of `read` (a failed check) propagate unchanged.
 */
export function readMessage<T>(
  message: Uint8Array,
  type: number,
  from: string,
  what: string,
  read: (r: ByteReader) => T,
): T {
  if (!(message instanceof Uint8Array)) throw new MalformedMessageError(from, `${what} is not a byte string`);
  if (message.length < 2) throw new MalformedMessageError(from, `${what} is truncated`);
  if (message[0] !== WIRE_VERSION) throw new MalformedMessageError(from, `${what} has unknown version ${message[0]}`);
  if (message[1] !== type) throw new MalformedMessageError(from, `${what} has wrong message type ${message[1]}`);
  try {
    return read(new ByteReader(message.subarray(2)));
  } catch (e) {
    if (e instanceof MalformedError) throw new MalformedMessageError(from, `${what}: ${e.message}`);
    throw e;
  }
}
