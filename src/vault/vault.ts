/**
 * The share vault: wallets and their versioned threshold shares in an encrypted SQLite database,
 * unlocked through a password- or key-sealed keyring. One process owns a vault at a time.
 *
 * Durability: every mutating call is one SQLite transaction committed with a full fsync before it
 * returns; a call that returned is never lost by a crash.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { secureRandomBytes } from '../common/random.js';
import sodium from 'sodium-native';
import {
  AlreadyExistsError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  ShareDestroyedError,
  TesseraError,
  VaultCorruptedError,
} from '../common/errors.js';
import { ensurePrivateDir } from '../common/fs.js';
import { createPrivateFile, DB_FILE, type Db, type Statement, initSchema, isCorruption, openDatabase, openWithPageKeys, rekeyByCopy, removeStaleRekey, translateDbError, upgradeSchema } from './database.js';
import { type DerivedKeys, deriveKeys, KDF_ARGON2ID, kdfFor, SALT_BYTES, wipeDerived } from './kdf.js';
import { type DataKey, type KeyringBody, type KeyringHeader, newKey, VAULT_ID_BYTES, wipeBody } from './keyring-format.js';
import { keyringExists, unlockKeyring, writeKeyring } from './keyring-store.js';
import { acquireLock, type VaultLock } from './lock.js';
import { openRecord, type RecordIdentity, sealRecord } from './record-seal.js';
import {
  decodeKeyType,
  KEY_TYPE_CODE,
  KEY_TYPE_NAME,
  label,
  META_COLS,
  type ShareMetaRow,
  type ShareRow,
  shareInfo,
  STATUS_CODE,
  STATUS_NAME,
  TOMBSTONE_SHARE,
  TOMBSTONE_WALLET,
  type TombstoneRow,
  type WalletRow,
  walletInfo,
} from './rows.js';
import { assertSecret, type VaultSecret } from './secret.js';
import type { Argon2Params, CreateOptions, KeyType, OpenedShare, PlainChange, Progress, PutShareInput, ShareStatus, ShareVersionInfo, VaultChange, WalletInfo } from './types.js';
import { validatePlainChange, validatePutShare, validateShareBytes, validateWalletId, validateKeyType, validateVersion } from './validate.js';
import { checkWalFile } from './wal-check.js';

export { DB_FILE } from './database.js';
export type { CreateOptions, Progress } from './types.js';

/** A summary of the vault for `status`. Holds no secret. */
export interface VaultStatus {
  vaultId: string;
  dir: string;
  kdf: 'argon2id' | 'raw-key';
  argon2: Argon2Params | null;
  keyringGeneration: number;
  primaryDataKeyId: number;
  dataKeyIds: number[];
  pageKeyId: number;
  rotationInProgress: boolean;
  wallets: number;
  shares: { pending: number; active: number; retired: number };
  seq: number;
  backupWatermark: number;
  keyringIssues: string[];
}

/** One problem found by `verify`. */
export interface VerifyProblem {
  part: 'keyring' | 'database' | 'record' | 'pointer' | 'meta';
  where: string;
  what: string;
}

/** The result of `verify`. */
export interface VerifyReport {
  ok: boolean;
  wallets: number;
  records: number;
  problems: VerifyProblem[];
}

/** An open vault. Create with `Vault.create` or `Vault.open`; always `close()` it. */
export class Vault {
  private closed = false;
  private busy: Promise<unknown> = Promise.resolve();
  private rotating = false;

  private constructor(
    readonly dir: string,
    private db: Db,
    private readonly lock: VaultLock,
    private header: KeyringHeader,
    private body: KeyringBody,
    private derived: DerivedKeys,
    private keyringIssues: string[],
    /** Id of the page key the open database is encrypted with. */
    private pageKeyInUse: number,
  ) {
    this.loadSeq();
  }

  /**
   * Creates a new, empty vault in `dir` (created 0700 if needed; must not hold a vault).
   * @throws AlreadyExistsError if `dir` already holds vault files; InvalidArgumentError for a bad
   *   secret or Argon2 parameters; VaultLockedError; IoError.
   */
  static async create(dir: string, secret: VaultSecret, options: CreateOptions = {}): Promise<Vault> {
    assertSecret(secret);
    ensurePrivateDir(dir);
    if (keyringExists(dir) || existsSync(join(dir, DB_FILE))) {
      throw new AlreadyExistsError(`a vault in ${dir}`, 'choose an empty directory or open the existing vault');
    }
    const lock = acquireLock(dir);
    let db: Db | undefined;
    let keys: { body: KeyringBody; derived: DerivedKeys } | undefined;
    try {
      for (const f of readdirSync(dir)) if (f.startsWith(`${DB_FILE}-`)) rmSync(join(dir, f), { force: true });
      const vaultId = secureRandomBytes(VAULT_ID_BYTES);
      const { kdf, argon2 } = kdfFor(secret, options.argon2);
      const salt = secureRandomBytes(SALT_BYTES);
      const derived = await deriveKeys(secret, kdf, argon2, salt, vaultId);
      const now = Date.now();
      const body: KeyringBody = {
        pageKeys: [{ id: 1, role: 'current', key: newKey() }],
        dataKeys: [{ id: 1, status: 'primary', createdAt: now, key: newKey() }],
      };
      keys = { body, derived };
      const header: KeyringHeader = { vaultId, kdf, argon2, salt, generation: 1, verifier: Uint8Array.from(derived.verifier) };
      const path = join(dir, DB_FILE);
      createPrivateFile(path);
      db = openDatabase(path, body.pageKeys[0]!.key, true);
      initSchema(db, vaultId, now);
      // The keyring is written last: until it exists the directory holds no openable vault.
      writeKeyring(dir, header, body, derived.kek);
      return new Vault(dir, db, lock, header, body, derived, [], 1);
    } catch (e) {
      db?.close();
      if (keys) {
        wipeBody(keys.body);
        wipeDerived(keys.derived);
      }
      lock.release();
      throw translateDbError(e, dir, 'create');
    }
  }

  /**
   * Opens the vault in `dir`. Repairs a damaged or stale keyring copy and finishes a key rotation
   * that a crash interrupted.
   * @throws NotFoundError if there is no vault; WrongPasswordError; VaultCorruptedError naming the
   *   part; VaultLockedError; IoError.
   */
  static async open(dir: string, secret: VaultSecret): Promise<Vault> {
    assertSecret(secret);
    if (!existsSync(dir)) throw new NotFoundError(`vault directory ${dir}`, 'check --dir or create the vault with `tessera vault init`');
    const lock = acquireLock(dir);
    let unlocked: Awaited<ReturnType<typeof unlockKeyring>> | undefined;
    let db: Db | undefined;
    try {
      unlocked = await unlockKeyring(dir, secret);
      const path = join(dir, DB_FILE);
      if (!existsSync(path)) throw new VaultCorruptedError('database', path, 'the database file is missing');
      removeStaleRekey(path);
      const wal = checkWalFile(`${path}-wal`);
      if (!wal.ok) throw new VaultCorruptedError('wal', `${path}-wal frame ${wal.frame}`, wal.reason);
      const opened = openWithPageKeys(path, unlocked.body);
      db = opened.db;
      const stored = db.prepare("SELECT v FROM meta WHERE k = 'vault_id'").get() as { v: Buffer } | undefined;
      if (!stored || !Buffer.from(stored.v).equals(Buffer.from(unlocked.header.vaultId))) {
        throw new VaultCorruptedError('database', path, 'the database belongs to another vault than the keyring');
      }
      upgradeSchema(db, path);
      // Old log frames may still hold records a destroy deleted if the last process died between
      // its commit and its checkpoint (or the upgrade just destroyed retired secrets): fold the
      // log into the database and truncate it before anything else runs.
      db.pragma('wal_checkpoint(TRUNCATE)');
      const vault = new Vault(dir, db, lock, unlocked.header, unlocked.body, unlocked.derived, unlocked.issues, opened.pageKeyId);
      db = undefined;
      const u = unlocked;
      unlocked = undefined;
      try {
        if (u.issues.length > 0) vault.rewriteKeyring(vault.body);
        if (vault.rotationPending()) vault.finishRotation();
      } catch (e) {
        vault.close();
        throw e;
      }
      return vault;
    } catch (e) {
      db?.close();
      if (unlocked) {
        wipeBody(unlocked.body);
        wipeDerived(unlocked.derived);
      }
      lock.release();
      throw translateDbError(e, dir, 'open');
    }
  }

  /** The vault's random id (hex); not secret. */
  get id(): string {
    return Buffer.from(this.header.vaultId).toString('hex');
  }

  /**
   * Checkpoints the log into the database, closes it, releases the lock and zeroes every key.
   * Idempotent. A key rotation in progress stops at its last finished batch and resumes on open.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // the data is safe in the log; the next open replays it
    }
    this.db.close();
    this.lock.release();
    wipeBody(this.body);
    wipeDerived(this.derived);
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the vault is closed; open it again');
  }

  /** Runs `fn` with database errors translated; `where` names the operation for reports. */
  private guard<T>(where: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (e) {
      throw translateDbError(e, this.dir, where);
    }
  }

  /**
   * Set when a transaction deleted a sealed record (a retired version's secret, a discarded,
   * pruned or deleted version): after its commit, `write` checkpoints the log and truncates it, so
   * the record's bytes do not outlive the commit in old log frames (`secure_delete` zeroes them in
   * the database pages themselves).
   */
  private scrubPending = false;

  /**
   * Runs `fn` in one write transaction (immediate: takes the write lock at once) with errors
   * translated; after a commit that deleted a sealed record, checkpoints and truncates the log.
   */
  private write<T>(where: string, fn: () => T): T {
    return this.guard(where, () => {
      this.scrubPending = false;
      let out: T;
      try {
        out = this.db.transaction(fn).immediate();
      } catch (e) {
        this.scrubPending = false;
        throw e;
      }
      if (this.scrubPending) {
        this.scrubPending = false;
        this.truncateLog();
      }
      return out;
    });
  }

  /**
   * Copies every log frame into the database and truncates the log to zero bytes. Best effort:
   * the data is already committed; if SQLite cannot checkpoint now (a reader is open), the next
   * destroy, `close` or `open` does it.
   */
  private truncateLog(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // committed data is safe in the log; see the doc comment
    }
  }

  private statements = new Map<string, Statement>();

  /** A prepared statement, cached per database connection (preparing costs more than running). */
  private stmt(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /**
   * The change sequence lives in memory (one process owns the vault) and is rebuilt at open from the
   * highest sequence stored in any row or tombstone: every committed number survives in some row
   * (an update moves a row to a higher number, a deletion leaves a higher tombstone), so the
   * sequence never goes back; a rolled-back transaction only leaves a gap. This keeps a counter
   * page out of every commit.
   */
  private seq = 0;

  private loadSeq(): void {
    const row = this.stmt(
      'SELECT max(coalesce((SELECT max(seq) FROM wallets), 0), coalesce((SELECT max(seq) FROM shares), 0), coalesce((SELECT max(seq) FROM tombstones), 0)) AS m',
    ).get() as { m: number };
    this.seq = row.m;
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private primaryKey(): DataKey {
    return this.body.dataKeys.find((k) => k.status === 'primary')!;
  }

  private identity(keyType: KeyType, walletId: string, version: number, dataKeyId: number): RecordIdentity {
    return { vaultId: this.header.vaultId, kind: 'share', keyType, walletId, version, dataKeyId };
  }

  // ---------------------------------------------------------------- wallets and shares

  /**
   * Stores a share version. If the wallet is new it is created; its public key must match every
   * other version's. The version is pending unless `activate` is set (keygen), in which case it is
   * activated in the same transaction.
   * @throws InvalidArgumentError for malformed input or a public key that differs from the
   *   wallet's; AlreadyExistsError if the version exists; VaultCorruptedError; IoError.
   */
  putShare(input: PutShareInput): ShareVersionInfo {
    validatePutShare(input);
    const where = label(input.keyType, input.walletId, input.version);
    return this.write(`put ${where}`, () => this.putInTx(input, where));
  }

  /**
   * Stores many share versions in one transaction (one fsync): all or none. Same rules as
   * `putShare` for each; used by imports and restores.
   * @throws as `putShare`, for the first bad input; nothing is stored then.
   */
  putShares(inputs: readonly PutShareInput[]): ShareVersionInfo[] {
    for (const input of inputs) validatePutShare(input);
    return this.write(`put ${inputs.length} shares`, () => inputs.map((input) => this.putInTx(input, label(input.keyType, input.walletId, input.version))));
  }

  private putInTx(input: PutShareInput, where: string): ShareVersionInfo {
    const kt = KEY_TYPE_CODE[input.keyType];
    const wallet = this.walletRow(kt, input.walletId);
    const now = Date.now();
    if (wallet && !Buffer.from(wallet.public_key).equals(Buffer.from(input.publicKey))) {
      throw new InvalidArgumentError(`${where}: the public key differs from the wallet's; a wallet keeps one public key across versions`);
    }
    if (this.stmt('SELECT 1 FROM shares WHERE key_type = ? AND wallet_id = ? AND version = ?').get(kt, input.walletId, input.version)) {
      throw new AlreadyExistsError(where, 'share versions are immutable; write the next version');
    }
    const activate = input.activate === true;
    if (activate && wallet && wallet.current_version !== null && input.version <= wallet.current_version) {
      throw new InvalidStateError(`${where} is not newer than the active version ${wallet.current_version}`);
    }
    const participants = JSON.stringify(input.participants);
    if (activate && wallet?.current_version != null) this.retireInTx(kt, input.walletId, wallet.current_version, input.version, now);
    if (!wallet) {
      // A new wallet's row comes first in the change stream, then its share.
      this.stmt(
        'INSERT INTO wallets (key_type, wallet_id, threshold, participants, current_version, public_key, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(kt, input.walletId, input.threshold, participants, activate ? input.version : null, Buffer.from(input.publicKey), now, now, this.nextSeq());
    }
    const dk = this.primaryKey();
    const sealed = sealRecord(dk.key, this.identity(input.keyType, input.walletId, input.version, dk.id), input.share);
    const status = activate ? STATUS_CODE.active : STATUS_CODE.pending;
    const shareSeq = this.nextSeq();
    const { lastInsertRowid } = this.stmt(
      'INSERT INTO shares (key_type, wallet_id, version, status, threshold, participants, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(kt, input.walletId, input.version, status, input.threshold, participants, now, now, shareSeq);
    this.stmt('INSERT INTO records (share_id, data_key_id, sealed) VALUES (?, ?, ?)').run(lastInsertRowid, dk.id, sealed);
    if (wallet && activate) {
      this.stmt('UPDATE wallets SET current_version = ?, threshold = ?, participants = ?, updated_at = ?, seq = ? WHERE key_type = ? AND wallet_id = ?').run(
        input.version,
        input.threshold,
        participants,
        now,
        this.nextSeq(),
        kt,
        input.walletId,
      );
    }
    return {
      keyType: input.keyType,
      walletId: input.walletId,
      version: input.version,
      status: activate ? 'active' : 'pending',
      threshold: input.threshold,
      participants: [...input.participants],
      dataKeyId: dk.id,
      createdAt: now,
      updatedAt: now,
      seq: shareSeq,
    };
  }

  /**
   * Replaces the secret bytes of an existing pending or active share version in place — for share
   * objects whose state moves on while the version stays (a DKLs23 ECDSA share's OT counters and
   * burnt pairs change with every signing and must be on disk before the next message leaves;
   * docs/ecdsa.md). The version's metadata and status are unchanged; the bytes are sealed afresh
   * under the primary data key, bound to the same identity, and the version gets a new sequence
   * number, so incremental backups carry the new state. One fsynced commit.
   * With `expectSeq` (the `seq` of the caller's last read or update) the write is a compare-and-swap:
   * if anything wrote the version since — another process, or a copy of this one resumed from a
   * snapshot — it is refused, so a stale writer can never put older OT counters over newer ones.
   * @throws InvalidArgumentError for malformed input; NotFoundError if the version does not exist;
   *   InvalidStateError if it is retired or (with `expectSeq`) was written since; VaultCorruptedError;
   *   IoError; InvalidStateError if closed.
   */
  updateShare(keyType: KeyType, walletId: string, version: number, share: Uint8Array, options: { expectSeq?: number } = {}): ShareVersionInfo {
    validateKeyType(keyType);
    validateWalletId(walletId);
    validateVersion(version);
    validateShareBytes(share);
    const expectSeq = options.expectSeq;
    if (expectSeq !== undefined && (!Number.isSafeInteger(expectSeq) || expectSeq < 0)) throw new InvalidArgumentError('expectSeq must be a non-negative integer');
    const where = label(keyType, walletId, version);
    return this.guard(`update ${where}`, () =>
      this.db.transaction(() => {
        const kt = KEY_TYPE_CODE[keyType];
        const row = this.shareRow(kt, walletId, version);
        if (!row) throw new NotFoundError(where);
        if (row.status === STATUS_CODE.retired) throw new InvalidStateError(`${where} is retired; only pending and active versions can be updated`);
        if (expectSeq !== undefined && row.seq !== expectSeq) {
          throw new InvalidStateError(`${where} was written since it was read (sequence ${row.seq}, expected ${expectSeq}); another process or a resumed copy holds newer state — stop this one and reload the share`);
        }
        const dk = this.primaryKey();
        const sealed = sealRecord(dk.key, this.identity(keyType, walletId, version, dk.id), share);
        const now = Date.now();
        this.stmt('UPDATE records SET data_key_id = ?, sealed = ? WHERE share_id = ?').run(dk.id, sealed, row.id);
        this.stmt('UPDATE shares SET updated_at = ?, seq = ? WHERE id = ?').run(now, this.nextSeq(), row.id);
        return shareInfo(this.shareRow(kt, walletId, version)!);
      })(),
    );
  }

  private setStatus(kt: number, walletId: string, version: number, status: ShareStatus, now: number): void {
    this.stmt('UPDATE shares SET status = ?, updated_at = ?, seq = ? WHERE key_type = ? AND wallet_id = ? AND version = ?').run(
      STATUS_CODE[status],
      now,
      this.nextSeq(),
      kt,
      walletId,
      version,
    );
  }


  /**
   * Retires a version and destroys its secret in the caller's transaction: its sealed record and
   * its signing-log entries are deleted; the metadata row stays (status retired, `retired_by`). A
   * reshare must expel: an old share of a departed member plus any other node's old share would
   * still sign (review finding R-E). The caller's commit is followed by a log truncation (`write`).
   */
  private retireInTx(kt: number, walletId: string, version: number, retiredBy: number | null, now: number): void {
    const row = this.shareRow(kt, walletId, version);
    if (!row) throw new VaultCorruptedError('pointer', `share ${KEY_TYPE_NAME[kt] ?? kt}/${walletId} v${version}`, 'the wallet points to a version that does not exist');
    this.stmt('UPDATE shares SET status = ?, retired_by = ?, updated_at = ?, seq = ? WHERE id = ?').run(STATUS_CODE.retired, retiredBy, now, this.nextSeq(), row.id);
    this.destroySecretInTx(row);
  }

  /** Deletes a version's sealed record and signing-log entries (its metadata row stays). */
  private destroySecretInTx(row: ShareMetaRow): void {
    this.stmt('DELETE FROM signing_log WHERE key_type = ? AND wallet_id = ? AND version = ?').run(row.key_type, row.wallet_id, row.version);
    if (this.stmt('DELETE FROM records WHERE share_id = ?').run(row.id).changes > 0) this.scrubPending = true;
  }

  /**
   * Activates a pending version: the wallet's pointer moves to it and the previously active version
   * is retired, in one transaction. Retiring destroys the previous version's secret (its sealed
   * record and signing-log entries; its public metadata stays, `getShare` of it then throws
   * `ShareDestroyedError`): call this only once every new party has confirmed its share. After
   * the commit the log is checkpointed and truncated (docs/vault.md, "Retired versions").
   * The wallet's threshold and participants become the version's.
   * @throws NotFoundError; InvalidStateError if the version is not pending or not newer than the
   *   active one; VaultCorruptedError; IoError.
   */
  activate(keyType: KeyType, walletId: string, version: number): WalletInfo {
    validateKeyType(keyType);
    validateWalletId(walletId);
    validateVersion(version);
    return this.write(`activate ${label(keyType, walletId, version)}`, () => {
      this.activateInTx(keyType, walletId, version, Date.now());
      return walletInfo(this.walletRow(KEY_TYPE_CODE[keyType], walletId)!);
    });
  }

  private activateInTx(keyType: KeyType, walletId: string, version: number, now: number): void {
    const kt = KEY_TYPE_CODE[keyType];
    const wallet = this.walletRow(kt, walletId);
    const share = this.shareRow(kt, walletId, version);
    if (!wallet || !share) throw new NotFoundError(label(keyType, walletId, version));
    if (share.status !== STATUS_CODE.pending) {
      throw new InvalidStateError(`${label(keyType, walletId, version)} is ${STATUS_NAME[share.status]}, not pending; only a pending version can be activated`);
    }
    if (wallet.current_version !== null && version <= wallet.current_version) {
      throw new InvalidStateError(`${label(keyType, walletId, version)} is not newer than the active version ${wallet.current_version}`);
    }
    if (wallet.current_version !== null) this.retireInTx(kt, walletId, wallet.current_version, version, now);
    this.setStatus(kt, walletId, version, 'active', now);
    this.stmt('UPDATE wallets SET current_version = ?, threshold = ?, participants = ?, updated_at = ?, seq = ? WHERE key_type = ? AND wallet_id = ?')
      .run(version, share.threshold, share.participants, now, this.nextSeq(), kt, walletId);
  }

  /**
   * Retires the active version without a successor (this node left the committee) and destroys
   * its secret, as `activate` does for the version it replaces. The wallet keeps its history
   * (public metadata) but has no active version.
   * @throws NotFoundError if the wallet or an active version does not exist; VaultCorruptedError; IoError.
   */
  retireActive(keyType: KeyType, walletId: string): WalletInfo {
    validateKeyType(keyType);
    validateWalletId(walletId);
    return this.write(`retire ${label(keyType, walletId)}`, () => {
      const kt = KEY_TYPE_CODE[keyType];
      const wallet = this.walletRow(kt, walletId);
      if (!wallet || wallet.current_version === null) throw new NotFoundError(`an active version of ${label(keyType, walletId)}`);
      const now = Date.now();
      this.retireInTx(kt, walletId, wallet.current_version, null, now);
      this.stmt('UPDATE wallets SET current_version = NULL, updated_at = ?, seq = ? WHERE key_type = ? AND wallet_id = ?').run(now, this.nextSeq(), kt, walletId);
      return walletInfo(this.walletRow(kt, walletId)!);
    });
  }

  /**
   * Removes a pending version that will never be activated (a failed reshare). Leaves a tombstone.
   * @throws NotFoundError; InvalidStateError if the version is not pending; VaultCorruptedError; IoError.
   */
  discardPending(keyType: KeyType, walletId: string, version: number): void {
    validateKeyType(keyType);
    validateWalletId(walletId);
    validateVersion(version);
    this.write(`discard ${label(keyType, walletId, version)}`, () => {
      const kt = KEY_TYPE_CODE[keyType];
      const share = this.shareRow(kt, walletId, version);
      if (!share) throw new NotFoundError(label(keyType, walletId, version));
      if (share.status !== STATUS_CODE.pending) throw new InvalidStateError(`${label(keyType, walletId, version)} is not pending; only pending versions can be discarded`);
      this.deleteShareInTx(share, Date.now());
      const wallet = this.walletRow(kt, walletId)!;
      const left = this.stmt('SELECT count(*) AS n FROM shares WHERE key_type = ? AND wallet_id = ?').get(kt, walletId) as { n: number };
      if (left.n === 0 && wallet.current_version === null) this.deleteWalletInTx(kt, walletId, Date.now());
    });
  }

  private deleteShareInTx(share: ShareMetaRow, now: number): void {
    this.destroySecretInTx(share);
    this.stmt('DELETE FROM shares WHERE id = ?').run(share.id);
    this.stmt('INSERT INTO tombstones (seq, kind, key_type, wallet_id, version, deleted_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.nextSeq(), TOMBSTONE_SHARE, share.key_type, share.wallet_id, share.version, now);
  }

  private deleteWalletInTx(kt: number, walletId: string, now: number): void {
    this.stmt('DELETE FROM signing_log WHERE key_type = ? AND wallet_id = ?').run(kt, walletId);
    if (this.stmt('DELETE FROM records WHERE share_id IN (SELECT id FROM shares WHERE key_type = ? AND wallet_id = ?)').run(kt, walletId).changes > 0) this.scrubPending = true;
    this.stmt('DELETE FROM shares WHERE key_type = ? AND wallet_id = ?').run(kt, walletId);
    this.stmt('DELETE FROM wallets WHERE key_type = ? AND wallet_id = ?').run(kt, walletId);
    this.stmt('INSERT INTO tombstones (seq, kind, key_type, wallet_id, version, deleted_at) VALUES (?, ?, ?, ?, NULL, ?)')
      .run(this.nextSeq(), TOMBSTONE_WALLET, kt, walletId, now);
  }

  /**
   * Deletes a wallet and every version of its share, leaving a tombstone for backups.
   * @throws NotFoundError; VaultCorruptedError; IoError.
   */
  deleteWallet(keyType: KeyType, walletId: string): void {
    validateKeyType(keyType);
    validateWalletId(walletId);
    this.write(`delete ${label(keyType, walletId)}`, () => {
      const kt = KEY_TYPE_CODE[keyType];
      if (!this.walletRow(kt, walletId)) throw new NotFoundError(label(keyType, walletId));
      this.deleteWalletInTx(kt, walletId, Date.now());
    });
  }

  /**
   * Deletes the metadata of retired versions beyond the newest `keep` retired ones, for one wallet
   * or for all, leaving tombstones (their secrets were destroyed when they were retired). Active
   * and pending versions are never pruned. Returns the number of versions removed.
   * @throws InvalidArgumentError for a negative `keep`; NotFoundError for an unknown wallet;
   *   VaultCorruptedError; IoError.
   */
  prune(keep: number, wallet?: { keyType: KeyType; walletId: string }): number {
    if (!Number.isInteger(keep) || keep < 0) throw new InvalidArgumentError(`--keep must be a non-negative integer (got ${keep})`);
    if (wallet) {
      validateKeyType(wallet.keyType);
      validateWalletId(wallet.walletId);
    }
    return this.write('prune', () => {
        let rows: ShareMetaRow[];
        if (wallet) {
          const kt = KEY_TYPE_CODE[wallet.keyType];
          if (!this.walletRow(kt, wallet.walletId)) throw new NotFoundError(label(wallet.keyType, wallet.walletId));
          rows = this.stmt(`SELECT ${META_COLS} FROM shares_full WHERE key_type = ? AND wallet_id = ? AND status = ? ORDER BY version DESC`)
            .all(kt, wallet.walletId, STATUS_CODE.retired) as ShareMetaRow[];
        } else {
          rows = this.stmt(`SELECT ${META_COLS} FROM shares_full WHERE status = ? ORDER BY key_type, wallet_id, version DESC`).all(STATUS_CODE.retired) as ShareMetaRow[];
        }
        const seen = new Map<string, number>();
        const now = Date.now();
        let removed = 0;
        for (const r of rows) {
          const k = `${r.key_type}\u0000${r.wallet_id}`;
          const n = (seen.get(k) ?? 0) + 1;
          seen.set(k, n);
          if (n > keep) {
            this.deleteShareInTx(r, now);
            removed++;
          }
        }
        return removed;
      });
  }

  /**
   * Records, durably, that this node has started a signing session with `context` (the signing
   * party's 32-byte context digest, or the marker of one of its steps) under the share (keyType,
   * walletId, version). Returns true if
   * it was recorded now, false if it had been recorded before — the caller must then refuse to
   * sign (docs/ecdsa.md, finding F2). One fsynced commit; entries live as long as the share
   * version and are deleted with it (or with its secret, when it is retired). This is the durable
   * `SigningLog` the signing parties take:
   * `{ claim: (c) => vault.claimSigningContext(keyType, walletId, version, c) }`.
   * @throws InvalidArgumentError for a context that is not 32 bytes or a bad id; NotFoundError if
   *   the share version does not exist; ShareDestroyedError if it is retired (nothing can sign with
   *   it); VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  claimSigningContext(keyType: KeyType, walletId: string, version: number, context: Uint8Array): boolean {
    validateKeyType(keyType);
    validateWalletId(walletId);
    validateVersion(version);
    if (!(context instanceof Uint8Array) || context.length !== 32) throw new InvalidArgumentError('a signing context is 32 bytes');
    const ctx = Buffer.from(context);
    return this.guard(`claim signing context for ${label(keyType, walletId, version)}`, () =>
      this.db.transaction(() => {
        const kt = KEY_TYPE_CODE[keyType];
        const row = this.shareRow(kt, walletId, version);
        if (!row) throw new NotFoundError(label(keyType, walletId, version));
        if (row.status === STATUS_CODE.retired) throw this.destroyedError(row);
        const r = this.stmt('INSERT OR IGNORE INTO signing_log (key_type, wallet_id, version, context, started_at) VALUES (?, ?, ?, ?, ?)').run(kt, walletId, version, ctx, Date.now());
        return r.changes === 1;
      }).immediate(),
    );
  }

  /**
   * Number of signing contexts recorded for a share version (0 if it has none).
   * @throws InvalidArgumentError; VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  signingLogSize(keyType: KeyType, walletId: string, version: number): number {
    validateKeyType(keyType);
    validateWalletId(walletId);
    validateVersion(version);
    return this.guard('signing log size', () => {
      const r = this.stmt('SELECT count(*) AS n FROM signing_log WHERE key_type = ? AND wallet_id = ? AND version = ?').get(KEY_TYPE_CODE[keyType], walletId, version) as { n: number };
      return r.n;
    });
  }

  /**
   * Records, durably, that this node has started a setup protocol (ECDSA DKG, reshare or OT
   * re-setup) with the 32-byte `context`, or one of its steps (a step marker), before it draws or
   * answers any setup secret. Returns true if it was recorded now, false if it had been recorded
   * before — the caller must then refuse to run that setup (or step) again. Node-wide: a DKG has no
   * share version yet. One immediate, fsynced commit, as `claimSigningContext`. Entries are never
   * deleted (about 60 bytes each) and are not part of the change stream: backups do not carry them.
   * @throws InvalidArgumentError for a context that is not a 32-byte Uint8Array; VaultCorruptedError;
   *   IoError; VaultLockedError; InvalidStateError if closed.
   */
  claimSetupContext(context: Uint8Array): boolean {
    if (!(context instanceof Uint8Array) || context.length !== 32) throw new InvalidArgumentError('a setup context is 32 bytes');
    const ctx = Buffer.from(context);
    return this.guard('claim setup context', () =>
      this.db.transaction(() => this.stmt('INSERT OR IGNORE INTO setup_log (context, started_at) VALUES (?, ?)').run(ctx, Date.now()).changes === 1).immediate(),
    );
  }

  /**
   * Number of setup contexts and step markers recorded (see `claimSetupContext`).
   * @throws VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  setupLogSize(): number {
    return this.guard('setup log size', () => (this.stmt('SELECT count(*) AS n FROM setup_log').get() as { n: number }).n);
  }

  /** The error for a request of a retired version's secret: what happened and what to use instead. */
  private destroyedError(row: ShareMetaRow): ShareDestroyedError {
    const keyType = decodeKeyType(row.key_type, `share row ${row.wallet_id}`);
    const what = label(keyType, row.wallet_id, row.version);
    const when = row.retired_by !== null ? `when version ${row.retired_by} was activated` : 'when it was retired (a newer version was activated, or this node left the committee)';
    const current = this.walletRow(row.key_type, row.wallet_id)?.current_version ?? null;
    const hint = current !== null ? `Use the active version ${current} (read the share without a version).` : 'This node holds no active version of this wallet.';
    return new ShareDestroyedError(what, when, hint);
  }

  private walletRow(kt: number, walletId: string): WalletRow | undefined {
    return this.stmt('SELECT * FROM wallets WHERE key_type = ? AND wallet_id = ?').get(kt, walletId) as WalletRow | undefined;
  }

  private shareRow(kt: number, walletId: string, version: number): ShareMetaRow | undefined {
    return this.stmt(`SELECT ${META_COLS} FROM shares_full WHERE key_type = ? AND wallet_id = ? AND version = ?`).get(kt, walletId, version) as
      | ShareMetaRow
      | undefined;
  }

  /**
   * One wallet.
   * @throws NotFoundError; VaultCorruptedError; IoError.
   */
  getWallet(keyType: KeyType, walletId: string): WalletInfo {
    validateKeyType(keyType);
    validateWalletId(walletId);
    return this.guard(`read ${label(keyType, walletId)}`, () => {
      const row = this.walletRow(KEY_TYPE_CODE[keyType], walletId);
      if (!row) throw new NotFoundError(label(keyType, walletId));
      return walletInfo(row);
    });
  }

  /**
   * Every wallet, ordered by key type and id.
   * @throws VaultCorruptedError; IoError.
   */
  listWallets(): WalletInfo[] {
    return this.guard('list wallets', () =>
      (this.stmt('SELECT * FROM wallets ORDER BY key_type, wallet_id').all() as WalletRow[]).map((r) => walletInfo(r)),
    );
  }

  /**
   * The versions of one wallet's share, oldest first.
   * @throws NotFoundError; VaultCorruptedError; IoError.
   */
  listVersions(keyType: KeyType, walletId: string): ShareVersionInfo[] {
    validateKeyType(keyType);
    validateWalletId(walletId);
    return this.guard(`list ${label(keyType, walletId)}`, () => {
      const kt = KEY_TYPE_CODE[keyType];
      if (!this.walletRow(kt, walletId)) throw new NotFoundError(label(keyType, walletId));
      return (this.stmt(`SELECT ${META_COLS} FROM shares_full WHERE key_type = ? AND wallet_id = ? ORDER BY version`).all(kt, walletId) as ShareMetaRow[]).map((r) =>
        shareInfo(r),
      );
    });
  }

  /**
   * Reads and opens a share: the active version, or the named one. The caller zeroes `share`.
   * A retired version has no secret any more (`listVersions` still shows its metadata).
   * @throws NotFoundError (no such wallet, version, or no active version); ShareDestroyedError if
   *   the named version is retired (its secret was destroyed); VaultCorruptedError ('record' if the
   *   record is missing or fails to open under its own identity); IoError.
   */
  getShare(keyType: KeyType, walletId: string, version?: number): OpenedShare {
    validateKeyType(keyType);
    validateWalletId(walletId);
    if (version !== undefined) validateVersion(version);
    return this.guard(`read ${label(keyType, walletId, version)}`, () => {
      const kt = KEY_TYPE_CODE[keyType];
      // One query on the hot path; the slow path below only explains a miss.
      const row = this.stmt(
        'SELECT s.*, w.public_key FROM wallets w JOIN shares_full s ON s.key_type = w.key_type AND s.wallet_id = w.wallet_id AND s.version = coalesce(?, w.current_version) WHERE w.key_type = ? AND w.wallet_id = ?',
      ).get(version ?? null, kt, walletId) as (ShareRow & { public_key: Buffer }) | undefined;
      if (row) {
        if (row.status === STATUS_CODE.retired) throw this.destroyedError(row);
        return { ...shareInfo(row), publicKey: row.public_key, share: this.openRow(row) };
      }
      const wallet = this.walletRow(kt, walletId);
      if (!wallet) throw new NotFoundError(label(keyType, walletId));
      const v = version ?? wallet.current_version;
      if (v === null) throw new NotFoundError(`an active version of ${label(keyType, walletId)}`, 'activate a version first');
      throw new NotFoundError(label(keyType, walletId, v));
    });
  }

  private openRow(row: ShareRow): Buffer {
    if (row.sealed === null) {
      throw new VaultCorruptedError('record', label(decodeKeyType(row.key_type, row.wallet_id), row.wallet_id, row.version), `the ${STATUS_NAME[row.status] ?? 'unknown'} version has no sealed record`);
    }
    return this.openSealed(decodeKeyType(row.key_type, row.wallet_id), row.wallet_id, row.version, row.data_key_id, row.sealed);
  }

  /** Opens a sealed record under its own identity. @throws VaultCorruptedError('record'). */
  private openSealed(keyType: KeyType, walletId: string, version: number, dataKeyId: number, sealed: Uint8Array): Buffer {
    const dk = this.body.dataKeys.find((k) => k.id === dataKeyId);
    if (!dk) throw new VaultCorruptedError('record', label(keyType, walletId, version), `sealed under data key ${dataKeyId}, which the keyring does not hold`);
    const out = openRecord(dk.key, this.identity(keyType, walletId, version, dataKeyId), sealed);
    if (!out) throw new VaultCorruptedError('record', label(keyType, walletId, version), 'the record does not authenticate under its own identity');
    return out;
  }


  // ---------------------------------------------------------------- restore

  /**
   * Applies changes in order, in one transaction (all or none): the restore path of backups.
   * Wallet and share rows are written as given (upserts, with this vault's own sequence numbers and
   * data key); deletions remove rows and leave tombstones. A retired version is stored as metadata
   * only: a `share-retired` change, and also a `share` change with status retired (backups written
   * before schema 3 carry retired secrets), whose bytes are not stored; an existing record of that
   * version is destroyed. Intermediate states of a chain may break
   * pointer invariants; the caller runs `verify` once every change is applied.
   * @throws InvalidArgumentError for a malformed change (nothing is applied); VaultCorruptedError; IoError.
   */
  applyChanges(changes: readonly PlainChange[]): void {
    for (const c of changes) validatePlainChange(c);
    this.write(`apply ${changes.length} changes`, () => {
      for (const c of changes) this.applyInTx(c);
    });
  }

  private applyInTx(c: PlainChange): void {
    const now = Date.now();
    if (c.kind === 'wallet') {
      const w = c.wallet;
      this.stmt(
        'INSERT OR REPLACE INTO wallets (key_type, wallet_id, threshold, participants, current_version, public_key, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(KEY_TYPE_CODE[w.keyType], w.walletId, w.threshold, JSON.stringify(w.participants), w.currentVersion, Buffer.from(w.publicKey), w.createdAt, w.updatedAt, this.nextSeq());
    } else if (c.kind === 'share' || c.kind === 'share-retired') {
      const i = c.info;
      const kt = KEY_TYPE_CODE[i.keyType];
      const retired = i.status === 'retired';
      const existing = this.shareRow(kt, i.walletId, i.version);
      if (existing) {
        if (retired) this.destroySecretInTx(existing);
        else this.stmt('DELETE FROM records WHERE share_id = ?').run(existing.id);
        this.stmt('DELETE FROM shares WHERE id = ?').run(existing.id);
      }
      const { lastInsertRowid } = this.stmt(
        'INSERT INTO shares (key_type, wallet_id, version, status, threshold, participants, created_at, updated_at, seq, retired_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(kt, i.walletId, i.version, STATUS_CODE[i.status], i.threshold, JSON.stringify(i.participants), i.createdAt, i.updatedAt, this.nextSeq(), c.kind === 'share-retired' ? c.retiredBy : null);
      if (c.kind === 'share' && !retired) {
        const dk = this.primaryKey();
        const sealed = sealRecord(dk.key, this.identity(i.keyType, i.walletId, i.version, dk.id), c.share);
        this.stmt('INSERT INTO records (share_id, data_key_id, sealed) VALUES (?, ?, ?)').run(lastInsertRowid, dk.id, sealed);
      }
    } else if (c.kind === 'wallet-deleted') {
      this.deleteWalletInTx(KEY_TYPE_CODE[c.keyType], c.walletId, now);
    } else {
      const row = this.shareRow(KEY_TYPE_CODE[c.keyType], c.walletId, c.version);
      if (row) this.deleteShareInTx(row, now);
      else {
        this.stmt('INSERT INTO tombstones (seq, kind, key_type, wallet_id, version, deleted_at) VALUES (?, ?, ?, ?, ?, ?)').run(
          this.nextSeq(),
          TOMBSTONE_SHARE,
          KEY_TYPE_CODE[c.keyType],
          c.walletId,
          c.version,
          now,
        );
      }
    }
  }

  // ---------------------------------------------------------------- change stream

  /** The highest sequence number assigned so far. @throws VaultCorruptedError; IoError. */
  currentSeq(): number {
    this.assertOpen();
    return this.seq;
  }

  /**
   * Up to `limit` changes with sequence above `after`, in sequence order: current wallet rows,
   * current share rows (still sealed; a retired version as `share-retired`, metadata only) and
   * tombstones. A row changed twice appears once, at its
   * latest sequence. Read in pages; each page is one read transaction.
   * @throws InvalidArgumentError; VaultCorruptedError; IoError.
   */
  changesSince(after: number, limit = 1000): VaultChange[] {
    if (!Number.isSafeInteger(after) || after < 0) throw new InvalidArgumentError(`sequence must be a non-negative integer (got ${after})`);
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`limit must be a positive integer (got ${limit})`);
    return this.guard('read changes', () =>
      this.db.transaction(() => {
        // First find where this page ends from the sequence indexes alone (no row is read), then
        // read exactly the rows of the page: no sealed record is read only to be thrown away.
        const seqs: number[] = [];
        for (const t of ['wallets', 'shares', 'tombstones'] as const) {
          for (const r of this.stmt(`SELECT seq FROM ${t} WHERE seq > ? ORDER BY seq LIMIT ?`).all(after, limit) as { seq: number }[]) seqs.push(r.seq);
        }
        if (seqs.length === 0) return [];
        seqs.sort((a, b) => a - b);
        const last = seqs[Math.min(limit, seqs.length) - 1]!;
        const out: VaultChange[] = [];
        for (const r of this.stmt('SELECT * FROM wallets WHERE seq > ? AND seq <= ? ORDER BY seq').all(after, last) as WalletRow[]) {
          out.push({ kind: 'wallet', seq: r.seq, wallet: walletInfo(r) });
        }
        for (const r of this.stmt('SELECT * FROM shares_full WHERE seq > ? AND seq <= ? ORDER BY seq').all(after, last) as ShareRow[]) {
          // A retired version travels without its secret, whether or not its record is still here.
          if (r.status === STATUS_CODE.retired) out.push({ kind: 'share-retired', seq: r.seq, info: shareInfo(r), retiredBy: r.retired_by });
          else if (r.sealed === null) throw new VaultCorruptedError('record', `share row ${r.wallet_id} v${r.version}`, 'a pending or active version has no sealed record');
          else out.push({ kind: 'share', seq: r.seq, info: shareInfo(r), sealed: r.sealed });
        }
        for (const r of this.stmt('SELECT * FROM tombstones WHERE seq > ? AND seq <= ? ORDER BY seq').all(after, last) as TombstoneRow[]) {
          const keyType = decodeKeyType(r.key_type, `tombstone ${r.seq}`);
          if (r.kind === TOMBSTONE_WALLET) out.push({ kind: 'wallet-deleted', seq: r.seq, keyType, walletId: r.wallet_id, at: r.deleted_at });
          else if (r.kind === TOMBSTONE_SHARE && r.version !== null) {
            out.push({ kind: 'share-deleted', seq: r.seq, keyType, walletId: r.wallet_id, version: r.version, at: r.deleted_at });
          } else throw new VaultCorruptedError('database', `tombstone ${r.seq}`, 'unknown tombstone kind');
        }
        out.sort((a, b) => a.seq - b.seq);
        return out;
      })(),
    );
  }

  /** Every change above `after`, page by page. See `changesSince`. */
  *iterateChanges(after: number, pageSize = 1000): Generator<VaultChange> {
    let cursor = after;
    for (;;) {
      const page = this.changesSince(cursor, pageSize);
      if (page.length === 0) return;
      yield* page;
      cursor = page[page.length - 1]!.seq;
    }
  }

  /**
   * Opens the sealed record of a share change (for backups). The caller zeroes the result.
   * @throws VaultCorruptedError('record') if it does not open under its identity.
   */
  openChange(change: Extract<VaultChange, { kind: 'share' }>): Buffer {
    this.assertOpen();
    const { info } = change;
    return this.openSealed(info.keyType, info.walletId, info.version, info.dataKeyId, change.sealed);
  }


  /** The sequence number up to which backups are complete. @throws VaultCorruptedError; IoError. */
  get backupWatermark(): number {
    return this.guard('read backup watermark', () => (this.stmt("SELECT v FROM meta WHERE k = 'backup_watermark'").get() as { v: number }).v);
  }

  /**
   * Records that backups are complete up to `seq` (call only after the backup file is durable).
   * @throws InvalidArgumentError if `seq` is negative, above the current sequence or below the
   *   current watermark; VaultCorruptedError; IoError.
   */
  setBackupWatermark(seq: number): void {
    this.guard('write backup watermark', () =>
      this.db.transaction(() => {
        const cur = this.currentSeq();
        if (!Number.isSafeInteger(seq) || seq < 0 || seq > cur) throw new InvalidArgumentError(`backup watermark ${seq} is outside 0..${cur}`);
        this.stmt("UPDATE meta SET v = ? WHERE k = 'backup_watermark'").run(seq);
      })(),
    );
  }

  // ---------------------------------------------------------------- keys

  private rotationPending(): boolean {
    return this.body.pageKeys.length > 1 || this.body.dataKeys.length > 1;
  }

  /** Seals the keyring under the current KEK with the next generation and writes both copies. */
  private rewriteKeyring(body: KeyringBody): void {
    const header = { ...this.header, generation: this.header.generation + 1 };
    writeKeyring(this.dir, header, body, this.derived.kek);
    this.header = header;
    this.keyringIssues = [];
  }

  /** Serialises operations that rewrite the keyring. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Changes the password (or switches between password and raw key). Re-seals the keyring only:
   * constant time in the number of shares. Crash-safe: the old or the new secret opens the vault.
   * @throws InvalidArgumentError for a bad secret or parameters; InvalidStateError if closed; IoError.
   */
  rotatePassword(newSecret: VaultSecret, options: CreateOptions = {}): Promise<void> {
    assertSecret(newSecret);
    return this.exclusive(async () => {
      this.assertOpen();
      const { kdf, argon2 } = kdfFor(newSecret, options.argon2);
      const salt = secureRandomBytes(SALT_BYTES);
      const derived = await deriveKeys(newSecret, kdf, argon2, salt, this.header.vaultId);
      this.assertOpen();
      const header: KeyringHeader = { ...this.header, kdf, argon2, salt, generation: this.header.generation + 1, verifier: Uint8Array.from(derived.verifier) };
      try {
        writeKeyring(this.dir, header, this.body, derived.kek);
      } catch (e) {
        wipeDerived(derived);
        throw e;
      }
      wipeDerived(this.derived);
      this.derived = derived;
      this.header = header;
      this.keyringIssues = [];
    });
  }

  /**
   * Rotates every key: a new primary data key re-seals every share (in batches, other calls run
   * between them), the database pages are re-encrypted under a new page key, then the old keys are
   * dropped from the keyring. Crash-safe at every step; an interrupted rotation finishes on open.
   * @throws InvalidStateError if closed; VaultCorruptedError if a record fails to open; IoError.
   */
  rotateKey(options: { onProgress?: Progress; batchSize?: number } = {}): Promise<{ resealed: number }> {
    return this.exclusive(async () => {
      this.assertOpen();
      this.rotating = true;
      try {
        if (!this.rotationPending()) {
          const now = Date.now();
          const nextPage = Math.max(...this.body.pageKeys.map((k) => k.id)) + 1;
          const nextData = Math.max(...this.body.dataKeys.map((k) => k.id)) + 1;
          const staged: KeyringBody = {
            pageKeys: [...this.body.pageKeys, { id: nextPage, role: 'next', key: newKey() }],
            dataKeys: [
              ...this.body.dataKeys.map((k) => ({ ...k, status: 'decrypt-only' as const })),
              { id: nextData, status: 'primary', createdAt: now, key: newKey() },
            ],
          };
          this.rewriteKeyring(staged);
          this.body = staged;
        }
        const resealed = await this.resealAll(options.onProgress, options.batchSize ?? 256);
        this.assertOpen();
        this.finishRotation();
        return { resealed };
      } finally {
        this.rotating = false;
      }
    });
  }

  /** Re-seals up to `limit` shares not yet under the primary data key; returns how many. */
  private resealBatch(limit: number): number {
    const primary = this.primaryKey();
    return this.guard('reseal shares', () =>
      this.db.transaction(() => {
        // Rows that have a record (a retired version has none).
        const rows = this.stmt(`SELECT ${META_COLS}, sealed FROM shares_full WHERE id IN (SELECT share_id FROM records WHERE data_key_id != ? LIMIT ?)`).all(primary.id, limit) as ShareRow[];
        const update = this.stmt('UPDATE records SET sealed = ?, data_key_id = ? WHERE share_id = ?');
        for (const r of rows) {
          const plain = this.openRow(r);
          const keyType = decodeKeyType(r.key_type, `share row ${r.wallet_id}`);
          update.run(sealRecord(primary.key, this.identity(keyType, r.wallet_id, r.version, primary.id), plain), primary.id, r.id);
          plain.fill(0);
        }
        return rows.length;
      })(),
    );
  }

  private async resealAll(onProgress: Progress | undefined, batchSize: number): Promise<number> {
    const primary = this.primaryKey();
    const total = this.guard('count shares', () => (this.stmt('SELECT count(*) AS n FROM records WHERE data_key_id != ?').get(primary.id) as { n: number }).n);
    let done = 0;
    onProgress?.(0, total);
    for (;;) {
      this.assertOpen();
      const n = this.resealBatch(batchSize);
      if (n === 0) break;
      done += n;
      onProgress?.(Math.min(done, total), total);
      // Other calls on the vault run between batches: the rotation is online.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return done;
  }

  /**
   * Final steps of a key rotation (also run on open after a crash): re-seal whatever is left, move
   * the pages to the next page key unless they are there already, then drop the old keys from the
   * keyring. Each step is idempotent, so a crash anywhere repeats at most one of them.
   */
  private finishRotation(): void {
    while (this.resealBatch(256) > 0);
    const primary = this.primaryKey();
    const next = this.body.pageKeys.find((k) => k.role === 'next');
    const keep = next ?? this.body.pageKeys.find((k) => k.role === 'current')!;
    if (this.pageKeyInUse !== keep.id) {
      const path = join(this.dir, DB_FILE);
      this.guard('rekey pages', () => {
        try {
          rekeyByCopy(this.db, path, keep.key);
        } finally {
          if (!this.db.open) {
            // Whether or not the copy replaced the file, reopen with the key that opens it.
            const reopened = openWithPageKeys(path, this.body);
            this.db = reopened.db;
            this.statements.clear();
            this.pageKeyInUse = reopened.pageKeyId;
          }
        }
      });
      if (this.pageKeyInUse !== keep.id) throw new VaultCorruptedError('database', path, 'the re-encrypted copy did not replace the database');
    }
    const finalBody: KeyringBody = { pageKeys: [{ ...keep, role: 'current' }], dataKeys: [primary] };
    const dropped = [...this.body.pageKeys.filter((k) => k.key !== keep.key), ...this.body.dataKeys.filter((k) => k.key !== primary.key)];
    this.rewriteKeyring(finalBody);
    this.body = finalBody;
    for (const k of dropped) sodium.sodium_memzero(k.key);
  }

  // ---------------------------------------------------------------- status and verify

  /** A summary for `tessera vault status`. @throws VaultCorruptedError; IoError. */
  status(): VaultStatus {
    return this.guard('status', () => {
      const counts = this.stmt('SELECT status, count(*) AS n FROM shares GROUP BY status').all() as { status: number; n: number }[];
      const shares = { pending: 0, active: 0, retired: 0 };
      for (const c of counts) {
        const s = STATUS_NAME[c.status];
        if (s) shares[s] = c.n;
      }
      return {
        vaultId: this.id,
        dir: this.dir,
        kdf: this.header.kdf === KDF_ARGON2ID ? ('argon2id' as const) : ('raw-key' as const),
        argon2: this.header.kdf === KDF_ARGON2ID ? { ...this.header.argon2 } : null,
        keyringGeneration: this.header.generation,
        primaryDataKeyId: this.primaryKey().id,
        dataKeyIds: this.body.dataKeys.map((k) => k.id),
        pageKeyId: this.body.pageKeys.find((k) => k.role === 'current')!.id,
        rotationInProgress: this.rotating || this.rotationPending(),
        wallets: (this.stmt('SELECT count(*) AS n FROM wallets').get() as { n: number }).n,
        shares,
        seq: this.currentSeq(),
        backupWatermark: this.backupWatermark,
        keyringIssues: [...this.keyringIssues],
      };
    });
  }

  /**
   * A full integrity pass: SQLite's integrity check through the page cipher, every record opened
   * under its own identity, every pointer and status consistent. Reports every problem found and
   * never throws for damage (only for a closed vault or I/O failure).
   * @throws InvalidStateError if the vault is closed.
   */
  async verify(onProgress?: Progress): Promise<VerifyReport> {
    this.assertOpen();
    const problems: VerifyProblem[] = this.keyringIssues.map((i) => ({ part: 'keyring' as const, where: i.split(':')[0]!, what: i }));
    const add = (part: VerifyProblem['part'], where: string, what: string) => problems.push({ part, where, what });
    let wallets = 0;
    let records = 0;
    try {
      const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
      for (const r of rows) if (r.integrity_check !== 'ok') add('database', 'integrity_check', r.integrity_check);
    } catch (e) {
      add('database', 'integrity_check', (e as Error).message);
      return { ok: false, wallets, records, problems };
    }
    try {
      const meta = new Map((this.stmt('SELECT k, v FROM meta').all() as { k: string; v: unknown }[]).map((r) => [r.k, r.v]));
      const seq = this.seq;
      const maxSeq = (
        this.stmt('SELECT max(m) AS m FROM (SELECT max(seq) AS m FROM wallets UNION ALL SELECT max(seq) FROM shares UNION ALL SELECT max(seq) FROM tombstones)').get() as {
          m: number | null;
        }
      ).m;
      if (maxSeq !== null && maxSeq > seq) add('meta', 'seq', `change sequence ${seq} is below the highest used ${maxSeq}`);
      const bw = meta.get('backup_watermark');
      if (typeof bw !== 'number' || (typeof seq === 'number' && bw > seq)) add('meta', 'backup_watermark', 'backup watermark is above the change sequence');

      const walletRows = this.stmt('SELECT * FROM wallets ORDER BY key_type, wallet_id').all() as WalletRow[];
      const total = (this.stmt('SELECT count(*) AS n FROM shares').get() as { n: number }).n;
      onProgress?.(0, total);
      const known = new Set<string>();
      for (const w of walletRows) {
        wallets++;
        const where = `wallet ${KEY_TYPE_NAME[w.key_type] ?? w.key_type}/${w.wallet_id}`;
        known.add(`${w.key_type}\u0000${w.wallet_id}`);
        try {
          walletInfo(w);
        } catch (e) {
          add('database', where, (e as Error).message);
        }
        const actives = this.stmt('SELECT version FROM shares WHERE key_type = ? AND wallet_id = ? AND status = ?').all(w.key_type, w.wallet_id, STATUS_CODE.active) as {
          version: number;
        }[];
        if (w.current_version === null) {
          if (actives.length > 0) add('pointer', where, `no current version but version ${actives[0]!.version} is active`);
        } else if (actives.length !== 1 || actives[0]!.version !== w.current_version) {
          add('pointer', where, `current version ${w.current_version} but active versions are [${actives.map((a) => a.version).join(', ')}]`);
        }
      }
      let lastId = 0;
      for (;;) {
        const batch = this.stmt('SELECT * FROM shares_full WHERE id > ? ORDER BY id LIMIT 500').all(lastId) as ShareRow[];
        if (batch.length === 0) break;
        for (const r of batch) {
          lastId = r.id;
          records++;
          const where = `share ${KEY_TYPE_NAME[r.key_type] ?? r.key_type}/${r.wallet_id} v${r.version}`;
          if (!known.has(`${r.key_type}\u0000${r.wallet_id}`)) add('pointer', where, 'share without a wallet');
          try {
            shareInfo(r);
            if (r.status === STATUS_CODE.retired) {
              if (r.sealed !== null) add('record', where, 'a retired version still holds its sealed secret (it must be destroyed at retirement); open the vault with this build again, or restore from a backup');
            } else this.openRow(r).fill(0);
          } catch (e) {
            add(e instanceof VaultCorruptedError ? (e.part === 'record' ? 'record' : 'database') : 'database', where, (e as Error).message);
          }
        }
        onProgress?.(records, total);
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.assertOpen();
      }
    } catch (e) {
      if (e instanceof InvalidStateError || !(isCorruption(e) || e instanceof TesseraError)) throw e;
      add('database', 'scan', (e as Error).message);
    }
    return { ok: problems.length === 0, wallets, records, problems };
  }
}
