/** Public data types of the vault. Nothing here is secret. */

/** Which threshold scheme a wallet's shares belong to (mpcium's key types). */
export type KeyType = 'ecdsa' | 'eddsa';
export const KEY_TYPES: readonly KeyType[] = ['ecdsa', 'eddsa'];

/**
 * Life cycle of a share version: written pending, activated, retired by the next activation (or
 * when the node leaves the committee). Retiring destroys the version's secret: a retired version
 * is public metadata only.
 */
export type ShareStatus = 'pending' | 'active' | 'retired';

/**
 * When a write becomes durable. `'sync'` (the default): its commit is fsynced before the call
 * returns. `'deferred'`: it is committed when the call returns (every later read sees it, and no
 * later commit can survive a power loss without it) but durable only once `Vault.flush()` resolves
 * (or an fsynced commit follows); a power loss before that loses it. The caller must hold back
 * whatever depends on it — in a node, every message that leaves the process — until then.
 */
export type Durability = 'sync' | 'deferred';

/** A wallet as the vault knows it (mpcium's keyinfo plus the public key). */
export interface WalletInfo {
  keyType: KeyType;
  walletId: string;
  /** t: t+1 parties sign (mpcium semantics). Taken from the active version. */
  threshold: number;
  /** Node ids of the committee of the active version. */
  participants: string[];
  /** The active version, or null while only pending versions exist. */
  currentVersion: number | null;
  publicKey: Uint8Array;
  createdAt: number;
  updatedAt: number;
  seq: number;
}

/** One stored share version (without the secret). */
export interface ShareVersionInfo {
  keyType: KeyType;
  walletId: string;
  version: number;
  status: ShareStatus;
  threshold: number;
  participants: string[];
  /** The data key that seals the record; 0 for a retired version (it has no record any more). */
  dataKeyId: number;
  createdAt: number;
  updatedAt: number;
  seq: number;
}

/** A share version with its opened secret bytes; the caller zeroes `share` when done. */
export interface OpenedShare extends ShareVersionInfo {
  publicKey: Uint8Array;
  share: Uint8Array;
}

/** Input of `Vault.putShare`. */
export interface PutShareInput {
  keyType: KeyType;
  walletId: string;
  version: number;
  threshold: number;
  participants: string[];
  publicKey: Uint8Array;
  share: Uint8Array;
  /** Activate in the same transaction (keygen); otherwise the version is stored pending (reshare). */
  activate?: boolean;
}

/** A change read by `changesSince`, in sequence order. Share records stay sealed. */
export type VaultChange =
  | { kind: 'wallet'; seq: number; wallet: WalletInfo }
  | {
      kind: 'share';
      seq: number;
      info: ShareVersionInfo;
      /** The sealed record envelope exactly as stored; open it with `Vault.openChange`. */
      sealed: Uint8Array;
    }
  | {
      kind: 'share-retired';
      seq: number;
      /** A retired version: public metadata only, its secret was destroyed (`status` 'retired'). */
      info: ShareVersionInfo;
      /** The version whose activation retired it; null if unknown or the node left the committee. */
      retiredBy: number | null;
    }
  | { kind: 'wallet-deleted'; seq: number; keyType: KeyType; walletId: string; at: number }
  | { kind: 'share-deleted'; seq: number; keyType: KeyType; walletId: string; version: number; at: number };

/**
 * A change in the clear, as a backup carries it and a restore applies it: like `VaultChange`, but
 * a share carries its opened bytes instead of the sealed record (records are re-sealed under the
 * restoring vault's own keys).
 */
export type PlainChange =
  | { kind: 'wallet'; wallet: WalletInfo }
  | {
      kind: 'share';
      info: ShareVersionInfo;
      /**
       * The secret. A 'retired' status comes only from format-1 backups, which still carried
       * retired secrets; a restore does not store it [5/R-E].
       */
      share: Uint8Array;
    }
  | { kind: 'share-retired'; info: ShareVersionInfo; retiredBy: number | null }
  | { kind: 'wallet-deleted'; keyType: KeyType; walletId: string }
  | { kind: 'share-deleted'; keyType: KeyType; walletId: string; version: number };

/**
 * What incremental backups read from a vault, and all they may touch (`backup/writer.ts`,
 * `backup/scheduler.ts`): its id, the change stream, the sealed records of share changes and the
 * backup watermark. `Vault` implements it; its members there say what each throws.
 */
export interface ChangeFeed {
  /** The vault's random id (hex); not secret. */
  readonly id: string;
  /** The highest sequence number assigned so far. */
  currentSeq(): number;
  /** Up to `limit` changes with sequence above `after`, in sequence order (see `Vault.changesSince`). */
  changesSince(after: number, limit?: number): VaultChange[];
  /** Opens the sealed record of a share change. The caller zeroes the result. */
  openChange(change: Extract<VaultChange, { kind: 'share' }>): Uint8Array;
  /** The sequence number up to which backups are complete. */
  readonly backupWatermark: number;
  /** Records that backups are complete up to `seq` (call only after the backup file is durable). */
  setBackupWatermark(seq: number): void;
}

/** Argon2id cost parameters (libsodium `crypto_pwhash`, parallelism fixed at 1). */
export interface Argon2Params {
  /** Iterations (t). */
  opsLimit: number;
  /** Memory in bytes (m). */
  memLimit: number;
}

export const DEFAULT_ARGON2: Argon2Params = { opsLimit: 3, memLimit: 64 * 1024 * 1024 };

/** Options for creating a vault. */
export interface CreateOptions {
  /** Argon2id cost for a password (default m=64 MiB, t=3). Ignored for a raw key. */
  argon2?: Argon2Params;
}

/** Progress callback of long passes: `done` of `total` items. */
export type Progress = (done: number, total: number) => void;
