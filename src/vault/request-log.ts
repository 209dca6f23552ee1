/**
 * The signing requests this node took part in, by (wallet, tx id): the digest of the request,
 * bound before anything is signed and kept for good (a tx id never signs other content, e.g. the same tx under another derivation path — the
 * path is not signed by mpcium's initiator) and the result event for a retention window (an
 * identical retry gets it again). Public data only. Not part of the change stream: backups do not
 * carry it (docs/vault.md, "Request log").
 */
import { InvalidArgumentError } from '../common/errors.js';
import type { VaultStore } from './store.js';
import type { Durability } from './types.js';
import { validateWalletId } from './validate.js';

/** What the log holds of one (wallet, tx id). */
export interface SignedRequest {
  readonly digest: Uint8Array;
  /** The result event, or null before completion or once the retention window purged it. */
  readonly result: Uint8Array | null;
  readonly completedAt: number;
}

const MAX_TX_ID_BYTES = 256;
const MAX_RESULT_BYTES = 64 * 1024;

function validateTxId(txId: string): void {
  if (typeof txId !== 'string' || txId.length === 0 || Buffer.byteLength(txId) > MAX_TX_ID_BYTES)
    throw new InvalidArgumentError(`a tx id is 1 to ${MAX_TX_ID_BYTES} bytes`);
}

export function signedRequest(store: VaultStore, walletId: string, txId: string): SignedRequest | undefined {
  validateWalletId(walletId);
  validateTxId(txId);
  const row = store
    .stmt('SELECT digest, result, completed_at FROM request_log WHERE wallet_id = ? AND tx_id = ?')
    .get(walletId, txId) as { digest: Buffer; result: Buffer | null; completed_at: number } | undefined;
  if (!row) return undefined;
  return {
    digest: new Uint8Array(row.digest),
    result: row.result === null ? null : new Uint8Array(row.result),
    completedAt: Number(row.completed_at),
  };
}

/**
 * Binds (wallet, tx id) to `digest` before anything is signed for it: 'bound' (first time),
 * 'same' (bound before to this digest) or 'conflict' (bound to another digest).
 */
export function bindSignRequest(
  store: VaultStore,
  walletId: string,
  txId: string,
  digest: Uint8Array,
  now: number,
  durability: Durability = 'sync',
): 'bound' | 'same' | 'conflict' {
  validateWalletId(walletId);
  validateTxId(txId);
  if (!(digest instanceof Uint8Array) || digest.length !== 32)
    throw new InvalidArgumentError('a request digest is 32 bytes');
  return store.writeWith(durability, `bind signing request ${walletId}/${txId}`, () => {
    const r = store
      .stmt(
        'INSERT OR IGNORE INTO request_log (wallet_id, tx_id, digest, result, completed_at) VALUES (?, ?, ?, NULL, ?)',
      )
      .run(walletId, txId, Buffer.from(digest), now);
    if (r.changes === 1) return 'bound';
    const row = store.stmt('SELECT digest FROM request_log WHERE wallet_id = ? AND tx_id = ?').get(walletId, txId) as {
      digest: Buffer;
    };
    return Buffer.from(digest).equals(row.digest) ? 'same' : 'conflict';
  });
}

export function recordSignedRequest(
  store: VaultStore,
  walletId: string,
  txId: string,
  digest: Uint8Array,
  result: Uint8Array,
  now: number,
): boolean {
  validateWalletId(walletId);
  validateTxId(txId);
  if (!(digest instanceof Uint8Array) || digest.length !== 32)
    throw new InvalidArgumentError('a request digest is 32 bytes');
  if (!(result instanceof Uint8Array) || result.length > MAX_RESULT_BYTES)
    throw new InvalidArgumentError(`a result is at most ${MAX_RESULT_BYTES} bytes`);
  // The digest was bound durably before signing; the result is kept only to answer a retry, so
  // its commit rides on the next fsync (a power loss forgets it: the retry signs the same content).
  return store.writeLazy(`record signing request ${walletId}/${txId}`, () => {
    const r = store
      .stmt(
        'INSERT INTO request_log (wallet_id, tx_id, digest, result, completed_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (wallet_id, tx_id) DO UPDATE SET result = excluded.result, completed_at = excluded.completed_at ' +
          'WHERE request_log.digest = excluded.digest',
      )
      .run(walletId, txId, Buffer.from(digest), Buffer.from(result), now);
    return r.changes === 1;
  });
}

export function purgeRequestResults(store: VaultStore, completedBefore: number): number {
  return store.write(
    'purge request results',
    () =>
      store
        .stmt('UPDATE request_log SET result = NULL WHERE result IS NOT NULL AND completed_at < ?')
        .run(completedBefore).changes,
  );
}
