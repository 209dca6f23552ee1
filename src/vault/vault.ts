/**
 * The share vault: wallets and their versioned threshold shares in an encrypted SQLite database,
 * unlocked through a password- or key-sealed keyring. One process owns a vault at a time.
 *
 * Durability: every mutating call is one SQLite transaction committed with a full fsync before it
 * returns; a call that returned is never lost by a crash. The writes of a node's signing path
 * (signing-log claims, request bindings, share write-backs, audit entries) can instead be
 * `durability: 'deferred'`: committed at once, durable at the next `flush()`, which syncs the log
 * once for all of them off the event loop (the node holds its outbound messages until then).
 *
 * `Vault` is the facade: its doc comments are the API, and each method delegates to the module of
 * its concern (docs/vault.md, "Code layout"), all of which share one `VaultStore`.
 */
import type { AuditEntryInput, AuditHead, AuditRecord, AuditVerifyReport } from './audit-log.js';
import * as audit from './audit-log.js';
import * as changeStream from './changes.js';
import type { Db } from './database.js';
import { createStore, openStore } from './lifecycle.js';
import * as reads from './reads.js';
import type { SignedRequest } from './request-log.js';
import * as requestLog from './request-log.js';
import * as rotation from './rotation.js';
import type { VaultSecret } from './secret.js';
import * as shares from './shares.js';
import * as signingLog from './signing-log.js';
import type { VaultStore } from './store.js';
import type {
  ChangeFeed,
  CreateOptions,
  Durability,
  KeyType,
  OpenedShare,
  PlainChange,
  Progress,
  PutShareInput,
  ShareVersionInfo,
  VaultChange,
  WalletInfo,
} from './types.js';
import type { VaultStatus, VerifyReport } from './verify.js';
import * as checks from './verify.js';

export type { AuditEntryInput, AuditHead, AuditProblem, AuditRecord, AuditVerifyReport } from './audit-log.js';
export { AUDIT_LIMITS } from './audit-log.js';
export { DB_FILE } from './database.js';
export type { CreateOptions, Progress } from './types.js';
export type { VaultStatus, VerifyProblem, VerifyReport } from './verify.js';

/** An open vault. Create with `Vault.create` or `Vault.open`; always `close()` it. */
export class Vault implements ChangeFeed {
  readonly dir: string;

  private constructor(private readonly store: VaultStore) {
    this.dir = store.dir;
  }

  /**
   * Creates a new, empty vault in `dir` (created 0700 if needed; must not hold a vault).
   * @throws AlreadyExistsError if `dir` already holds vault files; InvalidArgumentError for a bad
   *   secret or Argon2 parameters; VaultLockedError; IoError.
   */
  static async create(dir: string, secret: VaultSecret, options: CreateOptions = {}): Promise<Vault> {
    return new Vault(await createStore(dir, secret, options));
  }

  /**
   * Opens the vault in `dir`. Repairs a damaged or stale keyring copy and finishes a key rotation
   * that a crash interrupted.
   * @throws NotFoundError if there is no vault; WrongPasswordError; VaultCorruptedError naming the
   *   part; VaultLockedError; IoError.
   */
  static async open(dir: string, secret: VaultSecret): Promise<Vault> {
    return new Vault(await openStore(dir, secret));
  }

  /** The vault's random id (hex); not secret. */
  get id(): string {
    return this.store.id;
  }

  /**
   * Checkpoints the log into the database, closes it, releases the lock and zeroes every key.
   * Idempotent. A key rotation in progress stops at its last finished batch and resumes on open.
   */
  close(): void {
    this.store.close();
  }

  /**
   * The open database connection. Not used here (the facade runs no SQL); kept for the tests that
   * read the connection's pragmas (`(v as any).db`, test/vault/retired-secrets.test.ts).
   */
  private get db(): Db {
    return this.store.db;
  }

  // ---------------------------------------------------------------- wallets and shares (shares.ts)
  /**
   * Stores a share version. If the wallet is new it is created; its public key must match every
   * other version's. The version is pending unless `activate` is set (keygen), in which case it is
   * activated in the same transaction.
   * @throws InvalidArgumentError for malformed input or a public key that differs from the
   *   wallet's; AlreadyExistsError if the version exists; VaultCorruptedError; IoError.
   */
  putShare(input: PutShareInput): ShareVersionInfo {
    return shares.putShare(this.store, input);
  }

  /**
   * Stores many share versions in one transaction (one fsync): all or none. Same rules as
   * `putShare` for each; used by imports and restores.
   * @throws as `putShare`, for the first bad input; nothing is stored then.
   */
  putShares(inputs: readonly PutShareInput[]): ShareVersionInfo[] {
    return shares.putShares(this.store, inputs);
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
   * With `durability: 'deferred'` the commit is durable only after the next `flush()` (see `Durability`).
   * @throws InvalidArgumentError for malformed input; NotFoundError if the version does not exist;
   *   InvalidStateError if it is retired or (with `expectSeq`) was written since; VaultCorruptedError;
   *   IoError; InvalidStateError if closed.
   */
  updateShare(
    keyType: KeyType,
    walletId: string,
    version: number,
    share: Uint8Array,
    options: { expectSeq?: number; durability?: Durability } = {},
  ): ShareVersionInfo {
    return shares.updateShare(this.store, keyType, walletId, version, share, options);
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
    return shares.activate(this.store, keyType, walletId, version);
  }

  /**
   * Retires the active version without a successor (this node left the committee) and destroys
   * its secret, as `activate` does for the version it replaces. The wallet keeps its history
   * (public metadata) but has no active version.
   * @throws NotFoundError if the wallet or an active version does not exist; VaultCorruptedError; IoError.
   */
  retireActive(keyType: KeyType, walletId: string): WalletInfo {
    return shares.retireActive(this.store, keyType, walletId);
  }

  /**
   * Removes a pending version that will never be activated (a failed reshare). Leaves a tombstone.
   * @throws NotFoundError; InvalidStateError if the version is not pending; VaultCorruptedError; IoError.
   */
  discardPending(keyType: KeyType, walletId: string, version: number): void {
    shares.discardPending(this.store, keyType, walletId, version);
  }

  /**
   * Deletes a wallet and every version of its share, leaving a tombstone for backups.
   * @throws NotFoundError; VaultCorruptedError; IoError.
   */
  deleteWallet(keyType: KeyType, walletId: string): void {
    shares.deleteWallet(this.store, keyType, walletId);
  }

  /**
   * Deletes the metadata of retired versions beyond the newest `keep` retired ones, for one wallet
   * or for all, leaving tombstones (their secrets were destroyed when they were retired). Active
   * and pending versions are never pruned. Returns the number of versions removed.
   * @throws InvalidArgumentError for a negative `keep`; NotFoundError for an unknown wallet;
   *   VaultCorruptedError; IoError.
   */
  prune(keep: number, wallet?: { keyType: KeyType; walletId: string }): number {
    return shares.prune(this.store, keep, wallet);
  }

  // ---------------------------------------------------------------- signing and setup logs (signing-log.ts)

  /**
   * Records, durably, that this node has started a signing session with `context` (the signing
   * party's 32-byte context digest, or the marker of one of its steps) under the share (keyType,
   * walletId, version). Returns true if it was recorded now, false if it had been recorded before —
   * the caller must then refuse to sign [2/F2]. One fsynced commit (with `durability: 'deferred'`:
   * durable at the next `flush()`, see `Durability`); entries live as long as the
   * share version and are deleted with it (or with its secret, when it is retired). This is the
   * durable `SigningLog` the signing parties take:
   * `{ claim: (c) => vault.claimSigningContext(keyType, walletId, version, c) }`.
   * @throws InvalidArgumentError for a context that is not 32 bytes or a bad id; NotFoundError if
   *   the share version does not exist; ShareDestroyedError if it is retired (nothing can sign with
   *   it); VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  claimSigningContext(
    keyType: KeyType,
    walletId: string,
    version: number,
    context: Uint8Array,
    options: { durability?: Durability } = {},
  ): boolean {
    return signingLog.claimSigningContext(this.store, keyType, walletId, version, context, options.durability);
  }

  /**
   * Number of signing contexts recorded for a share version (0 if it has none).
   * @throws InvalidArgumentError; VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  signingLogSize(keyType: KeyType, walletId: string, version: number): number {
    return signingLog.signingLogSize(this.store, keyType, walletId, version);
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
    return signingLog.claimSetupContext(this.store, context);
  }

  /**
   * Number of setup contexts and step markers recorded (see `claimSetupContext`).
   * @throws VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  setupLogSize(): number {
    return signingLog.setupLogSize(this.store);
  }

  // ---------------------------------------------------------------- restore mark (changes.ts)

  /**
   * True once shares were applied from a backup (`applyChanges`, i.e. a restore) until
   * `clearRestoredMark`: every ECDSA share must have its OT pairs set up again before it signs
   * (docs/ecdsa.md rule 8; the node does it at start).
   * @throws VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  get restoredNeedsResetup(): boolean {
    return changeStream.restoredNeedsResetup(this.store);
  }

  /**
   * Sets the mark `restoredNeedsResetup` reads, by hand: every ECDSA share's pairs must be set up
   * again before it signs (a node stopping with a burn it could not write, an operator after
   * copying vault files or a disk snapshot back). One fsynced commit.
   * @throws VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  markNeedsResetup(): void {
    changeStream.setRestoredMark(this.store);
  }

  /**
   * Clears the restore mark (after every restored ECDSA share was marked for re-setup and written).
   * @throws VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  clearRestoredMark(): void {
    changeStream.clearRestoredMark(this.store);
  }

  // ---------------------------------------------------------------- request log (request-log.ts)

  /**
   * What this node recorded of a completed signing request (wallet, tx id): its digest (kept for
   * good) and its result event (until purged), or undefined.
   * @throws InvalidArgumentError for a bad id; VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  signedRequest(walletId: string, txId: string): SignedRequest | undefined {
    return requestLog.signedRequest(this.store, walletId, txId);
  }

  /**
   * Binds (wallet, tx id) to a request digest before anything is signed for it — for good: the
   * same tx id never signs other content. Returns 'bound', 'same' (bound to this digest before) or
   * 'conflict'. One fsynced commit when it binds (with `durability: 'deferred'`: durable at the
   * next `flush()`, see `Durability`).
   * @throws InvalidArgumentError for bad input; VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  bindSignRequest(
    walletId: string,
    txId: string,
    digest: Uint8Array,
    now = Date.now(),
    options: { durability?: Durability } = {},
  ): 'bound' | 'same' | 'conflict' {
    return requestLog.bindSignRequest(this.store, walletId, txId, digest, now, options.durability);
  }

  /**
   * Records a completed signing request: its 32-byte digest and its result event. One commit, not
   * fsynced on its own (durable with the next fsynced one; the digest should be bound before).
   * Returns false (nothing changed) if the (wallet, tx id) is recorded with another digest.
   * @throws InvalidArgumentError for bad input; VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  recordSignedRequest(
    walletId: string,
    txId: string,
    digest: Uint8Array,
    result: Uint8Array,
    now = Date.now(),
  ): boolean {
    return requestLog.recordSignedRequest(this.store, walletId, txId, digest, result, now);
  }

  /**
   * Forgets the result events of requests completed before `completedBefore` (ms); their digests
   * stay. Returns how many were purged.
   * @throws VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  purgeRequestResults(completedBefore: number): number {
    return requestLog.purgeRequestResults(this.store, completedBefore);
  }

  // ---------------------------------------------------------------- audit log (audit-log.ts)

  /**
   * Appends an entry to the node's audit log — who asked for what, when, and how it ended; never a
   * secret — and returns it with its seq (1, 2, …) and chain hash. One immediate, fsynced commit
   * (with `durability: 'deferred'`: durable at the next `flush()`, see `Durability`): the row and the
   * sealed head (seq, hash) move together. Entries are never deleted by the vault
   * and are not part of the change stream (backups do not carry them). Before appending, the last
   * stored entry must be the sealed head: a damaged log is never sealed over.
   * @throws InvalidArgumentError for an entry that is not valid (unknown field, a string that is
   *   empty, too long or holds control characters, a token outside A-Z a-z 0-9 . _ : -, more than
   *   32 details, a detail that is not a string, safe integer or boolean, more than 8 KiB encoded;
   *   `AUDIT_LIMITS`); VaultCorruptedError('audit') if the log's head is missing, does not
   *   authenticate or is not the last entry; VaultCorruptedError; IoError; VaultLockedError;
   *   InvalidStateError if closed.
   */
  appendAudit(entry: AuditEntryInput, options: { durability?: Durability } = {}): AuditRecord {
    return audit.appendAudit(this.store, entry, options.durability);
  }

  /**
   * Makes every commit made so far durable, deferred ones included: one fdatasync of the
   * write-ahead log on libuv's thread pool (the event loop goes on meanwhile). Resolves at once when
   * no commit waits. Commits made while it runs wait for the next call.
   * @throws IoError if the log cannot be synced (those commits may be lost: nothing that depends on
   *   them may leave the process); InvalidStateError if closed.
   */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Counts of the commits made without their own fsync (`written`) and of those made durable since (`durable`). */
  get unflushed(): { readonly written: number; readonly durable: number } {
    return this.store.unflushed;
  }

  /**
   * Up to `limit` (default 1000, at most 10 000) audit entries with seq above `after` (default 0),
   * in seq order, as stored: this reads, it does not verify the chain (`verifyAudit` does).
   * @throws InvalidArgumentError for a negative `after` or a `limit` outside 1..10 000;
   *   VaultCorruptedError('audit') for a stored entry that does not decode; VaultCorruptedError;
   *   IoError; InvalidStateError if closed.
   */
  auditEntries(options: { after?: number; limit?: number } = {}): AuditRecord[] {
    return audit.auditEntries(this.store, options);
  }

  /**
   * The authenticated head of the audit log: the seq and hash of the last entry appended (0 and 64
   * zeros while the log is empty), read from the sealed head.
   * @throws VaultCorruptedError('audit') if the sealed head is missing or does not authenticate;
   *   VaultCorruptedError; IoError; InvalidStateError if closed.
   */
  auditHead(): AuditHead {
    return audit.auditHead(this.store);
  }

  /**
   * Recomputes the audit log's hash chain from the first entry and checks that it ends at the
   * sealed head. Reports the first problem in chain order — an entry edited, removed, reordered,
   * copied from another vault or added behind the vault's back, a cut-off tail, a recomputed chain,
   * a missing or forged head — and never throws for damage. One read transaction; time linear in
   * the number of entries, memory bounded (pages of 1000).
   * @throws VaultCorruptedError (the database itself); IoError; InvalidStateError if closed.
   */
  verifyAudit(): AuditVerifyReport {
    return audit.verifyAudit(this.store);
  }

  // ---------------------------------------------------------------- reads (reads.ts)

  /**
   * One wallet.
   * @throws NotFoundError; VaultCorruptedError; IoError.
   */
  getWallet(keyType: KeyType, walletId: string): WalletInfo {
    return reads.getWallet(this.store, keyType, walletId);
  }

  /**
   * Every wallet, ordered by key type and id.
   * @throws VaultCorruptedError; IoError.
   */
  listWallets(): WalletInfo[] {
    return reads.listWallets(this.store);
  }

  /**
   * The versions of one wallet's share, oldest first.
   * @throws NotFoundError; VaultCorruptedError; IoError.
   */
  listVersions(keyType: KeyType, walletId: string): ShareVersionInfo[] {
    return reads.listVersions(this.store, keyType, walletId);
  }

  /**
   * Reads and opens a share: the active version, or the named one. The caller zeroes `share`.
   * A retired version has no secret any more (`listVersions` still shows its metadata).
   * @throws NotFoundError (no such wallet, version, or no active version); ShareDestroyedError if
   *   the named version is retired (its secret was destroyed); VaultCorruptedError ('record' if the
   *   record is missing or fails to open under its own identity); IoError.
   */
  getShare(keyType: KeyType, walletId: string, version?: number): OpenedShare {
    return reads.getShare(this.store, keyType, walletId, version);
  }

  // ---------------------------------------------------------------- restore and change stream (changes.ts)

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
    changeStream.applyChanges(this.store, changes);
  }

  /** The highest sequence number assigned so far. @throws VaultCorruptedError; IoError. */
  currentSeq(): number {
    return changeStream.currentSeq(this.store);
  }

  /**
   * Up to `limit` changes with sequence above `after`, in sequence order: current wallet rows,
   * current share rows (still sealed; a retired version as `share-retired`, metadata only) and
   * tombstones. A row changed twice appears once, at its
   * latest sequence. Read in pages; each page is one read transaction.
   * @throws InvalidArgumentError; VaultCorruptedError; IoError.
   */
  changesSince(after: number, limit = 1000): VaultChange[] {
    return changeStream.changesSince(this.store, after, limit);
  }

  /** Every change above `after`, page by page. See `changesSince`. */
  iterateChanges(after: number, pageSize = 1000): Generator<VaultChange> {
    return changeStream.iterateChanges(this.store, after, pageSize);
  }

  /**
   * Opens the sealed record of a share change (for backups). The caller zeroes the result.
   * @throws VaultCorruptedError('record') if it does not open under its identity.
   */
  openChange(change: Extract<VaultChange, { kind: 'share' }>): Buffer {
    return changeStream.openChange(this.store, change);
  }

  /** The sequence number up to which backups are complete. @throws VaultCorruptedError; IoError. */
  get backupWatermark(): number {
    return changeStream.backupWatermark(this.store);
  }

  /**
   * Records that backups are complete up to `seq` (call only after the backup file is durable).
   * @throws InvalidArgumentError if `seq` is negative, above the current sequence or below the
   *   current watermark; VaultCorruptedError; IoError.
   */
  setBackupWatermark(seq: number): void {
    changeStream.setBackupWatermark(this.store, seq);
  }

  // ---------------------------------------------------------------- keys (rotation.ts)

  /**
   * Changes the password (or switches between password and raw key). Re-seals the keyring only:
   * constant time in the number of shares. Crash-safe: the old or the new secret opens the vault.
   * @throws InvalidArgumentError for a bad secret or parameters; InvalidStateError if closed; IoError.
   */
  rotatePassword(newSecret: VaultSecret, options: CreateOptions = {}): Promise<void> {
    return rotation.rotatePassword(this.store, newSecret, options);
  }

  /**
   * Rotates every key: a new primary data key re-seals every share (in batches, other calls run
   * between them), the database pages are re-encrypted under a new page key, then the old keys are
   * dropped from the keyring. Crash-safe at every step; an interrupted rotation finishes on open.
   * @throws InvalidStateError if closed; VaultCorruptedError if a record fails to open; IoError.
   */
  rotateKey(options: { onProgress?: Progress; batchSize?: number } = {}): Promise<{ resealed: number }> {
    return rotation.rotateKey(this.store, options);
  }

  // ---------------------------------------------------------------- status and verify (verify.ts)

  /** A summary for `tessera vault status`. @throws VaultCorruptedError; IoError. */
  status(): VaultStatus {
    return checks.status(this.store);
  }

  /**
   * A full integrity pass: SQLite's integrity check through the page cipher, every record opened
   * under its own identity, every pointer and status consistent, the audit log's chain (its first
   * problem, as `verifyAudit`). Reports every problem found and never throws for damage (only for a
   * closed vault or I/O failure).
   * @throws InvalidStateError if the vault is closed.
   */
  verify(onProgress?: Progress): Promise<VerifyReport> {
    return checks.verify(this.store, onProgress);
  }
}
