/**
 * The canonical binary codec of every Tessera format (vault keyring, backup frames, protocol
 * messages, key shares, OT state): big-endian fixed-width integers, u32-length-prefixed byte
 * strings and UTF-8 strings, domain-separation tags. One encoding per value:
 * - the writer never truncates: an integer out of its field's range throws `InvalidArgumentError`,
 *   a string that is not well-formed Unicode (a lone surrogate) throws too;
 * - the reader copies out (a returned field does not alias the input, except `view`), refuses
 *   over-long lengths, invalid UTF-8 (a leading U+FEFF is kept, not stripped), a wrong tag, and —
 *   with `end()` — trailing bytes; every malformed input is a {@link MalformedError}, which each
 *   caller turns into its own typed error (corruption, protocol abort with blame, ...).
 */
import { InvalidArgumentError, InvalidStateError } from './errors.js';

/** Raised by {@link ByteReader} on truncated, over-long or otherwise non-canonical input. Callers translate it. */
export class MalformedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedError';
  }
}

/**
 * Constant-time (for equal lengths) byte comparison — for secrets and MACs. For public data the
 * variable-time `bytesEqual` of `tss/math/hash.ts` is enough. Does not throw.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const utf8Encoder = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the string, not stripped (otherwise "\uFEFFn1" and "n1"
// would decode alike and the encoding would not be injective).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function checkUint(v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new InvalidArgumentError('integer field out of range');
}

/**
 * Appends canonical fields to a growing buffer. `beginLength`/`endLength` write a u32 length
 * prefix for a run of fields written in place; `take` hands the bytes written so far over and
 * starts afresh (streaming writers); `finish` returns a copy and zeroes the buffer (a writer may
 * have held a secret, e.g. a serialized key share), after which the writer refuses further use.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;
  private finished = false;

  constructor(private readonly initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.finished) throw new InvalidStateError('byte writer already finished');
    if (this.len + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 16);
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf.fill(0);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Throws `InvalidArgumentError` unless v is an integer in [0, 255]. */
  u8(v: number): this {
    checkUint(v, 0xff);
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }

  /** Throws `InvalidArgumentError` unless v is an integer in [0, 65535]. */
  u16(v: number): this {
    checkUint(v, 0xffff);
    this.reserve(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
    return this;
  }

  /** Throws `InvalidArgumentError` unless v is an integer in [0, 2^32). */
  u32(v: number): this {
    checkUint(v, 0xffffffff);
    this.reserve(4);
    this.view.setUint32(this.len, v);
    this.len += 4;
    return this;
  }

  /** Unsigned 64-bit: a safe non-negative integer or a bigint in [0, 2^64). Throws `InvalidArgumentError` otherwise. */
  u64(v: number | bigint): this {
    if (typeof v === 'bigint') {
      if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new InvalidArgumentError('integer field out of range');
    } else checkUint(v, Number.MAX_SAFE_INTEGER);
    this.reserve(8);
    this.view.setBigUint64(this.len, BigInt(v));
    this.len += 8;
    return this;
  }

  /** Bytes of a length the format fixes (no prefix); copied in. Throws `InvalidStateError` after `finish`. */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /**
   * A u32 length prefix followed by the bytes. Throws `InvalidArgumentError` for more than 2^32 − 1
   * bytes, `InvalidStateError` after `finish`.
   */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /**
   * A u32 length prefix followed by the UTF-8 bytes of `s`. Throws `InvalidArgumentError` for a
   * string that is not well-formed Unicode (a lone surrogate would be encoded as U+FFFD and not
   * round-trip).
   */
  str(s: string): this {
    if (typeof s !== 'string' || !s.isWellFormed()) throw new InvalidArgumentError('string is not well-formed Unicode');
    return this.bytes(utf8Encoder.encode(s));
  }

  /** A domain-separation tag (a length-prefixed string). Throws as `str` does. */
  tag(t: string): this {
    return this.str(t);
  }

  /**
   * Writes a u32 placeholder and returns its offset; `endLength` fills in the bytes written since.
   * Throws `InvalidStateError` after `finish`.
   */
  beginLength(): number {
    const at = this.len;
    this.u32(0);
    return at;
  }

  /**
   * Patches the placeholder at `at` with the number of bytes written after it. Throws `RangeError`
   * if `at` is not an offset of the current buffer (e.g. one from before a `take`).
   */
  endLength(at: number): this {
    this.view.setUint32(at, this.len - at - 4);
    return this;
  }

  /** Bytes written since the last `take` (or the start). Does not throw. */
  get length(): number {
    return this.len;
  }

  /**
   * Hands over the bytes written so far (no copy) and starts a fresh buffer. Throws
   * `InvalidStateError` after `finish`.
   */
  take(): Uint8Array {
    if (this.finished) throw new InvalidStateError('byte writer already finished');
    const out = this.buf.subarray(0, this.len);
    this.buf = new Uint8Array(this.initial);
    this.view = new DataView(this.buf.buffer);
    this.len = 0;
    return out;
  }

  /**
   * Returns a copy of the written bytes and zeroes the internal buffer. A second call, or any write
   * after it, throws `InvalidStateError`.
   */
  finish(): Uint8Array {
    if (this.finished) throw new InvalidStateError('byte writer already finished');
    this.finished = true;
    const out = this.buf.slice(0, this.len);
    this.buf.fill(0);
    this.len = 0;
    return out;
  }
}

/** Reads canonical fields; every method throws {@link MalformedError} on truncated or non-canonical input. */
export class ByteReader {
  private off = 0;
  private readonly dv: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (!Number.isInteger(n) || n < 0 || this.off + n > this.buf.length)
      throw new MalformedError(`truncated: needed ${n} bytes at offset ${this.off}`);
  }

  /** Throws `MalformedError` if truncated. */
  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }

  /** Big-endian. Throws `MalformedError` if truncated. */
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.off);
    this.off += 2;
    return v;
  }

  /** Big-endian. Throws `MalformedError` if truncated. */
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.off);
    this.off += 4;
    return v;
  }

  /** Reads a u64 that must fit a safe integer. Throws `MalformedError` if truncated or above 2^53 − 1. */
  u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.off);
    this.off += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedError('64-bit value out of range');
    return Number(v);
  }

  /**
   * A view (no copy) of the next n bytes — for secrets the caller copies into memory it wipes, and
   * for large payloads it consumes at once. Everything else should use `raw`. Throws `MalformedError`
   * if fewer than n bytes remain or n is not a non-negative integer.
   */
  view(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** A copy of the next n bytes (a field whose length the format fixes). Throws as `view` does. */
  raw(n: number): Uint8Array {
    return Uint8Array.from(this.view(n));
  }

  /**
   * A u32 length prefix then a copy of the bytes; `max` bounds the declared length. Throws
   * `MalformedError` if truncated or the declared length exceeds `max`.
   */
  bytes(max = 1 << 20): Uint8Array {
    return Uint8Array.from(this.bytesView(max));
  }

  /** Like `bytes` but a view (no copy): see `view`. Throws as `bytes` does. */
  bytesView(max = 1 << 20): Uint8Array {
    const n = this.u32();
    if (n > max) throw new MalformedError(`field of ${n} bytes exceeds the limit of ${max}`);
    return this.view(n);
  }

  /**
   * A u32 length prefix then strict UTF-8 (a leading U+FEFF is kept); `max` bounds the byte length.
   * Throws `MalformedError` if truncated, longer than `max` or not valid UTF-8.
   */
  str(max = 256): string {
    const n = this.u32();
    if (n > max) throw new MalformedError(`string of ${n} bytes exceeds the limit of ${max}`);
    try {
      return utf8Decoder.decode(this.view(n));
    } catch (e) {
      if (e instanceof MalformedError) throw e;
      throw new MalformedError('invalid UTF-8');
    }
  }

  /** Reads a tag and requires it to equal `t`. Throws `MalformedError` otherwise (or if truncated). */
  expectTag(t: string): void {
    if (this.str(256) !== t) throw new MalformedError('wrong domain-separation tag');
  }

  /** Bytes consumed so far. Does not throw. */
  get offset(): number {
    return this.off;
  }

  /** Bytes not yet consumed. Does not throw. */
  get remaining(): number {
    return this.buf.length - this.off;
  }

  /** Throws `MalformedError` unless every byte was consumed. */
  end(): void {
    if (this.off !== this.buf.length) throw new MalformedError(`${this.buf.length - this.off} trailing bytes`);
  }
}
