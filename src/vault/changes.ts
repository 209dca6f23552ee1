/**
 * The change stream: every change takes the next sequence number, deletions leave tombstones, and
 * `changesSince` reads wallet rows, share rows (still sealed) and tombstones in sequence order for
 * incremental backups, which record how far they got in the backup watermark. `applyChanges` is
 * the other direction: the restore path writes changes read from a backup.
 */
import { InvalidArgumentError, VaultCorruptedError } from '../common/errors.js';
import { sealRecord } from './record-seal.js';
import {
  decodeKeyType,
  KEY_TYPE_CODE,
  type ShareRow,
  STATUS_CODE,
  shareInfo,
  TOMBSTONE_SHARE,
  TOMBSTONE_WALLET,
  type TombstoneRow,
  type WalletRow,
  walletInfo,
} from './rows.js';
import { addShareTombstone, deleteShareInTx, deleteWalletInTx, destroySecretInTx } from './shares.js';
import type { VaultStore } from './store.js';
import type { PlainChange, VaultChange } from './types.js';
import { validatePlainChange } from './validate.js';

export function currentSeq(store: VaultStore): number {
  store.assertOpen();
  return store.seq;
}

export function changesSince(store: VaultStore, after: number, limit: number): VaultChange[] {
  if (!Number.isSafeInteger(after) || after < 0)
    throw new InvalidArgumentError(`sequence must be a non-negative integer (got ${after})`);
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidArgumentError(`limit must be a positive integer (got ${limit})`);
  return store.transaction('read changes', () => {
    // First find where this page ends from the sequence indexes alone (no row is read), then
    // read exactly the rows of the page: no sealed record is read only to be thrown away.
    const seqs: number[] = [];
    for (const t of ['wallets', 'shares', 'tombstones'] as const) {
      for (const r of store.stmt(`SELECT seq FROM ${t} WHERE seq > ? ORDER BY seq LIMIT ?`).all(after, limit) as {
        seq: number;
      }[])
        seqs.push(r.seq);
    }
    if (seqs.length === 0) return [];
    seqs.sort((a, b) => a - b);
    const last = seqs[Math.min(limit, seqs.length) - 1]!;
    const out: VaultChange[] = [];
    for (const r of store
      .stmt('SELECT * FROM wallets WHERE seq > ? AND seq <= ? ORDER BY seq')
      .all(after, last) as WalletRow[]) {
      out.push({ kind: 'wallet', seq: r.seq, wallet: walletInfo(r) });
    }
    for (const r of store
      .stmt('SELECT * FROM shares_full WHERE seq > ? AND seq <= ? ORDER BY seq')
      .all(after, last) as ShareRow[]) {
      // A retired version travels without its secret, whether or not its record is still here.
      if (r.status === STATUS_CODE.retired)
        out.push({ kind: 'share-retired', seq: r.seq, info: shareInfo(r), retiredBy: r.retired_by });
      else if (r.sealed === null)
        throw new VaultCorruptedError(
          'record',
          `share row ${r.wallet_id} v${r.version}`,
          'a pending or active version has no sealed record',
        );
      else out.push({ kind: 'share', seq: r.seq, info: shareInfo(r), sealed: r.sealed });
    }
    for (const r of store
      .stmt('SELECT * FROM tombstones WHERE seq > ? AND seq <= ? ORDER BY seq')
      .all(after, last) as TombstoneRow[]) {
      const keyType = decodeKeyType(r.key_type, `tombstone ${r.seq}`);
      if (r.kind === TOMBSTONE_WALLET)
        out.push({ kind: 'wallet-deleted', seq: r.seq, keyType, walletId: r.wallet_id, at: r.deleted_at });
      else if (r.kind === TOMBSTONE_SHARE && r.version !== null) {
        out.push({
          kind: 'share-deleted',
          seq: r.seq,
          keyType,
          walletId: r.wallet_id,
          version: r.version,
          at: r.deleted_at,
        });
      } else throw new VaultCorruptedError('database', `tombstone ${r.seq}`, 'unknown tombstone kind');
    }
    out.sort((a, b) => a.seq - b.seq);
    return out;
  });
}

export function* iterateChanges(store: VaultStore, after: number, pageSize: number): Generator<VaultChange> {
  let cursor = after;
  for (;;) {
    const page = changesSince(store, cursor, pageSize);
    if (page.length === 0) return;
    yield* page;
    cursor = page[page.length - 1]!.seq;
  }
}

export function openChange(store: VaultStore, change: Extract<VaultChange, { kind: 'share' }>): Buffer {
  store.assertOpen();
  const { info } = change;
  return store.openSealed(info.keyType, info.walletId, info.version, info.dataKeyId, change.sealed);
}

export function backupWatermark(store: VaultStore): number {
  return store.guard(
    'read backup watermark',
    () => (store.stmt("SELECT v FROM meta WHERE k = 'backup_watermark'").get() as { v: number }).v,
  );
}

export function setBackupWatermark(store: VaultStore, seq: number): void {
  store.transaction('write backup watermark', () => {
    const cur = currentSeq(store);
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > cur)
      throw new InvalidArgumentError(`backup watermark ${seq} is outside 0..${cur}`);
    store.stmt("UPDATE meta SET v = ? WHERE k = 'backup_watermark'").run(seq);
  });
}

// ---------------------------------------------------------------- restore

export function applyChanges(store: VaultStore, changes: readonly PlainChange[]): void {
  for (const c of changes) validatePlainChange(c);
  store.write(`apply ${changes.length} changes`, () => {
    for (const c of changes) applyInTx(store, c);
    // Shares that arrive from a backup may hold rolled-back OT state or lost burns: every ECDSA
    // pair must be set up again before it signs (docs/ecdsa.md rule 8). The node acts on the mark.
    if (changes.some((c) => c.kind === 'share'))
      store.stmt(`INSERT OR REPLACE INTO meta (k, v) VALUES ('${RESTORED_KEY}', 1)`).run();
  });
}

/** The `meta` key set when shares were restored (applied from a backup) and not yet re-set up. */
export const RESTORED_KEY = 'restored_needs_resetup';

export function restoredNeedsResetup(store: VaultStore): boolean {
  return store.guard(
    'read restore mark',
    () => store.stmt(`SELECT 1 FROM meta WHERE k = '${RESTORED_KEY}'`).get() !== undefined,
  );
}

export function setRestoredMark(store: VaultStore): void {
  store.write('set re-setup mark', () => {
    store.stmt(`INSERT OR REPLACE INTO meta (k, v) VALUES ('${RESTORED_KEY}', 1)`).run();
  });
}

export function clearRestoredMark(store: VaultStore): void {
  store.write('clear restore mark', () => {
    store.stmt(`DELETE FROM meta WHERE k = '${RESTORED_KEY}'`).run();
  });
}

function applyInTx(store: VaultStore, c: PlainChange): void {
  const now = Date.now();
  if (c.kind === 'wallet') {
    const w = c.wallet;
    store
      .stmt(
        'INSERT OR REPLACE INTO wallets (key_type, wallet_id, threshold, participants, ' +
          'current_version, public_key, created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        KEY_TYPE_CODE[w.keyType],
        w.walletId,
        w.threshold,
        JSON.stringify(w.participants),
        w.currentVersion,
        Buffer.from(w.publicKey),
        w.createdAt,
        w.updatedAt,
        store.nextSeq(),
      );
  } else if (c.kind === 'share' || c.kind === 'share-retired') {
    const i = c.info;
    const kt = KEY_TYPE_CODE[i.keyType];
    const retired = i.status === 'retired';
    const existing = store.shareRow(kt, i.walletId, i.version);
    if (existing) {
      if (retired) destroySecretInTx(store, existing);
      else store.stmt('DELETE FROM records WHERE share_id = ?').run(existing.id);
      store.stmt('DELETE FROM shares WHERE id = ?').run(existing.id);
    }
    const { lastInsertRowid } = store
      .stmt(
        'INSERT INTO shares (key_type, wallet_id, version, status, threshold, participants, ' +
          'created_at, updated_at, seq, retired_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        kt,
        i.walletId,
        i.version,
        STATUS_CODE[i.status],
        i.threshold,
        JSON.stringify(i.participants),
        i.createdAt,
        i.updatedAt,
        store.nextSeq(),
        c.kind === 'share-retired' ? c.retiredBy : null,
      );
    if (c.kind === 'share' && !retired) {
      const dk = store.primaryKey();
      const sealed = sealRecord(dk.key, store.identity(i.keyType, i.walletId, i.version, dk.id), c.share);
      store
        .stmt('INSERT INTO records (share_id, data_key_id, sealed) VALUES (?, ?, ?)')
        .run(lastInsertRowid, dk.id, sealed);
    }
  } else if (c.kind === 'wallet-deleted') {
    deleteWalletInTx(store, KEY_TYPE_CODE[c.keyType], c.walletId, now);
  } else {
    const row = store.shareRow(KEY_TYPE_CODE[c.keyType], c.walletId, c.version);
    if (row) deleteShareInTx(store, row, now);
    else addShareTombstone(store, KEY_TYPE_CODE[c.keyType], c.walletId, c.version, now);
  }
}
