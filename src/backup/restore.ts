/**
 * Restore: applies a backup chain, checked as `verifyChain` checks it while it is read, to a NEW
 * vault; any failure removes the new vault.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { AlreadyExistsError, NotFoundError } from '../common/errors.js';
import { type Argon2Params, type PlainChange, Vault, type VaultSecret } from '../vault/index.js';
import { BackupCorruptedError, type BackupName, type BackupRecord } from './format.js';
import {
  type BackupDecryption,
  type ChainReport,
  ChainState,
  checkNames,
  makeDecrypter,
  type ReadOptions,
  readBackupFile,
  readManifest,
  summaryToVerified,
  totalBytes,
  type VerifiedFile,
} from './reader.js';

export interface RestoreOptions extends ReadOptions {
  /** Restore the newest chain state whose last file ends at or below this sequence. */
  upToSeq?: number;
  /** Restore the newest chain state whose last file was created at or before this time (ms). */
  upToTime?: number;
  /** Argon2id cost of the new vault's password. */
  argon2?: Argon2Params;
  /** Records applied per vault transaction (default 1000; at most 4 MiB of shares). */
  batchSize?: number;
}

export interface RestoreReport extends ChainReport {
  /** The new vault's id (a restore creates a new vault). */
  newVaultId: string;
  to: string;
  upToSeq: number;
  wallets: number;
  shares: number;
}

async function selectFiles(
  dir: string,
  dec: BackupDecryption,
  chains: Map<number, BackupName[]>,
  opts: RestoreOptions,
): Promise<BackupName[]> {
  const ordered = [...chains.keys()].sort((a, b) => b - a);
  for (const c of ordered) {
    let list = chains.get(c)!;
    if (opts.upToSeq !== undefined) list = list.filter((b) => b.toSeq <= opts.upToSeq!);
    if (opts.upToTime !== undefined) {
      const keep: BackupName[] = [];
      for (const b of list) {
        if ((await readManifest(join(dir, b.name), dec)).createdAt > opts.upToTime) break;
        keep.push(b);
      }
      list = keep;
    }
    if (list.length > 0 && list[0]!.kind === 'full') return list;
  }
  throw new NotFoundError(
    'a backup chain within the requested sequence or time',
    'pick a later --up-to-seq/--up-to-time (`tessera backup list` shows the ranges)',
  );
}

/**
 * Restores a chain into a NEW vault at `to` (which must not exist) with `secret`: the newest
 * chain, or the newest state within `upToSeq`/`upToTime` (at file granularity). Reads the source
 * files only. Checks as `verifyChain` while applying; any failure removes the new vault.
 * @throws AlreadyExistsError if `to` exists; WrongPasswordError; BackupCorruptedError;
 *   NotFoundError; IoError.
 */
export async function restoreChain(
  dir: string,
  to: string,
  dec: BackupDecryption,
  secret: VaultSecret,
  opts: RestoreOptions = {},
): Promise<RestoreReport> {
  if (existsSync(to))
    throw new AlreadyExistsError(`${to}`, 'restore builds a new vault: give a path that does not exist yet');
  makeDecrypter(dec);
  const batchSize = opts.batchSize ?? 1000;
  const chains = checkNames(dir);
  const selected = await selectFiles(dir, dec, chains, opts);
  const total = totalBytes(dir, selected);
  let done = 0;
  if (existsSync(to))
    throw new AlreadyExistsError(`${to}`, 'restore builds a new vault: give a path that does not exist yet');
  const vault = await Vault.create(to, secret, { argon2: opts.argon2 });
  let ok = false;
  let batch: BackupRecord[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    batchBytes = 0;
    try {
      vault.applyChanges(b as PlainChange[]);
    } finally {
      for (const r of b) if (r.kind === 'share') r.share.fill(0);
    }
    await yieldToLoop();
  };
  try {
    const state = new ChainState();
    state.startChain();
    const files: VerifiedFile[] = [];
    for (const b of selected) {
      const s = await readBackupFile(
        join(dir, b.name),
        dec,
        async (rec) => {
          batch.push(rec);
          batchBytes += rec.kind === 'share' ? rec.share.length : 64;
          if (batch.length >= batchSize || batchBytes >= 4 * 1024 * 1024) await flush();
        },
        (n) => {
          done += n;
          opts.onProgress?.(done, total);
        },
      );
      state.check(s);
      await flush();
      files.push(summaryToVerified(s));
    }
    const report = await vault.verify();
    if (report.problems.length > 0) {
      throw new BackupCorruptedError(
        selected.at(-1)!.name,
        `the restored vault fails verification (${report.problems.length} problems; first: ` +
          `${report.problems[0]!.part} at ${report.problems[0]!.where}: ${report.problems[0]!.what})`,
      );
    }
    const st = vault.status();
    const shares = st.shares.active + st.shares.pending + st.shares.retired;
    const newVaultId = vault.id;
    ok = true;
    return {
      dir,
      vaultId: state.vaultId!,
      nodeId: state.nodeId!,
      chains: [selected[0]!.chain],
      files,
      records: files.reduce((a, f) => a + f.records, 0),
      bytes: total,
      newVaultId,
      to,
      upToSeq: files.at(-1)!.toSeq,
      wallets: st.wallets,
      shares,
    };
  } finally {
    for (const r of batch) if (r.kind === 'share') r.share.fill(0);
    vault.close();
    if (!ok) rmSync(to, { recursive: true, force: true });
  }
}
