/** Encrypted incremental backups of the vault (see docs/backup.md). */

export { listBackupDir } from './files.js';
export {
  BackupCorruptedError,
  type BackupKind,
  backupFileName,
  type Manifest,
  parseBackupFileName,
  type Trailer,
} from './format.js';
export {
  type BackupDecryption,
  type ChainReport,
  checkNames,
  type FileSummary,
  inspectFile,
  parseIdentityFile,
  readBackupFile,
  type VerifiedFile,
  verifyChain,
} from './reader.js';
export { type RestoreOptions, type RestoreReport, restoreChain } from './restore.js';
export { applyRetention } from './retention.js';
export { BackupScheduler, realClock, type SchedulerClock, type SchedulerOptions } from './scheduler.js';
export { type BackupEncryption, type RunBackupOptions, type RunBackupResult, runBackup } from './writer.js';
