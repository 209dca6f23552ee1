/**
 * Durable file primitives shared by the vault and the backup layer: atomic replace with fsync of
 * the file and of its directory, and private (0600/0700) creation.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IoError } from './errors.js';
import { secureRandomBytes } from './random.js';

/** Mode of every file Tessera writes that may hold sealed secrets. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of every directory Tessera creates for such files. */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * fsyncs a directory so that a rename or create inside it survives a power loss.
 * @throws IoError if the directory cannot be opened or synced.
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    throw new IoError(`syncing directory ${dir}`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory is written, fsynced,
 * renamed over `path`, then the directory is fsynced. After a crash at any instant `path` holds
 * either its old content or the new content, never a mix. The file gets mode 0600.
 * @throws IoError if any step fails (the temporary file is removed).
 */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${secureRandomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', PRIVATE_FILE_MODE);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new IoError(`writing ${path}`, e);
  }
  fsyncDir(dir);
}

/**
 * Creates `dir` (and parents) with mode 0700 and makes sure `dir` itself has that mode.
 * @throws IoError if the directory cannot be created.
 */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (e) {
    throw new IoError(`creating directory ${dir}`, e);
  }
}
