/**
 * The state of one open vault, shared by the modules of each concern: the database connection and
 * its statement cache, the unlocked keyring (header, keys, derived KEK), the lock, the change
 * sequence, and the helpers every operation runs through (`guard`, `transaction`, `write`), plus
 * the row lookups and record opening that several concerns need.
 */
import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidStateError, IoError, VaultCorruptedError } from '../common/errors.js';
import { DB_FILE, type Db, type Statement, translateDbError } from './database.js';
import { type DerivedKeys, wipeDerived } from './kdf.js';
import { type DataKey, type KeyringBody, type KeyringHeader, wipeBody } from './keyring-format.js';
import { writeKeyring } from './keyring-store.js';
import type { VaultLock } from './lock.js';
import { openRecord, type RecordIdentity } from './record-seal.js';
import {
  decodeKeyType,
  label,
  META_COLS,
  type ShareMetaRow,
  type ShareRow,
  STATUS_NAME,
  type WalletRow,
} from './rows.js';
import type { Durability, KeyType } from './types.js';

export class VaultStore {
  private closed = false;
  private busy: Promise<unknown> = Promise.resolve();
  /** True while `rotateKey` runs (reported by `status`). */
  rotating = false;

  constructor(
    readonly dir: string,
    private connection: Db,
    private readonly lock: VaultLock,
    public header: KeyringHeader,
    public body: KeyringBody,
    public derived: DerivedKeys,
    public keyringIssues: string[],
    /** Id of the page key the open database is encrypted with. */
    private pageKeyId: number,
  ) {
    this.loadSeq();
  }

  /** The open connection. */
  get db(): Db {
    return this.connection;
  }

  /** Id of the page key the open database is encrypted with. */
  get pageKeyInUse(): number {
    return this.pageKeyId;
  }

  /** Switches to a connection opened under another page key (after a rekey); drops cached statements. */
  reconnect(db: Db, pageKeyId: number): void {
    this.connection = db;
    this.statements.clear();
    this.pageKeyId = pageKeyId;
  }

  /** The vault's random id (hex); not secret. */
  get id(): string {
    return Buffer.from(this.header.vaultId).toString('hex');
  }

  /**
   * Checkpoints the log into the database, closes it, releases the lock and zeroes every key.
   * Idempotent.
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
    // waits for a sync in flight on it (FileHandle.close does)
    void this.log?.handle.close().catch(() => {});
    this.log = undefined;
    this.lock.release();
    wipeBody(this.body);
    wipeDerived(this.derived);
  }

  assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the vault is closed; open it again');
  }

  /** Runs `fn` with database errors translated; `where` names the operation for reports. */
  guard<T>(where: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (e) {
      throw translateDbError(e, this.dir, where);
    }
  }

  /** Runs `fn` in one (deferred) transaction with errors translated. */
  transaction<T>(where: string, fn: () => T): T {
    return this.guard(where, () => this.db.transaction(fn)());
  }

  /**
   * Set when a transaction deleted a sealed record (a retired version's secret, a discarded,
   * pruned or deleted version): after its commit, `write` checkpoints the log and truncates it, so
   * the record's bytes do not outlive the commit in old log frames (`secure_delete` zeroes them in
   * the database pages themselves).
   */
  private scrubPending = false;

  /** Called inside a `write` transaction that deleted a sealed record: see `scrubPending`. */
  scrubAfterCommit(): void {
    this.scrubPending = true;
  }

  /**
   * Runs `fn` in one write transaction (immediate: takes the write lock at once) with errors
   * translated; after a commit that deleted a sealed record, checkpoints and truncates the log.
   */
  write<T>(where: string, fn: () => T): T {
    return this.guard(where, () => {
      this.scrubPending = false;
      let out: T;
      try {
        out = this.db.transaction(fn).immediate();
      } catch (e) {
        this.scrubPending = false;
        throw e;
      }
      if (this.scrubPending || this.logHoldsDestroyed) {
        this.scrubPending = false;
        this.truncateLog();
      }
      return out;
    });
  }

  /**
   * Like `write`, but the commit is not fsynced on its own (WAL with `synchronous = NORMAL` for this
   * one commit): it becomes durable with the next fsynced commit, checkpoint or `flush()`, in order,
   * and a power loss before that loses it (never a later commit, never consistency). Only for
   * records whose loss is harmless (a result kept for convenience), never for shares, logs or claims.
   */
  writeLazy<T>(where: string, fn: () => T): T {
    return this.writeUnsynced(where, fn);
  }

  /**
   * A `write` (or `updateShare`'s transaction, `immediate` false) whose commit is durable only after
   * the next `flush()` (or fsynced commit, or checkpoint): see `Durability` 'deferred'. For the
   * writes a node must make durable before its next message leaves — signing-log claims, request
   * bindings, share write-backs, audit entries — so that one fsync, off the event loop, covers many.
   */
  writeDeferred<T>(where: string, fn: () => T, immediate = true): T {
    return this.writeUnsynced(where, fn, immediate);
  }

  /** `write`, or `writeDeferred` for 'deferred'. */
  writeWith<T>(durability: Durability, where: string, fn: () => T): T {
    return durability === 'deferred' ? this.writeDeferred(where, fn) : this.write(where, fn);
  }

  /** Commits written without their own fsync so far, and how many of them `flush()` made durable. */
  private readonly unsynced = { written: 0, durable: 0 };
  /** The inode of the log whose directory entry was last fsynced (a new log file needs it once). */
  private logDirSynced = -1;

  private writeUnsynced<T>(where: string, fn: () => T, immediate = true): T {
    return this.guard(where, () => {
      this.scrubPending = false;
      // prepared once (a `db.pragma()` call prepares its statement every time)
      this.stmt('PRAGMA synchronous = NORMAL').run();
      let out: T;
      try {
        out = immediate ? this.db.transaction(fn).immediate() : this.db.transaction(fn)();
      } catch (e) {
        this.scrubPending = false;
        throw e;
      } finally {
        this.unsynced.written++;
        try {
          this.stmt('PRAGMA synchronous = FULL').run();
        } catch (e) {
          // later "synced" writes would be neither fsynced nor counted: stop every flush (gc review F4)
          this.syncFailed = new IoError('restoring synchronous commits', e);
        }
      }
      if (this.scrubPending || this.logHoldsDestroyed) {
        this.scrubPending = false;
        this.truncateLog();
      }
      return out;
    });
  }

  /** Whether commits written without their own fsync may not be durable yet, and their counts. */
  get unflushed(): { readonly written: number; readonly durable: number } {
    return { written: this.unsynced.written, durable: this.unsynced.durable };
  }

  /** The running log sync, which concurrent `flush()` calls share. */
  private syncing: Promise<void> | undefined;
  /** Set for good by a failed log sync: after a failed fsync nobody can tell which commits are on disk. */
  private syncFailed: IoError | undefined;

  /**
   * Makes every commit made so far durable: one fdatasync of the write-ahead log (and, the first
   * time for a log file, of its directory), run on libuv's thread pool so that the event loop goes
   * on meanwhile. Resolves at once when nothing waits; concurrent calls share one sync, and commits
   * made while it runs wait for the next. SQLite writes every frame of a commit into the log (with
   * `pwrite`) before the commit returns and never overwrites a frame a reader could still need (a
   * checkpoint fsyncs the log and the database first), so after the fdatasync each commit counted
   * before it survives a power loss — what `synchronous = FULL` gives each commit on its own.
   * @throws IoError if the log cannot be synced, then and at every later call (the commits may not
   *   be durable: whatever depends on them must never leave); InvalidStateError if closed.
   */
  async flush(): Promise<void> {
    // the goal is fixed at the call: commits made meanwhile wait for the next call, so a steady
    // stream of writes cannot keep this one from returning (gc review F1)
    const goal = this.unsynced.written;
    for (;;) {
      this.assertOpen();
      if (this.syncFailed) throw this.syncFailed;
      if (this.unsynced.durable >= goal) return;
      const target = this.unsynced.written;
      if (this.syncing) {
        await this.syncing.catch(() => {});
        continue;
      }
      this.syncing = this.syncLog(target).finally(() => {
        this.syncing = undefined;
      });
      await this.syncing;
    }
  }

  /** The log file kept open for `flush()`, with its inode (SQLite replaces the file only at close and rekey). */
  private log: { handle: FileHandle; ino: number } | undefined;

  private async syncLog(target: number): Promise<void> {
    const path = `${join(this.dir, DB_FILE)}-wal`;
    try {
      // the file at the path now: a handle on a replaced log would sync the wrong file
      const ino = statSync(path).ino;
      if (this.log?.ino !== ino) {
        const old = this.log;
        this.log = undefined;
        await old?.handle.close();
        const handle = await open(path, 'r');
        if (this.closed) await handle.close(); // closed meanwhile: nothing to keep it for
        this.assertOpen();
        this.log = { handle, ino: (await handle.stat()).ino };
      }
      const log = this.log; // close() may drop it while the sync runs (and waits for the sync)
      await log.handle.datasync();
      if (log.ino !== this.logDirSynced) {
        const d = await open(this.dir, 'r');
        try {
          await d.sync();
        } finally {
          await d.close();
        }
        this.logDirSynced = log.ino;
      }
    } catch (e) {
      this.assertOpen(); // closed meanwhile: close() checkpointed every commit into the database
      this.syncFailed ??= new IoError(`syncing the vault's write-ahead log ${path}`, e);
      throw this.syncFailed;
    }
    if (target > this.unsynced.durable) this.unsynced.durable = target;
  }

  /**
   * True while the log may still hold frames with a destroyed record: a truncating checkpoint after
   * a destroying commit could not complete (SQLite reports a busy checkpoint instead of throwing
   * when another connection reads the file). Every later write, `close` and `open` retries.
   */
  private logHoldsDestroyed = false;

  /** Whether the log may still hold a destroyed record (see `logHoldsDestroyed`). */
  get logScrubPending(): boolean {
    return this.logHoldsDestroyed;
  }

  /**
   * Copies every log frame into the database and truncates the log to zero bytes. The data is
   * already committed; if SQLite cannot checkpoint now (busy, or an error), `logHoldsDestroyed`
   * stays set and the next write, `close` or `open` retries.
   */
  private truncateLog(): void {
    let done = false;
    try {
      const r = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      done = r[0]?.busy === 0;
    } catch {
      // committed data is safe in the log; see the doc comment
    }
    this.logHoldsDestroyed = !done;
  }

  private statements = new Map<string, Statement>();

  /** A prepared statement, cached per database connection (preparing costs more than running). */
  stmt(sql: string): Statement {
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
  private lastSeq = 0;

  private loadSeq(): void {
    const row = this.stmt(
      'SELECT max(coalesce((SELECT max(seq) FROM wallets), 0), coalesce((SELECT max(seq) FROM shares), 0), ' +
        'coalesce((SELECT max(seq) FROM tombstones), 0)) AS m',
    ).get() as { m: number };
    this.lastSeq = row.m;
  }

  /** The highest sequence number assigned so far. */
  get seq(): number {
    return this.lastSeq;
  }

  nextSeq(): number {
    this.lastSeq += 1;
    return this.lastSeq;
  }

  // ---------------------------------------------------------------- keyring state

  primaryKey(): DataKey {
    return this.body.dataKeys.find((k) => k.status === 'primary')!;
  }

  identity(keyType: KeyType, walletId: string, version: number, dataKeyId: number): RecordIdentity {
    return { vaultId: this.header.vaultId, kind: 'share', keyType, walletId, version, dataKeyId };
  }

  /** True while the keyring holds keys of an unfinished rotation. */
  rotationPending(): boolean {
    return this.body.pageKeys.length > 1 || this.body.dataKeys.length > 1;
  }

  /** Seals the keyring under the current KEK with the next generation and writes both copies. */
  rewriteKeyring(body: KeyringBody): void {
    const header = { ...this.header, generation: this.header.generation + 1 };
    writeKeyring(this.dir, header, body, this.derived.kek);
    this.header = header;
    this.keyringIssues = [];
  }

  /** Serialises operations that rewrite the keyring. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- rows and records

  walletRow(kt: number, walletId: string): WalletRow | undefined {
    return this.stmt('SELECT * FROM wallets WHERE key_type = ? AND wallet_id = ?').get(kt, walletId) as
      | WalletRow
      | undefined;
  }

  shareRow(kt: number, walletId: string, version: number): ShareMetaRow | undefined {
    return this.stmt(`SELECT ${META_COLS} FROM shares_full WHERE key_type = ? AND wallet_id = ? AND version = ?`).get(
      kt,
      walletId,
      version,
    ) as ShareMetaRow | undefined;
  }

  /** Opens a row's sealed record. @throws VaultCorruptedError('record') if it has none or it does not open. */
  openRow(row: ShareRow): Buffer {
    if (row.sealed === null) {
      throw new VaultCorruptedError(
        'record',
        label(decodeKeyType(row.key_type, row.wallet_id), row.wallet_id, row.version),
        `the ${STATUS_NAME[row.status] ?? 'unknown'} version has no sealed record`,
      );
    }
    return this.openSealed(
      decodeKeyType(row.key_type, row.wallet_id),
      row.wallet_id,
      row.version,
      row.data_key_id,
      row.sealed,
    );
  }

  /** Opens a sealed record under its own identity. @throws VaultCorruptedError('record'). */
  openSealed(keyType: KeyType, walletId: string, version: number, dataKeyId: number, sealed: Uint8Array): Buffer {
    const dk = this.body.dataKeys.find((k) => k.id === dataKeyId);
    if (!dk)
      throw new VaultCorruptedError(
        'record',
        label(keyType, walletId, version),
        `sealed under data key ${dataKeyId}, which the keyring does not hold`,
      );
    const out = openRecord(dk.key, this.identity(keyType, walletId, version, dataKeyId), sealed);
    if (!out)
      throw new VaultCorruptedError(
        'record',
        label(keyType, walletId, version),
        'the record does not authenticate under its own identity',
      );
    return out;
  }
}
