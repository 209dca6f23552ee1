/**
 * Reading wallets and shares: one wallet, every wallet, a wallet's versions, and a share opened
 * under its own identity. A retired version's secret was destroyed: asking for it gets a
 * `ShareDestroyedError` that says what happened and what to use instead.
 */
import { NotFoundError, ShareDestroyedError } from '../common/errors.js';
import {
  decodeKeyType,
  KEY_TYPE_CODE,
  label,
  META_COLS,
  type ShareMetaRow,
  type ShareRow,
  STATUS_CODE,
  shareInfo,
  type WalletRow,
  walletInfo,
} from './rows.js';
import type { VaultStore } from './store.js';
import type { KeyType, OpenedShare, ShareVersionInfo, WalletInfo } from './types.js';
import { validateKeyType, validateVersion, validateWalletId } from './validate.js';

export function getWallet(store: VaultStore, keyType: KeyType, walletId: string): WalletInfo {
  validateKeyType(keyType);
  validateWalletId(walletId);
  return store.guard(`read ${label(keyType, walletId)}`, () => {
    const row = store.walletRow(KEY_TYPE_CODE[keyType], walletId);
    if (!row) throw new NotFoundError(label(keyType, walletId));
    return walletInfo(row);
  });
}

export function listWallets(store: VaultStore): WalletInfo[] {
  return store.guard('list wallets', () =>
    (store.stmt('SELECT * FROM wallets ORDER BY key_type, wallet_id').all() as WalletRow[]).map((r) => walletInfo(r)),
  );
}

export function listVersions(store: VaultStore, keyType: KeyType, walletId: string): ShareVersionInfo[] {
  validateKeyType(keyType);
  validateWalletId(walletId);
  return store.guard(`list ${label(keyType, walletId)}`, () => {
    const kt = KEY_TYPE_CODE[keyType];
    if (!store.walletRow(kt, walletId)) throw new NotFoundError(label(keyType, walletId));
    return (
      store
        .stmt(`SELECT ${META_COLS} FROM shares_full WHERE key_type = ? AND wallet_id = ? ORDER BY version`)
        .all(kt, walletId) as ShareMetaRow[]
    ).map((r) => shareInfo(r));
  });
}

export function getShare(store: VaultStore, keyType: KeyType, walletId: string, version?: number): OpenedShare {
  validateKeyType(keyType);
  validateWalletId(walletId);
  if (version !== undefined) validateVersion(version);
  return store.guard(`read ${label(keyType, walletId, version)}`, () => {
    const kt = KEY_TYPE_CODE[keyType];
    // One query on the hot path; the slow path below only explains a miss.
    const row = store
      .stmt(
        'SELECT s.*, w.public_key FROM wallets w JOIN shares_full s ' +
          'ON s.key_type = w.key_type AND s.wallet_id = w.wallet_id AND s.version = coalesce(?, w.current_version) ' +
          'WHERE w.key_type = ? AND w.wallet_id = ?',
      )
      .get(version ?? null, kt, walletId) as (ShareRow & { public_key: Buffer }) | undefined;
    if (row) {
      if (row.status === STATUS_CODE.retired) throw destroyedError(store, row);
      return { ...shareInfo(row), publicKey: row.public_key, share: store.openRow(row) };
    }
    const wallet = store.walletRow(kt, walletId);
    if (!wallet) throw new NotFoundError(label(keyType, walletId));
    const v = version ?? wallet.current_version;
    if (v === null)
      throw new NotFoundError(`an active version of ${label(keyType, walletId)}`, 'activate a version first');
    throw new NotFoundError(label(keyType, walletId, v));
  });
}

/** The error for a request of a retired version's secret: what happened and what to use instead. */
export function destroyedError(store: VaultStore, row: ShareMetaRow): ShareDestroyedError {
  const keyType = decodeKeyType(row.key_type, `share row ${row.wallet_id}`);
  const what = label(keyType, row.wallet_id, row.version);
  const when =
    row.retired_by !== null
      ? `when version ${row.retired_by} was activated`
      : 'when it was retired (a newer version was activated, or this node left the committee)';
  const current = store.walletRow(row.key_type, row.wallet_id)?.current_version ?? null;
  const hint =
    current !== null
      ? `Use the active version ${current} (read the share without a version).`
      : 'This node holds no active version of this wallet.';
  return new ShareDestroyedError(what, when, hint);
}
