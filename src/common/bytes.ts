/**
 * Canonical binary encoding helpers: big-endian integers and length-prefixed fields. A reader
 * never reads past its buffer; every malformed input becomes a `MalformedError` the caller maps
 * to its own typed error (corruption, protocol abort, ...).
 */

/** Raised by ByteReader on truncated or out-of-range input. Callers translate it. */
export class MalformedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedError';
  }
}

/**
 * Appends canonical fields to a growing buffer. `beginLength`/`endLength` write a u32 length
 * prefix for a run of fields written in place; `take` hands the bytes over and starts afresh
 * (streaming writers), `finish` returns a copy and zeroes the buffer (secrets).
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(private readonly initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf.fill(0);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.len, v);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.len, v);
    this.len += 4;
    return this;
  }

  /** Unsigned 64-bit; accepts a safe integer or a bigint. */
  u64(v: number | bigint): this {
    this.reserve(8);
    if (typeof v === 'bigint') this.view.setBigUint64(this.len, v);
    else {
      this.view.setUint32(this.len, Math.floor(v / 0x1_0000_0000));
      this.view.setUint32(this.len + 4, v >>> 0);
    }
    this.len += 8;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** A u32 length prefix followed by the bytes. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** A u32 length prefix followed by the UTF-8 bytes of `s`. */
  string(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }

  /** Writes a u32 placeholder and returns its offset; `endLength` fills in the bytes written since. */
  beginLength(): number {
    const at = this.len;
    this.u32(0);
    return at;
  }

  /** Patches the placeholder at `at` with the number of bytes written after it. */
  endLength(at: number): this {
    this.view.setUint32(at, this.len - at - 4);
    return this;
  }

  get length(): number {
    return this.len;
  }

  /** Hands over the bytes written so far (no copy) and starts a fresh buffer. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.len);
    this.buf = new Uint8Array(this.initial);
    this.view = new DataView(this.buf.buffer);
    this.len = 0;
    return out;
  }

  /** Returns a copy of the written bytes and zeroes the internal buffer. */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.buf.fill(0);
    this.len = 0;
    return out;
  }
}

/** Reads canonical fields; every method throws MalformedError on truncation. */
export class ByteReader {
  private off = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.off + n > this.buf.length) throw new MalformedError(`truncated: needed ${n} bytes at offset ${this.off}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.off);
    this.off += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }

  /** Reads a u64 that must fit a safe integer. */
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.off);
    this.off += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedError('64-bit value out of range');
    return Number(v);
  }

  /** Returns a view (not a copy) of the next n bytes. */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** A u32 length prefix then the bytes; `max` bounds the length. */
  bytes(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw new MalformedError(`field of ${n} bytes exceeds the limit of ${max}`);
    return this.raw(n);
  }

  /** A u32 length prefix then strict UTF-8. */
  string(max: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(max));
    } catch (e) {
      if (e instanceof MalformedError) throw e;
      throw new MalformedError('invalid UTF-8');
    }
  }

  get offset(): number {
    return this.off;
  }

  get remaining(): number {
    return this.buf.length - this.off;
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.off !== this.buf.length) throw new MalformedError(`${this.buf.length - this.off} trailing bytes`);
  }
}
