/** Reading small secret files (passwords, passphrases, raw keys) the way every command and the daemon do. */
import { readFileSync } from 'node:fs';
import { IoError } from './errors.js';

/** The bytes of a secret file; the caller zeroes them. Throws `IoError` naming `what` and the path. */
export function readSecretFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new IoError(`reading the ${what} ${path}`, e);
  }
}

/** A copy without one trailing line ending (files written by `echo` have one); zeroes `b`. Does not throw. */
export function trimNewline(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  const out = Buffer.from(b.subarray(0, end));
  b.fill(0);
  return out;
}
