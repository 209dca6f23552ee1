/**
 * The vault layer's public face (docs/vault.md): `Vault`, the data types it takes and returns,
 * the change types backups read and apply, the limits and checks a caller validates input with
 * before it reaches the vault, and the errors only the vault throws. The general errors
 * (`NotFoundError`, `InvalidArgumentError`, `InvalidStateError`, `AlreadyExistsError`, `IoError`)
 * come from `common/errors.ts`. Other layers import the vault from here, never from its modules.
 */
export {
  type CorruptPart,
  ShareDestroyedError,
  VaultCorruptedError,
  VaultLockedError,
  WrongPasswordError,
} from '../common/errors.js';
export type { SignedRequest } from './request-log.js';
export type { VaultSecret } from './secret.js';
export {
  type Argon2Params,
  type ChangeFeed,
  type CreateOptions,
  DEFAULT_ARGON2,
  type Durability,
  KEY_TYPES,
  type KeyType,
  type OpenedShare,
  type PlainChange,
  type Progress,
  type PutShareInput,
  type ShareStatus,
  type ShareVersionInfo,
  type VaultChange,
  type WalletInfo,
} from './types.js';
export {
  MAX_NODE_ID_BYTES,
  MAX_PARTICIPANTS,
  MAX_PUBLIC_KEY_BYTES,
  MAX_SHARE_BYTES,
  MAX_WALLET_ID_BYTES,
  validateKeyType,
  validatePlainChange,
} from './validate.js';
export {
  AUDIT_LIMITS,
  type AuditEntryInput,
  type AuditHead,
  type AuditProblem,
  type AuditRecord,
  type AuditVerifyReport,
  DB_FILE,
  Vault,
  type VaultStatus,
  type VerifyProblem,
  type VerifyReport,
} from './vault.js';
