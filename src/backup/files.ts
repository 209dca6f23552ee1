/** Listing a backup directory and hashing its files. */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IoError, NotFoundError } from '../common/errors.js';
import { type BackupName, parseBackupFileName } from './format.js';

/** The backup files of a directory in chain order, and the names that are not backup files. */
export interface DirListing {
  backups: BackupName[];
  /** Visible entries that are not Tessera backup files (hidden entries are ignored). */
  foreign: string[];
}

/** Orders names by chain, then by the start of the range. */
export function compareNames(a: BackupName, b: BackupName): number {
  return a.chain - b.chain || a.fromSeq - b.fromSeq || a.toSeq - b.toSeq;
}

/**
 * Lists `dir`. @throws NotFoundError if it does not exist; IoError.
 */
export function listBackupDir(dir: string): DirListing {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`backup directory ${dir}`, 'check the path');
    throw new IoError(`listing ${dir}`, e);
  }
  const backups: BackupName[] = [];
  const foreign: string[] = [];
  for (const n of names.sort()) {
    if (n.startsWith('.')) continue;
    const parsed = parseBackupFileName(n);
    if (parsed) backups.push(parsed);
    else foreign.push(n);
  }
  backups.sort(compareNames);
  return { backups, foreign };
}

/** SHA-256 of a file's bytes, streamed. @throws IoError. */
export async function hashFile(path: string): Promise<Uint8Array> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } catch (e) {
    throw new IoError(`reading ${path}`, e);
  }
  return new Uint8Array(h.digest());
}

export function joinName(dir: string, b: BackupName): string {
  return join(dir, b.name);
}
