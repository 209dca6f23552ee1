/**
 * Hash helpers: SHA-512/SHA-256 and an unambiguous tagged digest (every input length-prefixed,
 * domain-separated by a tag) used for transcripts, echo digests and key digests.
 */
import { createHash } from 'node:crypto';

const enc = new TextEncoder();

/** SHA-512 of the concatenation of the parts. Does not throw. */
export function sha512(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** SHA-256 of the concatenation of the parts. Does not throw. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** UTF-8 bytes of a string (a lone surrogate becomes U+FFFD). Does not throw. */
export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

/**
 * The tagged hash of every transcript, context and key digest: `alg` over the tag and each part,
 * each prefixed with its 4-byte big-endian length, so no two different (tag, parts) lists hash the
 * same input. SHA-256 gives 32 bytes; SHA-512 gives 64 (for wide reductions to scalars). Does not
 * throw.
 */
export function taggedHash(alg: 'sha256' | 'sha512', tag: string, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash(alg);
  const len = new Uint8Array(4);
  const dv = new DataView(len.buffer);
  for (const p of [utf8(tag), ...parts]) {
    dv.setUint32(0, p.length);
    h.update(len);
    h.update(p);
  }
  return new Uint8Array(h.digest());
}

/** Concatenates byte arrays into a new one. Does not throw. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Byte equality (variable-time; for public data). Does not throw. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
