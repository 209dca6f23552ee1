/**
 * The encrypted SQLite database of a vault: opening it with a page key, the pragmas that make
 * every commit durable, the schema, and the translation of SQLite failures into typed errors.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { IoError, TesseraError, VaultCorruptedError, VaultLockedError } from '../common/errors.js';
import { fsyncDir, PRIVATE_FILE_MODE } from '../common/fs.js';

export type Db = Database.Database;
export type Statement = Database.Statement;

/** 2: adds `signing_log`. A version-1 vault is upgraded when it is opened. */
export const SCHEMA_VERSION = 2;

/** Table names, in the order a copy must fill them. */
export const TABLES = ['meta', 'wallets', 'shares', 'records', 'tombstones', 'signing_log'] as const;

/**
 * The signing contexts each share version has started (see `Vault.claimSigningContext`). Not part
 * of the change stream: backups do not carry it (docs/vault.md).
 */
function signingLogSql(schema: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${schema}.signing_log (
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  context BLOB NOT NULL,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (key_type, wallet_id, version, context)
) WITHOUT ROWID;
`;
}

/** The schema, created in the attached database `schema` (main by default). */
export function schemaSql(schema = 'main'): string {
  return `
CREATE TABLE ${schema}.meta (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE ${schema}.wallets (
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
CREATE TABLE ${schema}.shares (
  id INTEGER PRIMARY KEY,
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status INTEGER NOT NULL,
  threshold INTEGER NOT NULL,
  participants TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  seq INTEGER NOT NULL UNIQUE,
  UNIQUE (key_type, wallet_id, version)
);
-- The sealed bytes live apart from the share's metadata so that a status change (activation,
-- retirement) rewrites a small row, not the whole sealed record.
CREATE TABLE ${schema}.records (
  share_id INTEGER PRIMARY KEY,
  data_key_id INTEGER NOT NULL,
  sealed BLOB NOT NULL
);
CREATE VIEW ${schema}.shares_full AS
  SELECT s.id, s.key_type, s.wallet_id, s.version, s.status, s.threshold, s.participants, r.data_key_id,
         s.created_at, s.updated_at, s.seq, r.sealed
  FROM shares s JOIN records r ON r.share_id = s.id;
CREATE TABLE ${schema}.tombstones (
  seq INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  version INTEGER,
  deleted_at INTEGER NOT NULL
);
${signingLogSql(schema)}`;
}

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
    db.exec(schemaSql());
    const put = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)');
    put.run('vault_id', Buffer.from(vaultId));
    put.run('schema_version', SCHEMA_VERSION);
    put.run('backup_watermark', 0);
    put.run('created_at', now);
  })();
}

/**
 * Brings an opened database to {@link SCHEMA_VERSION} in one transaction (1 → 2: create
 * `signing_log`; at 2, recreate it if an older build dropped it). Throws `VaultCorruptedError` if the stored version is unknown or newer than this
 * build understands (a newer Tessera wrote it), or the raw SQLite error.
 */
export function upgradeSchema(db: Db, path: string): void {
  const row = db.prepare("SELECT v FROM meta WHERE k = 'schema_version'").get() as { v: unknown } | undefined;
  const v = typeof row?.v === 'number' || typeof row?.v === 'bigint' ? Number(row.v) : Number.NaN;
  if (v === SCHEMA_VERSION) {
    // A build from before schema 2 does not check the version: its key rotation (copy of the v1
    // tables) can drop `signing_log` while the version stays 2. Recreate it (empty: those claims
    // are lost, and signing fails closed until then) rather than trust the number.
    const present = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'signing_log'").get();
    if (!present) db.exec(signingLogSql('main'));
    return;
  }
  if (!Number.isInteger(v) || v < 1 || v > SCHEMA_VERSION) {
    throw new VaultCorruptedError('database', path, `unknown schema version ${Number.isNaN(v) ? '(missing)' : v}; a newer Tessera may have written this vault — open it with that version`);
  }
  db.transaction(() => {
    if (v < 2) db.exec(signingLogSql('main'));
    db.prepare("UPDATE meta SET v = ? WHERE k = 'schema_version'").run(SCHEMA_VERSION);
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

/** Suffix of the temporary copy written by `rekeyByCopy`. */
export const REKEY_SUFFIX = '.rekey';

/** Removes a temporary copy left by a rekey that a crash interrupted (the original is intact). */
export function removeStaleRekey(path: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${path}${REKEY_SUFFIX}${suffix}`, { force: true });
}

/**
 * Re-encrypts the whole database under `newKey` by copying it, never in place: SQLite's in-place
 * rekey leaves a hot journal that no key can roll back if it is interrupted (the page-1 salt has
 * already changed). The copy is written beside the database, made durable, and renamed over it:
 * after a crash the file is entirely under the old key or entirely under the new one.
 * `db` is closed; the caller opens the database again with the new key.
 * @throws the raw SQLite or fs error; the original database is untouched unless the rename happened.
 */
export function rekeyByCopy(db: Db, path: string, newKey: Uint8Array): void {
  const tmp = `${path}${REKEY_SUFFIX}`;
  removeStaleRekey(path);
  createPrivateFile(tmp);
  db.prepare('ATTACH DATABASE ? AS rk KEY ?').run(tmp, Buffer.from(newKey.buffer, newKey.byteOffset, newKey.byteLength));
  try {
    db.pragma('rk.journal_mode = DELETE');
    db.pragma('rk.synchronous = FULL');
    db.transaction(() => {
      db.exec(schemaSql('rk'));
      for (const t of TABLES) db.exec(`INSERT INTO rk.${t} SELECT * FROM main.${t}`);
    })();
  } finally {
    db.exec('DETACH DATABASE rk');
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  for (const suffix of ['-wal', '-journal']) {
    if (existsSync(`${path}${suffix}`) || existsSync(`${tmp}${suffix}`)) throw new Error(`a ${suffix} file is still present; the rekey was not applied`);
  }
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}
