/**
 * Canonical byte writer/reader: fixed-width big-endian integers, u32-length-prefixed byte strings
 * and domain-separation tags. The reader throws {@link MalformedPayloadError} on any deviation
 * (short input, over-long length, wrong tag, trailing bytes).
 */
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { utf8 } from '../math/hash.js';
import { MalformedPayloadError } from './errors.js';

function checkUint(v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new InvalidArgumentError('integer field out of range');
}

/**
 * Builds a canonical byte string. Writers never truncate: out-of-range integers throw. Every part
 * is a private copy; {@link finish} zeroes them (a writer may have held a secret, e.g. a serialized
 * key share), so a writer is single-use: writing to it or finishing it again throws
 * `InvalidStateError`.
 */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private finished = false;

  private push(b: Uint8Array): this {
    if (this.finished) throw new InvalidStateError('byte writer already finished');
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  /** Throws `InvalidArgumentError` unless v is an integer in [0, 255]. */
  u8(v: number): this {
    checkUint(v, 0xff);
    return this.push(Uint8Array.of(v));
  }
  /** Throws `InvalidArgumentError` unless v is an integer in [0, 65535]. */
  u16(v: number): this {
    checkUint(v, 0xffff);
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v);
    return this.push(b);
  }
  /** Throws `InvalidArgumentError` unless v is an integer in [0, 2^32). */
  u32(v: number): this {
    checkUint(v, 0xffffffff);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.push(b);
  }
  /** Length-prefixed (u32) bytes. */
  bytes(b: Uint8Array): this {
    this.u32(b.length);
    return this.push(Uint8Array.from(b));
  }
  /** Fixed-length bytes with no prefix (length implied by the format). */
  raw(b: Uint8Array): this {
    return this.push(Uint8Array.from(b));
  }
  /**
   * Length-prefixed UTF-8 string. Throws `InvalidArgumentError` for a string that is not
   * well-formed UTF-16 (a lone surrogate would be encoded as U+FFFD and not round-trip).
   */
  str(s: string): this {
    if (typeof s !== 'string' || !s.isWellFormed()) throw new InvalidArgumentError('string is not well-formed Unicode');
    return this.bytes(utf8(s));
  }
  /** Domain-separation tag (a length-prefixed string). */
  tag(t: string): this {
    return this.str(t);
  }
  /** The concatenated bytes. Zeroes and drops the writer's internal copies; a second call throws `InvalidStateError`. */
  finish(): Uint8Array {
    if (this.finished) throw new InvalidStateError('byte writer already finished');
    this.finished = true;
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
      p.fill(0);
    }
    this.parts.length = 0;
    this.size = 0;
    return out;
  }
}

// ignoreBOM: a leading U+FEFF is part of the string, not stripped (otherwise "\uFEFFn1" and "n1"
// would decode alike and the encoding would not be injective).
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses a canonical byte string written by {@link ByteWriter}. */
export class ByteReader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}

  private take(n: number): Uint8Array {
    if (n < 0 || this.off + n > this.buf.length) throw new MalformedPayloadError('payload is truncated');
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }
  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  /** Length-prefixed bytes; `max` bounds the declared length. */
  bytes(max = 1 << 20): Uint8Array {
    const n = this.u32();
    if (n > max) throw new MalformedPayloadError('length field is too large');
    return Uint8Array.from(this.take(n));
  }
  /** Fixed-length bytes. */
  raw(n: number): Uint8Array {
    return Uint8Array.from(this.take(n));
  }
  str(max = 256): string {
    const b = this.bytes(max);
    try {
      return dec.decode(b);
    } catch {
      throw new MalformedPayloadError('string is not valid UTF-8');
    }
  }
  /** Reads a tag and requires it to equal `t`. */
  expectTag(t: string): void {
    if (this.str(256) !== t) throw new MalformedPayloadError('wrong domain-separation tag');
  }
  /** Requires that every byte was consumed. */
  end(): void {
    if (this.off !== this.buf.length) throw new MalformedPayloadError('payload has trailing bytes');
  }
}
