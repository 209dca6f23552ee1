/**
 * The encrypted SQLite database of a vault: opening it with a page key, the pragmas that make
 * every commit durable, the schema, and the translation of SQLite failures into typed errors.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { IoError, TesseraError, VaultCorruptedError, VaultLockedError } from '../common/errors.js';
import { fsyncDir, PRIVATE_FILE_MODE } from '../common/fs.js';
import type { KeyringBody } from './keyring-format.js';

/** The database's file name in a vault directory. */
export const DB_FILE = 'vault.db';

export type Db = Database.Database;
export type Statement = Database.Statement;

/**
 * 2: adds `signing_log`. 3: a retired version keeps no sealed record (`shares.retired_by`,
 * `shares_full` a left join), adds `setup_log`. 4: adds `audit_log` and its sealed head
 * (`meta.audit_head`) and `request_log`. An older vault is upgraded when it is opened.
 */
export const SCHEMA_VERSION = 4;

/** Table names, in the order a copy must fill them. */
export const TABLES = [
  'meta',
  'wallets',
  'shares',
  'records',
  'tombstones',
  'signing_log',
  'setup_log',
  'audit_log',
  'request_log',
] as const;

/** The `meta` key of the audit log's sealed head (`audit-log.ts`). */
export const AUDIT_HEAD_KEY = 'audit_head';

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

/**
 * The node-wide log of setup contexts (DKG, reshare, OT re-setup) and their step markers (see
 * `Vault.claimSetupContext`). Entries are never deleted. Not part of the change stream.
 */
function setupLogSql(schema: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${schema}.setup_log (
  context BLOB PRIMARY KEY,
  started_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
}

/**
 * The node's audit log (see `Vault.appendAudit`): one row per entry, each the canonical encoding of
 * the entry and its link in the hash chain; the head is sealed in `meta.audit_head`. Rows are never
 * deleted. Not part of the change stream.
 */
function auditLogSql(schema: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${schema}.audit_log (
  seq INTEGER PRIMARY KEY,
  vault_id BLOB NOT NULL,
  entry BLOB NOT NULL,
  hash BLOB NOT NULL
);
`;
}

/**
 * The signing requests that completed, by (wallet, tx id): digest for good, result event for the
 * retention window (see `Vault.recordSignedRequest`). Not part of the change stream.
 */
function requestLogSql(schema: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${schema}.request_log (
  wallet_id TEXT NOT NULL,
  tx_id TEXT NOT NULL,
  digest BLOB NOT NULL,
  result BLOB,
  completed_at INTEGER NOT NULL,
  PRIMARY KEY (wallet_id, tx_id)
) WITHOUT ROWID;
`;
}

/**
 * Share versions with their sealed record. A left join: a retired version has no record (its
 * secret was destroyed), so its `sealed` is NULL and its `data_key_id` 0.
 */
function sharesFullSql(schema: string): string {
  const cols =
    's.id, s.key_type, s.wallet_id, s.version, s.status, s.threshold, ' +
    's.participants, coalesce(r.data_key_id, 0) AS data_key_id';
  return `
CREATE VIEW ${schema}.shares_full AS
  SELECT ${cols},
         s.created_at, s.updated_at, s.seq, r.sealed, s.retired_by
  FROM shares s LEFT JOIN records r ON r.share_id = s.id;
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
  retired_by INTEGER,
  UNIQUE (key_type, wallet_id, version)
);
-- The sealed bytes live apart from the share's metadata so that a status change (activation)
-- rewrites a small row, not the whole sealed record. A retired version has no record: its secret
-- is destroyed when it is retired. retired_by is the version whose activation retired it (NULL
-- if unknown or if the node left the committee); it comes last, where schema 3 added it.
CREATE TABLE ${schema}.records (
  share_id INTEGER PRIMARY KEY,
  data_key_id INTEGER NOT NULL,
  sealed BLOB NOT NULL
);
${sharesFullSql(schema)}CREATE TABLE ${schema}.tombstones (
  seq INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,
  key_type INTEGER NOT NULL,
  wallet_id TEXT NOT NULL,
  version INTEGER,
  deleted_at INTEGER NOT NULL
);
${signingLogSql(schema)}${setupLogSql(schema)}${auditLogSql(schema)}${requestLogSql(schema)}`;
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

/**
 * WAL with a full fsync per commit (WAL's default, NORMAL, is not durable per commit), and
 * `secure_delete`: deleted content (a destroyed share record) is overwritten with zeros in its page
 * and freed pages are zeroed, instead of lingering in free space of the file.
 */
export function applyPragmas(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('cache_size = -32768');
  db.pragma('foreign_keys = OFF');
}

/**
 * Opens the database with the keyring's current page key, or with the next one if a crash came
 * after the pages were re-encrypted but before the keyring recorded it.
 */
export function openWithPageKeys(path: string, body: KeyringBody): { db: Db; pageKeyId: number } {
  const ordered = [...body.pageKeys].sort((a, b) => (a.role === 'current' ? -1 : 1) - (b.role === 'current' ? -1 : 1));
  let last: unknown;
  for (const k of ordered) {
    try {
      return { db: openDatabase(path, k.key, true), pageKeyId: k.id };
    } catch (e) {
      last = e;
      if (!isCorruption(e)) throw e;
    }
  }
  throw new VaultCorruptedError(
    'database',
    path,
    'the database does not open with the keyring page key (the file or its first page is damaged)',
    { cause: last },
  );
}

/**
 * Creates the schema and the meta rows in one transaction; `auditHead` is the sealed head of the
 * empty audit log (`audit-log.ts`, `sealedGenesisHead`).
 */
export function initSchema(db: Db, vaultId: Uint8Array, now: number, auditHead: Uint8Array): void {
  db.transaction(() => {
    db.exec(schemaSql());
    const put = db.prepare('INSERT INTO meta (k, v) VALUES (?, ?)');
    put.run('vault_id', Buffer.from(vaultId));
    put.run('schema_version', SCHEMA_VERSION);
    put.run('backup_watermark', 0);
    put.run('created_at', now);
    put.run(AUDIT_HEAD_KEY, Buffer.from(auditHead));
  })();
}

/** Status code of a retired share version (as `vault.ts` stores it). */
const STATUS_RETIRED = 3;

/**
 * Brings an opened database to {@link SCHEMA_VERSION} in one transaction. 1 → 2: create
 * `signing_log`. 2 → 3: add `shares.retired_by`, make `shares_full` a left join, create
 * `setup_log`, and destroy the secrets of versions that are already retired (their sealed records
 * and signing-log entries are deleted; their metadata stays), so that a reshare expels [5/R-E].
 * 3 → 4: create `audit_log` and `request_log` and store `auditHead`, the sealed head of the empty audit log. At
 * the current version, recreate a log table an older build dropped. Returns the version the vault
 * had (`from`) and whether it deleted sealed records (`destroyed`: the caller then rebuilds the file
 * and truncates the log, see `Vault.open`).
 * @throws VaultCorruptedError if the stored version is unknown or newer than this build
 *   understands (a newer Tessera wrote it); the raw SQLite error.
 */
export function upgradeSchema(db: Db, path: string, auditHead: Uint8Array): { from: number; destroyed: boolean } {
  const row = db.prepare("SELECT v FROM meta WHERE k = 'schema_version'").get() as { v: unknown } | undefined;
  const v = typeof row?.v === 'number' || typeof row?.v === 'bigint' ? Number(row.v) : Number.NaN;
  if (v === SCHEMA_VERSION) {
    // A build from before schema 2 does not check the version: its key rotation (copy of the v1
    // tables) can drop the logs while the version stays. Recreate them (empty: those claims are
    // lost, and signing fails closed until then) rather than trust the number.
    const present = new Set(
      (
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('signing_log', 'setup_log', 'audit_log', 'request_log')",
          )
          .all() as { name: string }[]
      ).map((r) => r.name),
    );
    if (!present.has('signing_log')) db.exec(signingLogSql('main'));
    if (!present.has('setup_log')) db.exec(setupLogSql('main'));
    // Its lost entries stay visible: the sealed head (in meta, which every build copies) still
    // names the last one, so the audit log verifies as truncated.
    if (!present.has('audit_log')) db.exec(auditLogSql('main'));
    if (!present.has('request_log')) db.exec(requestLogSql('main'));
    return { from: v, destroyed: false };
  }
  if (!Number.isInteger(v) || v < 1 || v > SCHEMA_VERSION) {
    throw new VaultCorruptedError(
      'database',
      path,
      `unknown schema version ${Number.isNaN(v) ? '(missing)' : v}; ` +
        `a newer Tessera may have written this vault — open it with that version`,
    );
  }
  return db.transaction(() => {
    db.exec(signingLogSql('main'));
    let destroyed = 0;
    if (v < 3) {
      const cols = db.prepare('SELECT name FROM pragma_table_info(?)').all('shares') as { name: string }[];
      if (!cols.some((c) => c.name === 'retired_by')) db.exec('ALTER TABLE main.shares ADD COLUMN retired_by INTEGER');
      db.exec('DROP VIEW IF EXISTS main.shares_full');
      db.exec(sharesFullSql('main'));
      db.exec(setupLogSql('main'));
      db.prepare(
        'DELETE FROM signing_log WHERE (key_type, wallet_id, version) IN ' +
          '(SELECT key_type, wallet_id, version FROM shares WHERE status = ?)',
      ).run(STATUS_RETIRED);
      destroyed = db
        .prepare('DELETE FROM records WHERE share_id IN (SELECT id FROM shares WHERE status = ?)')
        .run(STATUS_RETIRED).changes;
    }
    if (v < 4) {
      db.exec(auditLogSql('main'));
      db.exec(requestLogSql('main'));
      // OR IGNORE: a schema-3 vault has no head; should one be there, verify judges it (never replaced)
      db.prepare('INSERT OR IGNORE INTO meta (k, v) VALUES (?, ?)').run(AUDIT_HEAD_KEY, Buffer.from(auditHead));
    }
    db.prepare("UPDATE meta SET v = ? WHERE k = 'schema_version'").run(SCHEMA_VERSION);
    return { from: v, destroyed: destroyed > 0 };
  })();
}

const CORRUPT_CODES = new Set([
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
  'SQLITE_FORMAT',
  'SQLITE_CORRUPT_INDEX',
  'SQLITE_CORRUPT_SEQUENCE',
  'SQLITE_CORRUPT_VTAB',
]);

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
  db.prepare('ATTACH DATABASE ? AS rk KEY ?').run(
    tmp,
    Buffer.from(newKey.buffer, newKey.byteOffset, newKey.byteLength),
  );
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
    if (existsSync(`${path}${suffix}`) || existsSync(`${tmp}${suffix}`))
      throw new Error(`a ${suffix} file is still present; the rekey was not applied`);
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
