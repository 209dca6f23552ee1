/** Encrypted incremental backups of the vault (see docs/backup.md). */
export { applyRetention } from './retention.js';
export { BackupScheduler, type SchedulerClock, type SchedulerOptions, realClock } from './scheduler.js';
export { type RunBackupOptions, type RunBackupResult, type BackupEncryption, runBackup } from './writer.js';
export {
  type BackupDecryption,
  type ChainReport,
  type FileSummary,
  type RestoreOptions,
  type RestoreReport,
  type VerifiedFile,
  checkNames,
  inspectFile,
  parseIdentityFile,
  readBackupFile,
  restoreChain,
  verifyChain,
} from './reader.js';
export { BackupCorruptedError, type BackupKind, type Manifest, type Trailer, backupFileName, parseBackupFileName } from './format.js';
export { listBackupDir } from './files.js';
