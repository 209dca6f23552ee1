/**
 * Canonical byte encodings and domain-separated hashing for the OT / multiplication layer.
 *
 * Every hash is `SHA-256(len(tag) ‖ tag ‖ len(part1) ‖ part1 ‖ …)` with 4-byte big-endian lengths, so
 * no two different part lists hash the same input (unambiguous transcripts). Every message starts
 * with a one-byte version and a one-byte type, fields have fixed lengths or 4-byte length prefixes,
 * and the reader rejects trailing bytes: each message has exactly one encoding.
 */
import { createHash, hash } from 'node:crypto';
import { MalformedMessageError } from '../ecdsa/errors.js';
import { concat } from '../math/hash.js';
import { systemRng } from '../math/rng.js';

/** Source of uniformly random bytes; injectable so tests are reproducible. */
export type RandomBytes = (n: number) => Uint8Array;

/** The default randomness: the kernel's CSPRNG, read on every call (see `systemRng`). */
export const systemRandom: RandomBytes = systemRng;

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

/** Domain-separated, length-prefixed SHA-256 of a list of byte strings (32 bytes out). */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  const t = new TextEncoder().encode(tag);
  h.update(u32(t.length));
  h.update(t);
  for (const p of parts) {
    h.update(u32(p.length));
    h.update(p);
  }
  return new Uint8Array(h.digest());
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

/** Like `taggedHash` but with SHA-512 (64 bytes out), used for wide reductions to scalars. */
export function taggedHash512(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  const t = new TextEncoder().encode(tag);
  h.update(u32(t.length));
  h.update(t);
  for (const p of parts) {
    h.update(u32(p.length));
    h.update(p);
  }
  return new Uint8Array(h.digest());
}

/** Canonical context of a pairwise protocol run: binds the session id and both parties with their roles. */
export function pairContext(sessionId: Uint8Array, senderId: string, receiverId: string): Uint8Array {
  if (senderId === receiverId) throw new RangeError('a pair needs two distinct parties');
  const enc = new TextEncoder();
  return taggedHash('tessera/ecdsa/pair-context/v1', sessionId, enc.encode(senderId), enc.encode(receiverId));
}

/** Concatenates byte strings (the one implementation lives in `math/hash.ts`). */
export const concatBytes = concat;

/** Constant-time (for equal lengths) byte comparison. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Overwrites secret bytes with zeros. */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

/** Builds one canonical message. */
export class MessageWriter {
  private readonly parts: Uint8Array[] = [];
  constructor(type: number) {
    this.parts.push(Uint8Array.of(WIRE_VERSION, type));
  }
  /** Appends bytes of a length both sides know in advance. */
  fixed(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  /** Appends a 4-byte big-endian unsigned integer. */
  u32(n: number): this {
    this.parts.push(encodeU32(n));
    return this;
  }
  /** Appends a length-prefixed byte string. */
  bytes(b: Uint8Array): this {
    this.parts.push(encodeU32(b.length), b);
    return this;
  }
  finish(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

/** Reads one canonical message; every error is a `MalformedMessageError` blaming `from`. */
export class MessageReader {
  private off = 2;
  constructor(
    private readonly buf: Uint8Array,
    type: number,
    private readonly from: string,
    what: string,
  ) {
    if (!(buf instanceof Uint8Array)) throw new MalformedMessageError(from, `${what} is not a byte string`);
    if (buf.length < 2) throw new MalformedMessageError(from, `${what} is truncated`);
    if (buf[0] !== WIRE_VERSION) throw new MalformedMessageError(from, `${what} has unknown version ${buf[0]}`);
    if (buf[1] !== type) throw new MalformedMessageError(from, `${what} has wrong message type ${buf[1]}`);
  }
  fixed(n: number): Uint8Array {
    if (this.off + n > this.buf.length) throw new MalformedMessageError(this.from, 'message is truncated');
    const out = this.buf.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u32(): number {
    const b = this.fixed(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
  }
  bytes(maxLen: number): Uint8Array {
    const n = this.u32();
    if (n > maxLen) throw new MalformedMessageError(this.from, `field length ${n} exceeds ${maxLen}`);
    return this.fixed(n);
  }
  /** Asserts the whole message was consumed. */
  end(): void {
    if (this.off !== this.buf.length) throw new MalformedMessageError(this.from, 'message has trailing bytes');
  }
}
