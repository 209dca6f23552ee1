/**
 * The encrypted SQLite database of a vault: opening it with a page key, the pragmas that make
 * every commit durable, the schema, and the translation of SQLite failures into typed errors.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import { IoError, TesseraError, VaultCorruptedError, VaultLockedError } from '../common/errors.js';
import { PRIVATE_FILE_MODE } from '../common/fs.js';

export type Db = Database.Database;

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE wallets (
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  threshold INTEGER NOT NULL,
  participants TEXT NOT NULL,
  current_version INTEGER,
  public_key BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  PRIMARY KEY (key_type, wallet_id)
) WITHOUT ROWID;
CREATE TABLE shares (
  id INTEGER PRIMARY KEY,
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status INTEGER NOT NULL,
  threshold INTEGER NOT NULL,
  participants TEXT NOT NULL,
  data_key_id INTEGER NOT NULL,
  sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  UNIQUE (key_type, wallet_id, version)
);
CREATE INDEX shares_by_data_key ON shares (data_key_id);
CREATE TABLE tombstones (
  seq INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  version INTEGER,
  deleted_at INTEGER NOT NULL
);
`;

/** Creates an empty file with mode 0600 so SQLite (and its -wal/-shm, which copy the mode) stay private. */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (e) {
    throw new IoError(`creating ${path}`, e);
  }
}

/**
 * Opens the database with a raw 32-byte page key (ChaCha20-Poly1305 pages, no key stretching:
 * the key is random) and applies the durability pragmas. Reading the first page proves the key.
 * @throws the raw SQLite error (the caller decides whether it means a wrong key or damage).
 */
export function openDatabase(path: string, pageKey: Uint8Array, mustExist: boolean): Db {
  const db = new Database(path, { timeout: 0, fileMustExist: mustExist });
  try {
    db.pragma("cipher = 'chacha20'");
    db.pragma('kdf_iter = 1');
    db.key(Buffer.from(pageKey.buffer, pageKey.byteOffset, pageKey.byteLength));
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    applyPragmas(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** WAL with a full fsync per commit (WAL's default, NORMAL, is not durable per commit). */
export function applyPragmas(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -32768');
  db.pragma('foreign_keys = OFF');
}

/** Creates the schema and the meta rows in one transaction. */
export function initSchema(db: Db, vaultId: Uint8Array, now: number): void {
  db.transaction(() => {
    db.exec(SCHEMA);
    const put = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)');
    put.run('vault_id', Buffer.from(vaultId));
    put.run('schema_version', SCHEMA_VERSION);
    put.run('seq', 0);
    put.run('backup_watermark', 0);
    put.run('created_at', now);
  })();
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_FORMAT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/** True for SQLite errors that mean the file content is damaged (or the page key is wrong). */
export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (CORRUPT_CODES.has(code) || code.startsWith('SQLITE_CORRUPT'));
}

/**
 * Translates a failure inside a database operation. Once the keyring has proved the secret, every
 * integrity failure of the database is corruption, never a wrong password.
 */
export function translateDbError(e: unknown, dir: string, where: string): Error {
  if (e instanceof TesseraError) return e;
  if (isCorruption(e)) return new VaultCorruptedError('database', where, (e as Error).message, { cause: e });
  const code = (e as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return new VaultLockedError(dir);
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return new IoError(`database operation ${where}`, e);
  return e instanceof Error ? e : new Error(String(e));
}
