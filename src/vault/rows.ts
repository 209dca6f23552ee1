/**
 * The rows of the vault's tables as SQLite returns them, the numeric codes stored in them, and
 * their decoding into the public `WalletInfo` / `ShareVersionInfo`. Every code here is part of the
 * on-disk format. Pure: no database access.
 */
import { VaultCorruptedError } from '../common/errors.js';
import type { KeyType, ShareStatus, ShareVersionInfo, WalletInfo } from './types.js';

/** Key type codes, stored in every row and bound into every record's associated data. */
export const KEY_TYPE_CODE: Record<KeyType, number> = { ecdsa: 1, eddsa: 2 };
export const KEY_TYPE_NAME: Record<number, KeyType> = { 1: 'ecdsa', 2: 'eddsa' };

export const STATUS_CODE: Record<ShareStatus, number> = { pending: 1, active: 2, retired: 3 };
export const STATUS_NAME: Record<number, ShareStatus> = { 1: 'pending', 2: 'active', 3: 'retired' };

/** `tombstones.kind`. */
export const TOMBSTONE_WALLET = 1;
export const TOMBSTONE_SHARE = 2;

export interface WalletRow {
  key_type: number;
  wallet_id: string;
  threshold: number;
  participants: string;
  current_version: number | null;
  public_key: Buffer;
  created_at: number;
  updated_at: number;
  seq: number;
}

/** Columns of `shares_full` without the sealed bytes (reading them skips the record's overflow pages). */
export const META_COLS =
  'id, key_type, wallet_id, version, status, threshold, ' +
  'participants, data_key_id, created_at, updated_at, seq, retired_by';

export interface ShareMetaRow {
  id: number;
  key_type: number;
  wallet_id: string;
  version: number;
  status: number;
  threshold: number;
  participants: string;
  data_key_id: number;
  created_at: number;
  updated_at: number;
  seq: number;
  /** The version whose activation retired this one (NULL if not retired, unknown, or the node left). */
  retired_by: number | null;
}

export interface ShareRow extends ShareMetaRow {
  /** NULL for a retired version: its secret was destroyed. */
  sealed: Buffer | null;
}

export interface TombstoneRow {
  seq: number;
  kind: number;
  key_type: number;
  wallet_id: string;
  version: number | null;
  deleted_at: number;
}

/** How errors and reports name a wallet (`version` omitted) or a share version. */
export function label(keyType: KeyType, walletId: string, version?: number): string {
  return version === undefined ? `wallet ${keyType}/${walletId}` : `share ${keyType}/${walletId} v${version}`;
}

export function decodeKeyType(code: number, where: string): KeyType {
  const kt = KEY_TYPE_NAME[code];
  if (!kt) throw new VaultCorruptedError('database', where, `unknown key type code ${code}`);
  return kt;
}

export function decodeParticipants(json: string, where: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // fall through
  }
  throw new VaultCorruptedError('database', where, 'participants are not a list of node ids');
}

/** @throws VaultCorruptedError('database') for an unknown key type or malformed participants. */
export function walletInfo(r: WalletRow): WalletInfo {
  return {
    keyType: decodeKeyType(r.key_type, `wallet row ${r.wallet_id}`),
    walletId: r.wallet_id,
    threshold: r.threshold,
    participants: decodeParticipants(r.participants, `wallet row ${r.wallet_id}`),
    currentVersion: r.current_version,
    publicKey: Uint8Array.from(r.public_key),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    seq: r.seq,
  };
}

/** @throws VaultCorruptedError('database') for an unknown status or key type, or malformed participants. */
export function shareInfo(r: ShareMetaRow): ShareVersionInfo {
  const where = `share row ${r.wallet_id} v${r.version}`;
  const status = STATUS_NAME[r.status];
  if (!status) throw new VaultCorruptedError('database', where, `unknown status ${r.status}`);
  return {
    keyType: decodeKeyType(r.key_type, where),
    walletId: r.wallet_id,
    version: r.version,
    status,
    threshold: r.threshold,
    participants: decodeParticipants(r.participants, where),
    dataKeyId: r.data_key_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    seq: r.seq,
  };
}
