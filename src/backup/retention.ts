/** Retention: keep the newest N chains of a vault; never delete the only full backup. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, IoError } from '../common/errors.js';
import { fsyncDir } from '../common/fs.js';
import { listBackupDir } from './files.js';

/**
 * Deletes the chains of vault `vaultId` in `dir` older than the newest `keep` chains that have a
 * full backup. Within a chain the newest file goes first and the full last, so an interrupted
 * deletion leaves a valid (shorter) chain. Returns the names removed.
 * @throws InvalidArgumentError unless keep >= 1; IoError.
 */
export function applyRetention(dir: string, vaultId: string, keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new InvalidArgumentError('retention must keep at least 1 chain');
  const tag = vaultId.slice(0, 16);
  const mine = listBackupDir(dir).backups.filter((b) => b.vaultTag === tag);
  const chainsWithFull = [...new Set(mine.filter((b) => b.kind === 'full').map((b) => b.chain))].sort((a, b) => a - b);
  if (chainsWithFull.length <= keep) return [];
  const oldestKept = chainsWithFull[chainsWithFull.length - keep]!;
  const doomed = mine.filter((b) => b.chain < oldestKept).reverse();
  const removed: string[] = [];
  for (const b of doomed) {
    try {
      rmSync(join(dir, b.name));
    } catch (e) {
      throw new IoError(`removing expired backup ${b.name}`, e);
    }
    removed.push(b.name);
  }
  if (removed.length > 0) fsyncDir(dir);
  return removed;
}
