/**
 * Exclusive ownership of a vault directory. The lock is an OS file lock held by SQLite
 * (`locking_mode=EXCLUSIVE` on a small `LOCK` database): the kernel drops it when the process
 * dies, even by kill -9, so a crash never leaves a stale lock behind. The file holds only the
 * owner's pid.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { IoError, VaultCorruptedError, VaultLockedError } from '../common/errors.js';
import { PRIVATE_FILE_MODE } from '../common/fs.js';

export const LOCK_FILE = 'LOCK';

/** A held vault lock; `release` is idempotent. */
export interface VaultLock {
  release(): void;
}

/**
 * Takes the exclusive lock of the vault in `dir`.
 * @throws VaultLockedError if another process or handle holds it; IoError if the file cannot be
 *   created.
 */
export function acquireLock(dir: string): VaultLock {
  const path = join(dir, LOCK_FILE);
  let db: Database.Database;
  try {
    // Create the file private before SQLite opens it (SQLite would create it with the umask).
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
    chmodSync(path, PRIVATE_FILE_MODE);
    db = new Database(path, { timeout: 0 });
  } catch (e) {
    throw new IoError(`opening ${path}`, e);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL)');
    db.exec('DELETE FROM owner');
    db.prepare('INSERT INTO owner (pid) VALUES (?)').run(process.pid);
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    const code = (e as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new VaultLockedError(dir);
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      throw new VaultCorruptedError(
        'lock',
        path,
        'the lock file is damaged (it holds no secret); if no Tessera process uses this vault, delete it and retry',
      );
    }
    throw new IoError(`locking ${path}`, e);
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}
