/**
 * The life cycle of wallets and share versions: put (pending, or active at once), update in place,
 * activate, retire, discard, delete, prune. Retiring a version destroys its secret in the same
 * transaction (docs/vault.md, "Retired versions"). Every write is one fsynced transaction.
 */
import {
  AlreadyExistsError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  VaultCorruptedError,
} from '../common/errors.js';
import { sealRecord } from './record-seal.js';
import {
  KEY_TYPE_CODE,
  KEY_TYPE_NAME,
  label,
  META_COLS,
  type ShareMetaRow,
  STATUS_CODE,
  STATUS_NAME,
  shareInfo,
  TOMBSTONE_SHARE,
  TOMBSTONE_WALLET,
  walletInfo,
} from './rows.js';
import type { VaultStore } from './store.js';
import type { Durability, KeyType, PutShareInput, ShareStatus, ShareVersionInfo, WalletInfo } from './types.js';
import {
  validateKeyType,
  validatePutShare,
  validateShareBytes,
  validateVersion,
  validateWalletId,
} from './validate.js';

export function putShare(store: VaultStore, input: PutShareInput): ShareVersionInfo {
  validatePutShare(input);
  const where = label(input.keyType, input.walletId, input.version);
  return store.write(`put ${where}`, () => putInTx(store, input, where));
}

export function putShares(store: VaultStore, inputs: readonly PutShareInput[]): ShareVersionInfo[] {
  for (const input of inputs) validatePutShare(input);
  return store.write(`put ${inputs.length} shares`, () =>
    inputs.map((input) => putInTx(store, input, label(input.keyType, input.walletId, input.version))),
  );
}

function putInTx(store: VaultStore, input: PutShareInput, where: string): ShareVersionInfo {
  const kt = KEY_TYPE_CODE[input.keyType];
  const wallet = store.walletRow(kt, input.walletId);
  const now = Date.now();
  if (wallet && !Buffer.from(wallet.public_key).equals(Buffer.from(input.publicKey))) {
    throw new InvalidArgumentError(
      `${where}: the public key differs from the wallet's; a wallet keeps one public key across versions`,
    );
  }
  if (
    store
      .stmt('SELECT 1 FROM shares WHERE key_type = ? AND wallet_id = ? AND version = ?')
      .get(kt, input.walletId, input.version)
  ) {
    throw new AlreadyExistsError(where, 'share versions are immutable; write the next version');
  }
  const activate = input.activate === true;
  if (activate && wallet && wallet.current_version !== null && input.version <= wallet.current_version) {
    throw new InvalidStateError(`${where} is not newer than the active version ${wallet.current_version}`);
  }
  const participants = JSON.stringify(input.participants);
  if (activate && wallet?.current_version != null)
    retireInTx(store, kt, input.walletId, wallet.current_version, input.version, now);
  if (activate && wallet) retireStalePendingInTx(store, kt, input.walletId, input.version, input.version, now);
  if (!wallet) {
    // A new wallet's row comes first in the change stream, then its share.
    store
      .stmt(
        'INSERT INTO wallets (key_type, wallet_id, threshold, participants, current_version, ' +
          'public_key, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        kt,
        input.walletId,
        input.threshold,
        participants,
        activate ? input.version : null,
        Buffer.from(input.publicKey),
        now,
        now,
        store.nextSeq(),
      );
  }
  const dk = store.primaryKey();
  const sealed = sealRecord(dk.key, store.identity(input.keyType, input.walletId, input.version, dk.id), input.share);
  const status = activate ? STATUS_CODE.active : STATUS_CODE.pending;
  const shareSeq = store.nextSeq();
  const { lastInsertRowid } = store
    .stmt(
      'INSERT INTO shares (key_type, wallet_id, version, status, threshold, ' +
        'participants, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    .run(kt, input.walletId, input.version, status, input.threshold, participants, now, now, shareSeq);
  store
    .stmt('INSERT INTO records (share_id, data_key_id, sealed) VALUES (?, ?, ?)')
    .run(lastInsertRowid, dk.id, sealed);
  if (wallet && activate)
    setCurrentVersion(store, kt, input.walletId, input.version, input.threshold, participants, now);
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

/** Points a wallet at its newly active version, whose threshold and committee it takes. */
function setCurrentVersion(
  store: VaultStore,
  kt: number,
  walletId: string,
  version: number,
  threshold: number,
  participants: string,
  now: number,
): void {
  store
    .stmt(
      'UPDATE wallets SET current_version = ?, threshold = ?, participants = ?, updated_at = ?, seq = ? ' +
        'WHERE key_type = ? AND wallet_id = ?',
    )
    .run(version, threshold, participants, now, store.nextSeq(), kt, walletId);
}

export function updateShare(
  store: VaultStore,
  keyType: KeyType,
  walletId: string,
  version: number,
  share: Uint8Array,
  options: { expectSeq?: number; durability?: Durability },
): ShareVersionInfo {
  validateKeyType(keyType);
  validateWalletId(walletId);
  validateVersion(version);
  validateShareBytes(share);
  const expectSeq = options.expectSeq;
  if (expectSeq !== undefined && (!Number.isSafeInteger(expectSeq) || expectSeq < 0))
    throw new InvalidArgumentError('expectSeq must be a non-negative integer');
  const where = label(keyType, walletId, version);
  const update = () => {
    const kt = KEY_TYPE_CODE[keyType];
    const row = store.shareRow(kt, walletId, version);
    if (!row) throw new NotFoundError(where);
    if (row.status === STATUS_CODE.retired)
      throw new InvalidStateError(`${where} is retired; only pending and active versions can be updated`);
    if (expectSeq !== undefined && row.seq !== expectSeq) {
      throw new InvalidStateError(
        `${where} was written since it was read (sequence ${row.seq}, expected ${expectSeq}); ` +
          `another process or a resumed copy holds newer state — stop this one and reload the share`,
      );
    }
    const dk = store.primaryKey();
    const sealed = sealRecord(dk.key, store.identity(keyType, walletId, version, dk.id), share);
    const now = Date.now();
    store.stmt('UPDATE records SET data_key_id = ?, sealed = ? WHERE share_id = ?').run(dk.id, sealed, row.id);
    store.stmt('UPDATE shares SET updated_at = ?, seq = ? WHERE id = ?').run(now, store.nextSeq(), row.id);
    return shareInfo(store.shareRow(kt, walletId, version)!);
  };
  return options.durability === 'deferred'
    ? store.writeDeferred(`update ${where}`, update, false)
    : store.transaction(`update ${where}`, update);
}

function setStatus(
  store: VaultStore,
  kt: number,
  walletId: string,
  version: number,
  status: ShareStatus,
  now: number,
): void {
  store
    .stmt('UPDATE shares SET status = ?, updated_at = ?, seq = ? WHERE key_type = ? AND wallet_id = ? AND version = ?')
    .run(STATUS_CODE[status], now, store.nextSeq(), kt, walletId, version);
}

/**
 * Retires a version and destroys its secret in the caller's transaction: its sealed record and its
 * signing-log entries are deleted; the metadata row stays (status retired, `retired_by`). A reshare
 * must expel: an old share of a departed member plus any other node's old share would still sign
 * [5/R-E]. The caller's commit is followed by a log truncation (`write`).
 */
function retireInTx(
  store: VaultStore,
  kt: number,
  walletId: string,
  version: number,
  retiredBy: number | null,
  now: number,
): void {
  const row = store.shareRow(kt, walletId, version);
  if (!row)
    throw new VaultCorruptedError(
      'pointer',
      `share ${KEY_TYPE_NAME[kt] ?? kt}/${walletId} v${version}`,
      'the wallet points to a version that does not exist',
    );
  store
    .stmt('UPDATE shares SET status = ?, retired_by = ?, updated_at = ?, seq = ? WHERE id = ?')
    .run(STATUS_CODE.retired, retiredBy, now, store.nextSeq(), row.id);
  destroySecretInTx(store, row);
}

/**
 * Retires, destroying their secrets, the pending versions of a wallet below `below`: once a newer
 * version is active they can never be activated (activation needs a version newer than the active
 * one), yet each holds a share of the same key — left alone it is exactly the secret a reshare must
 * destroy (e.g. a member that stalled in the confirmation round of v+1 while v+2 expelled a
 * compromised node) [6/F1]. `retiredBy` is the version whose activation made them stale (null when
 * a node leaves the committee). Returns how many were retired.
 */
function retireStalePendingInTx(
  store: VaultStore,
  kt: number,
  walletId: string,
  below: number,
  retiredBy: number | null,
  now: number,
): number {
  const rows = store
    .stmt('SELECT version FROM shares WHERE key_type = ? AND wallet_id = ? AND status = ? AND version < ?')
    .all(kt, walletId, STATUS_CODE.pending, below) as { version: number }[];
  for (const r of rows) retireInTx(store, kt, walletId, r.version, retiredBy, now);
  return rows.length;
}

/**
 * Retires every pending version below its wallet's active version (see `retireStalePendingInTx`),
 * in one write; called when a vault written by a build before this rule is opened (its upgrade to
 * schema 3), so that it holds no stale secret. Returns how many were retired.
 */
export function retireStalePending(store: VaultStore): number {
  return store.write('retire stale pending versions', () => {
    const wallets = store
      .stmt(
        'SELECT DISTINCT w.key_type AS kt, w.wallet_id AS walletId, w.current_version AS current ' +
          'FROM wallets w JOIN shares s ON s.key_type = w.key_type AND s.wallet_id = w.wallet_id ' +
          'WHERE w.current_version IS NOT NULL AND s.status = ? AND s.version < w.current_version',
      )
      .all(STATUS_CODE.pending) as { kt: number; walletId: string; current: number }[];
    const now = Date.now();
    let n = 0;
    for (const w of wallets) n += retireStalePendingInTx(store, w.kt, w.walletId, w.current, w.current, now);
    return n;
  });
}

/** Deletes a version's sealed record and signing-log entries (its metadata row stays). */
export function destroySecretInTx(store: VaultStore, row: ShareMetaRow): void {
  store
    .stmt('DELETE FROM signing_log WHERE key_type = ? AND wallet_id = ? AND version = ?')
    .run(row.key_type, row.wallet_id, row.version);
  if (store.stmt('DELETE FROM records WHERE share_id = ?').run(row.id).changes > 0) store.scrubAfterCommit();
}

export function activate(store: VaultStore, keyType: KeyType, walletId: string, version: number): WalletInfo {
  validateKeyType(keyType);
  validateWalletId(walletId);
  validateVersion(version);
  return store.write(`activate ${label(keyType, walletId, version)}`, () => {
    activateInTx(store, keyType, walletId, version, Date.now());
    return walletInfo(store.walletRow(KEY_TYPE_CODE[keyType], walletId)!);
  });
}

function activateInTx(store: VaultStore, keyType: KeyType, walletId: string, version: number, now: number): void {
  const kt = KEY_TYPE_CODE[keyType];
  const wallet = store.walletRow(kt, walletId);
  const share = store.shareRow(kt, walletId, version);
  if (!wallet || !share) throw new NotFoundError(label(keyType, walletId, version));
  if (share.status !== STATUS_CODE.pending) {
    throw new InvalidStateError(
      `${label(keyType, walletId, version)} is ${STATUS_NAME[share.status]}, ` +
        `not pending; only a pending version can be activated`,
    );
  }
  if (wallet.current_version !== null && version <= wallet.current_version) {
    throw new InvalidStateError(
      `${label(keyType, walletId, version)} is not newer than the active version ${wallet.current_version}`,
    );
  }
  if (wallet.current_version !== null) retireInTx(store, kt, walletId, wallet.current_version, version, now);
  retireStalePendingInTx(store, kt, walletId, version, version, now);
  setStatus(store, kt, walletId, version, 'active', now);
  setCurrentVersion(store, kt, walletId, version, share.threshold, share.participants, now);
}

export function retireActive(store: VaultStore, keyType: KeyType, walletId: string): WalletInfo {
  validateKeyType(keyType);
  validateWalletId(walletId);
  return store.write(`retire ${label(keyType, walletId)}`, () => {
    const kt = KEY_TYPE_CODE[keyType];
    const wallet = store.walletRow(kt, walletId);
    if (!wallet || wallet.current_version === null)
      throw new NotFoundError(`an active version of ${label(keyType, walletId)}`);
    const now = Date.now();
    retireInTx(store, kt, walletId, wallet.current_version, null, now);
    retireStalePendingInTx(store, kt, walletId, wallet.current_version, null, now);
    store
      .stmt('UPDATE wallets SET current_version = NULL, updated_at = ?, seq = ? WHERE key_type = ? AND wallet_id = ?')
      .run(now, store.nextSeq(), kt, walletId);
    return walletInfo(store.walletRow(kt, walletId)!);
  });
}

export function discardPending(store: VaultStore, keyType: KeyType, walletId: string, version: number): void {
  validateKeyType(keyType);
  validateWalletId(walletId);
  validateVersion(version);
  store.write(`discard ${label(keyType, walletId, version)}`, () => {
    const kt = KEY_TYPE_CODE[keyType];
    const share = store.shareRow(kt, walletId, version);
    if (!share) throw new NotFoundError(label(keyType, walletId, version));
    if (share.status !== STATUS_CODE.pending)
      throw new InvalidStateError(
        `${label(keyType, walletId, version)} is not pending; only pending versions can be discarded`,
      );
    deleteShareInTx(store, share, Date.now());
    const wallet = store.walletRow(kt, walletId)!;
    const left = store
      .stmt('SELECT count(*) AS n FROM shares WHERE key_type = ? AND wallet_id = ?')
      .get(kt, walletId) as { n: number };
    if (left.n === 0 && wallet.current_version === null) deleteWalletInTx(store, kt, walletId, Date.now());
  });
}

/** Deletes a version (secret and metadata) in the caller's transaction and leaves a tombstone. */
export function deleteShareInTx(store: VaultStore, share: ShareMetaRow, now: number): void {
  destroySecretInTx(store, share);
  store.stmt('DELETE FROM shares WHERE id = ?').run(share.id);
  addShareTombstone(store, share.key_type, share.wallet_id, share.version, now);
}

/** Leaves the tombstone of a deleted share version. */
export function addShareTombstone(store: VaultStore, kt: number, walletId: string, version: number, now: number): void {
  store
    .stmt('INSERT INTO tombstones (seq, kind, key_type, wallet_id, version, deleted_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(store.nextSeq(), TOMBSTONE_SHARE, kt, walletId, version, now);
}

/** Deletes a wallet and all its versions in the caller's transaction and leaves a tombstone. */
export function deleteWalletInTx(store: VaultStore, kt: number, walletId: string, now: number): void {
  store.stmt('DELETE FROM signing_log WHERE key_type = ? AND wallet_id = ?').run(kt, walletId);
  if (
    store
      .stmt('DELETE FROM records WHERE share_id IN (SELECT id FROM shares WHERE key_type = ? AND wallet_id = ?)')
      .run(kt, walletId).changes > 0
  )
    store.scrubAfterCommit();
  store.stmt('DELETE FROM shares WHERE key_type = ? AND wallet_id = ?').run(kt, walletId);
  store.stmt('DELETE FROM wallets WHERE key_type = ? AND wallet_id = ?').run(kt, walletId);
  store
    .stmt('INSERT INTO tombstones (seq, kind, key_type, wallet_id, version, deleted_at) VALUES (?, ?, ?, ?, NULL, ?)')
    .run(store.nextSeq(), TOMBSTONE_WALLET, kt, walletId, now);
}

export function deleteWallet(store: VaultStore, keyType: KeyType, walletId: string): void {
  validateKeyType(keyType);
  validateWalletId(walletId);
  store.write(`delete ${label(keyType, walletId)}`, () => {
    const kt = KEY_TYPE_CODE[keyType];
    if (!store.walletRow(kt, walletId)) throw new NotFoundError(label(keyType, walletId));
    deleteWalletInTx(store, kt, walletId, Date.now());
  });
}

export function prune(store: VaultStore, keep: number, wallet?: { keyType: KeyType; walletId: string }): number {
  if (!Number.isInteger(keep) || keep < 0)
    throw new InvalidArgumentError(`keep must be a non-negative integer (got ${keep})`);
  if (wallet) {
    validateKeyType(wallet.keyType);
    validateWalletId(wallet.walletId);
  }
  return store.write('prune', () => {
    let rows: ShareMetaRow[];
    if (wallet) {
      const kt = KEY_TYPE_CODE[wallet.keyType];
      if (!store.walletRow(kt, wallet.walletId)) throw new NotFoundError(label(wallet.keyType, wallet.walletId));
      rows = store
        .stmt(
          `SELECT ${META_COLS} FROM shares_full ` +
            `WHERE key_type = ? AND wallet_id = ? AND status = ? ORDER BY version DESC`,
        )
        .all(kt, wallet.walletId, STATUS_CODE.retired) as ShareMetaRow[];
    } else {
      rows = store
        .stmt(`SELECT ${META_COLS} FROM shares_full WHERE status = ? ORDER BY key_type, wallet_id, version DESC`)
        .all(STATUS_CODE.retired) as ShareMetaRow[];
    }
    const seen = new Map<string, number>();
    const now = Date.now();
    let removed = 0;
    for (const r of rows) {
      const k = `${r.key_type}\u0000${r.wallet_id}`;
      const n = (seen.get(k) ?? 0) + 1;
      seen.set(k, n);
      if (n > keep) {
        deleteShareInTx(store, r, now);
        removed++;
      }
    }
    return removed;
  });
}
