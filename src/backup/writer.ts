/**
 * Writing a backup file from an open vault: full or incremental, streamed page by page through
 * age, written to a temporary file, fsynced, renamed, directory fsynced; only then does the
 * vault's backup watermark advance.
 */
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Encrypter } from 'age-encryption';
import { ByteWriter } from '../common/bytes.js';
import { InvalidArgumentError, InvalidStateError, IoError, TesseraError } from '../common/errors.js';
import { ensurePrivateDir, fsyncDir, PRIVATE_FILE_MODE } from '../common/fs.js';
import type { VaultChange } from '../vault/types.js';
import type { Vault } from '../vault/vault.js';
import { hashFile, listBackupDir } from './files.js';
import {
  type BackupKind,
  type BackupName,
  type BackupRecord,
  backupFileName,
  encodeManifest,
  encodeRecord,
  encodeTrailer,
  FORMAT_VERSION,
  FRAME_MANIFEST,
  FRAME_RECORD,
  FRAME_TRAILER,
  MAGIC,
  TEMP_PREFIX,
  writeFrame,
  ZERO_DIGEST,
} from './format.js';
import { applyRetention } from './retention.js';

/** Who can decrypt the files: age X25519 recipients (`age1…`) or one passphrase (age scrypt). */
export interface BackupEncryption {
  recipients?: readonly string[];
  /** A backup passphrase, never the vault password. age allows it only without recipients. */
  passphrase?: string;
  /** age scrypt work factor log2(N) for a passphrase (default 18, age's default). */
  scryptWorkFactor?: number;
}

export interface RunBackupOptions extends BackupEncryption {
  outDir: string;
  /** This node's id (recorded in the manifest; restore and verify check it is the same throughout). */
  nodeId: string;
  /** 'auto' (default): incremental when the directory continues the vault's watermark, else full. */
  mode?: 'auto' | 'full' | 'incremental';
  /** Changes per read transaction (default 500). */
  pageSize?: number;
  /** Retention: keep this many chains (a full and its incrementals); never deletes the only full. */
  keepChains?: number;
  /** Progress in changes: done of an estimated total. */
  onProgress?: (done: number, total: number) => void;
  /** Called when the file is durable and before the watermark advances (crash tests use it). */
  onDurable?: (path: string) => void;
  /** Clock for the manifest's created time (tests). */
  now?: () => number;
}

export interface RunBackupResult {
  /** Path of the file written, or null when an incremental had nothing to write. */
  file: string | null;
  kind: BackupKind | null;
  chain: number;
  fromSeq: number;
  toSeq: number;
  records: number;
  bytes: number;
  /** Why this kind was chosen (for the operator). */
  reason: string;
  /** Files of unacknowledged runs and of expired chains that were removed. */
  removed: string[];
}

const MAX_RECIPIENTS = 64;
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;
/** Plaintext bytes handed to age per chunk. */
const CHUNK_TARGET = 256 * 1024;
/** Plaintext bytes per age STREAM chunk and the ciphertext size of a full chunk. */
const AGE_CHUNK = 64 * 1024;
const AGE_CHUNK_CT = AGE_CHUNK + 16;

/** Builds the age encrypter. @throws InvalidArgumentError for a bad or missing recipient/passphrase. */
export function makeEncrypter(enc: BackupEncryption): Encrypter {
  const e = new Encrypter();
  const recipients = enc.recipients ?? [];
  if (enc.passphrase !== undefined) {
    if (recipients.length > 0) throw new InvalidArgumentError('age encrypts to recipients or to one passphrase, not both: choose one');
    if (enc.passphrase.length === 0) throw new InvalidArgumentError('the backup passphrase is empty');
    e.setPassphrase(enc.passphrase);
    if (enc.scryptWorkFactor !== undefined) {
      if (!Number.isInteger(enc.scryptWorkFactor) || enc.scryptWorkFactor < 1 || enc.scryptWorkFactor > 30) throw new InvalidArgumentError('scrypt work factor must be 1..30');
      e.setScryptWorkFactor(enc.scryptWorkFactor);
    }
    return e;
  }
  if (recipients.length === 0) throw new InvalidArgumentError('no backup recipient: give --recipient age1… (recommended: an offline identity) or --passphrase-file');
  if (recipients.length > MAX_RECIPIENTS) throw new InvalidArgumentError(`at most ${MAX_RECIPIENTS} recipients`);
  for (const r of recipients) {
    if (!RECIPIENT_RE.test(r)) throw new InvalidArgumentError(`'${r.slice(0, 70)}' is not an age X25519 recipient (age1…); the recipient is the public line printed by \`age-keygen\``);
    e.addRecipient(r);
  }
  return e;
}

function toRecord(vault: Vault, c: VaultChange): BackupRecord {
  switch (c.kind) {
    case 'wallet':
      return { kind: 'wallet', seq: c.seq, wallet: c.wallet };
    case 'share':
      return { kind: 'share', seq: c.seq, info: c.info, share: vault.openChange(c) };
    case 'wallet-deleted':
      return { kind: 'wallet-deleted', seq: c.seq, keyType: c.keyType, walletId: c.walletId, at: c.at };
    case 'share-deleted':
      return { kind: 'share-deleted', seq: c.seq, keyType: c.keyType, walletId: c.walletId, version: c.version, at: c.at };
  }
}

interface Plan {
  kind: BackupKind;
  chain: number;
  fromSeq: number;
  prevDigest: Uint8Array;
  reason: string;
}

async function plan(vault: Vault, dir: string, mode: 'auto' | 'full' | 'incremental', removed: string[]): Promise<Plan | null> {
  const tag = vault.id.slice(0, 16);
  const mine = listBackupDir(dir).backups.filter((b) => b.vaultTag === tag);
  const wm = vault.backupWatermark;
  const seq = vault.currentSeq();
  // A file newer than the watermark was made durable by a run that died before acknowledging it.
  // Its content is covered again by this run, so it is removed; a file beyond the vault's own
  // sequence means the vault was rolled back, which is not ours to paper over.
  let last: BackupName | undefined = mine.at(-1);
  while (last && last.toSeq > wm) {
    if (last.toSeq > seq) {
      throw new InvalidStateError(
        `backup ${last.name} covers sequence ${last.toSeq} but this vault is only at ${seq}: the vault was rolled back or the directory belongs to a copy of it; back up to another directory`,
      );
    }
    rmSync(join(dir, last.name), { force: true });
    removed.push(last.name);
    mine.pop();
    last = mine.at(-1);
  }
  if (removed.length > 0) fsyncDir(dir);
  const nextChain = Math.max(0, ...mine.map((b) => b.chain)) + 1;
  const full = (reason: string): Plan => ({ kind: 'full', chain: nextChain, fromSeq: 0, prevDigest: ZERO_DIGEST, reason });
  if (mode === 'full') return full('a full backup was requested');
  let why: string | null = null;
  if (!last) why = 'the directory holds no backup of this vault';
  else if (last.toSeq !== wm) why = `the newest backup ends at sequence ${last.toSeq} but the vault's watermark is ${wm} (a file is missing or backups went elsewhere)`;
  else if (!mine.some((b) => b.chain === last!.chain && b.kind === 'full')) why = `chain ${last.chain} has no full backup`;
  if (why) {
    if (mode === 'incremental') throw new InvalidStateError(`cannot continue the chain incrementally: ${why}; run a full backup`);
    return full(why);
  }
  if (vault.changesSince(wm, 1).length === 0) return null;
  const prev = last!;
  return { kind: 'incremental', chain: prev.chain, fromSeq: wm, prevDigest: await hashFile(join(dir, prev.name)), reason: `continues chain ${prev.chain} after ${prev.name}` };
}

/**
 * Writes one backup of `vault` into `outDir` and advances the vault's watermark. Reads the vault
 * in pages of one short read transaction each and yields to the event loop between pages, so
 * writers are never blocked for longer than one page. Changes committed while the run reads are
 * included up to the moment the run finds no more: the file is a consistent snapshot at its
 * `toSeq`.
 * @throws InvalidArgumentError (recipients, options); InvalidStateError (incremental impossible,
 *   rolled-back vault); VaultCorruptedError from the vault; IoError.
 */
export async function runBackup(vault: Vault, opts: RunBackupOptions): Promise<RunBackupResult> {
  const encrypter = makeEncrypter(opts);
  const pageSize = opts.pageSize ?? 500;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new InvalidArgumentError('page size must be a positive integer');
  if (typeof opts.nodeId !== 'string' || opts.nodeId.length === 0 || Buffer.byteLength(opts.nodeId) > 256) throw new InvalidArgumentError('node id must be 1 to 256 bytes');
  const mode = opts.mode ?? 'auto';
  const now = opts.now ?? Date.now;
  const dir = opts.outDir;
  ensurePrivateDir(dir);
  const tag = vault.id.slice(0, 16);
  for (const n of listDirHidden(dir)) if (n.startsWith(`${TEMP_PREFIX}${tag}`)) rmSync(join(dir, n), { force: true });

  const removed: string[] = [];
  const p = await plan(vault, dir, mode, removed);
  if (!p) {
    const wm = vault.backupWatermark;
    const last = listBackupDir(dir).backups.filter((b) => b.vaultTag === tag).at(-1);
    return { file: null, kind: null, chain: last?.chain ?? 0, fromSeq: wm, toSeq: wm, records: 0, bytes: 0, reason: 'no change since the last backup', removed };
  }

  const tmp = join(dir, `${TEMP_PREFIX}${tag}-${process.pid}-${Date.now()}.tmp`);
  const payloadHash = createHash('sha256');
  const fileHash = createHash('sha256');
  /** Plaintext chunks handed to age and not yet known to be consumed, with their end offsets. */
  const inFlight: { end: number; buf: Uint8Array }[] = [];
  let produced = 0;
  let cursor = p.fromSeq;
  let records = 0;
  let finished = false;
  const estimate = () => Math.max(vault.currentSeq() - p.fromSeq, cursor - p.fromSeq);

  const push = (controller: ReadableStreamDefaultController<Uint8Array>, w: ByteWriter) => {
    const chunk = w.finish();
    payloadHash.update(chunk);
    produced += chunk.length;
    inFlight.push({ end: produced, buf: chunk });
    controller.enqueue(chunk);
  };

  const source = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const w = new ByteWriter(256);
        w.raw(MAGIC);
        writeFrame(w, FRAME_MANIFEST, encodeManifest({ formatVersion: FORMAT_VERSION, nodeId: opts.nodeId, vaultId: vault.id, kind: p.kind, chain: p.chain, fromSeq: p.fromSeq, prevDigest: p.prevDigest, createdAt: now() }));
        push(controller, w);
      },
      async pull(controller) {
        await yieldToLoop();
        const w = new ByteWriter(CHUNK_TARGET + 8192);
        // One page is one read transaction; shares are opened at once, while their data key is held.
        const page = vault.changesSince(cursor, pageSize);
        if (page.length === 0) {
          const digest = new Uint8Array(payloadHash.copy().digest());
          writeFrame(w, FRAME_TRAILER, encodeTrailer({ toSeq: cursor, recordCount: records, payloadDigest: digest }));
          push(controller, w);
          finished = true;
          controller.close();
          return;
        }
        const body = new ByteWriter(8192);
        for (const c of page) {
          const rec = toRecord(vault, c);
          try {
            encodeRecord(body, rec);
          } finally {
            if (rec.kind === 'share') rec.share.fill(0);
          }
          const b = body.finish();
          writeFrame(w, FRAME_RECORD, b);
          b.fill(0);
          records++;
          cursor = c.seq;
          if (w.length >= CHUNK_TARGET) {
            push(controller, w);
          }
        }
        if (w.length > 0) push(controller, w);
        opts.onProgress?.(cursor - p.fromSeq, estimate());
      },
      cancel() {
        for (const f of inFlight.splice(0)) f.buf.fill(0);
      },
    },
    { highWaterMark: 0 },
  );

  let fh: FileHandle | undefined;
  let bytes = 0;
  let fullChunks = 0;
  try {
    try {
      fh = await open(tmp, 'wx', PRIVATE_FILE_MODE);
    } catch (e) {
      throw new IoError(`creating ${tmp}`, e);
    }
    const out = await encrypter.encrypt(source);
    for await (const c of out as unknown as AsyncIterable<Uint8Array>) {
      fileHash.update(c);
      bytes += c.length;
      await writeAll(fh, c, tmp);
      // A full STREAM chunk out means age has copied (and encrypted) 64 KiB more plaintext:
      // our copies of it can be zeroed now.
      if (c.length === AGE_CHUNK_CT) {
        fullChunks++;
        const consumed = fullChunks * AGE_CHUNK;
        while (inFlight.length > 0 && inFlight[0]!.end <= consumed) inFlight.shift()!.buf.fill(0);
      }
    }
    if (!finished) throw new InvalidStateError('the backup stream ended before its trailer');
    try {
      await fh.sync();
      await fh.close();
      fh = undefined;
    } catch (e) {
      throw new IoError(`syncing ${tmp}`, e);
    }
    const name = backupFileName(vault.id, p.chain, p.fromSeq, cursor, p.kind);
    const path = join(dir, name);
    try {
      await rename(tmp, path);
    } catch (e) {
      throw new IoError(`renaming ${tmp}`, e);
    }
    fsyncDir(dir);
    opts.onDurable?.(path);
    vault.setBackupWatermark(cursor);
    if (opts.keepChains !== undefined) removed.push(...applyRetention(dir, vault.id, opts.keepChains));
    return { file: path, kind: p.kind, chain: p.chain, fromSeq: p.fromSeq, toSeq: cursor, records, bytes, reason: p.reason, removed };
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    rmSync(tmp, { force: true });
    if (e instanceof TesseraError) throw e;
    throw new IoError('writing the backup', e);
  } finally {
    for (const f of inFlight.splice(0)) f.buf.fill(0);
  }
}

async function writeAll(fh: FileHandle, c: Uint8Array, path: string): Promise<void> {
  let off = 0;
  try {
    while (off < c.length) off += (await fh.write(c, off, c.length - off)).bytesWritten;
  } catch (e) {
    throw new IoError(`writing ${path}`, e);
  }
}

function listDirHidden(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.startsWith('.'));
  } catch (e) {
    throw new IoError(`listing ${dir}`, e);
  }
}
