/**
 * Writing a backup file from an open vault: full or incremental, streamed page by page through
 * age, written to a temporary file, fsynced, renamed, directory fsynced; only then does the
 * vault's backup watermark advance.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Encrypter } from 'age-encryption';
import { ByteWriter } from '../common/bytes.js';
import { InvalidArgumentError, InvalidStateError, IoError, TesseraError } from '../common/errors.js';
import { ensurePrivateDir, fsyncDir, PRIVATE_FILE_MODE, writeFileAtomic } from '../common/fs.js';
import type { ChangeFeed, VaultChange } from '../vault/index.js';
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
  /** Changes per read transaction (default 1000). */
  pageSize?: number;
  /** Retention: keep this many chains (a full and its incrementals); never deletes the only full. */
  keepChains?: number;
  /** Progress in changes: done of an estimated total. */
  onProgress?: (done: number, total: number) => void;
  /** Called when the file is durable and before the watermark advances (crash tests use it). */
  onDurable?: (path: string) => void;
  /** Encrypt on a worker thread (default: when the run covers at least 5,000 changes). */
  encryptInWorker?: boolean;
  /** Clock for the manifest's created time (tests). */
  now?: () => number;
}

export interface RunBackupResult {
  /** Path of the file written, or null when an incremental had nothing to write. */
  file: string | null;
  /** SHA-256 of the file written (hex; what the next file of the chain links to). */
  sha256?: string;
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
/** Changes from which a run encrypts on a worker thread by default. */
const WORKER_THRESHOLD = 5000;

/** Builds the age encrypter. @throws InvalidArgumentError for a bad or missing recipient/passphrase. */
export function makeEncrypter(enc: BackupEncryption): Encrypter {
  const e = new Encrypter();
  const recipients = enc.recipients ?? [];
  if (enc.passphrase !== undefined) {
    if (recipients.length > 0)
      throw new InvalidArgumentError('age encrypts to recipients or to one passphrase, not both: choose one');
    if (enc.passphrase.length === 0) throw new InvalidArgumentError('the backup passphrase is empty');
    e.setPassphrase(enc.passphrase);
    if (enc.scryptWorkFactor !== undefined) {
      if (!Number.isInteger(enc.scryptWorkFactor) || enc.scryptWorkFactor < 1 || enc.scryptWorkFactor > 30)
        throw new InvalidArgumentError('scrypt work factor must be 1..30');
      e.setScryptWorkFactor(enc.scryptWorkFactor);
    }
    return e;
  }
  if (recipients.length === 0)
    throw new InvalidArgumentError(
      'no backup recipient: give --recipient age1… (recommended: an offline identity) or --passphrase-file',
    );
  if (recipients.length > MAX_RECIPIENTS) throw new InvalidArgumentError(`at most ${MAX_RECIPIENTS} recipients`);
  for (const r of recipients) {
    if (!RECIPIENT_RE.test(r))
      throw new InvalidArgumentError(
        `'${r.slice(0, 70)}' is not an age X25519 recipient (age1…); ` +
          `the recipient is the public line printed by \`age-keygen\``,
      );
    e.addRecipient(r);
  }
  return e;
}

function toRecord(vault: ChangeFeed, c: VaultChange): BackupRecord {
  switch (c.kind) {
    case 'wallet':
      return { kind: 'wallet', seq: c.seq, wallet: c.wallet };
    case 'share':
      return { kind: 'share', seq: c.seq, info: c.info, share: vault.openChange(c) };
    case 'share-retired':
      // Never a secret: a retired version's secret was destroyed (the vault emits no sealed bytes).
      return { kind: 'share-retired', seq: c.seq, info: c.info, retiredBy: c.retiredBy };
    case 'wallet-deleted':
      return { kind: 'wallet-deleted', seq: c.seq, keyType: c.keyType, walletId: c.walletId, at: c.at };
    case 'share-deleted':
      return {
        kind: 'share-deleted',
        seq: c.seq,
        keyType: c.keyType,
        walletId: c.walletId,
        version: c.version,
        at: c.at,
      };
  }
}

interface Plan {
  kind: BackupKind;
  chain: number;
  fromSeq: number;
  prevDigest: Uint8Array;
  reason: string;
}

async function plan(
  vault: ChangeFeed,
  dir: string,
  mode: 'auto' | 'full' | 'incremental',
  removed: string[],
): Promise<Plan | null> {
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
        `backup ${last.name} covers sequence ${last.toSeq} but this vault is only at ${seq}: the ` +
          `vault was rolled back or the directory belongs to a copy of it; back up to another directory`,
      );
    }
    rmSync(join(dir, last.name), { force: true });
    removed.push(last.name);
    mine.pop();
    last = mine.at(-1);
  }
  if (removed.length > 0) fsyncDir(dir);
  const nextChain = Math.max(0, ...mine.map((b) => b.chain)) + 1;
  const full = (reason: string): Plan => ({
    kind: 'full',
    chain: nextChain,
    fromSeq: 0,
    prevDigest: ZERO_DIGEST,
    reason,
  });
  if (mode === 'full') return full('a full backup was requested');
  let why: string | null = null;
  if (!last) why = 'the directory holds no backup of this vault';
  else if (last.toSeq !== wm)
    why =
      `the newest backup ends at sequence ${last.toSeq} but the vault's ` +
      `watermark is ${wm} (a file is missing or backups went elsewhere)`;
  else if (!mine.some((b) => b.chain === last!.chain && b.kind === 'full'))
    why = `chain ${last.chain} has no full backup`;
  if (why) {
    if (mode === 'incremental')
      throw new InvalidStateError(`cannot continue the chain incrementally: ${why}; run a full backup`);
    return full(why);
  }
  if (vault.changesSince(wm, 1).length === 0) return null;
  const prev = last!;
  return {
    kind: 'incremental',
    chain: prev.chain,
    fromSeq: wm,
    prevDigest: await previousDigest(dir, tag, prev),
    reason: `continues chain ${prev.chain} after ${prev.name}`,
  };
}

/** Hidden cache of the newest file's digest, so an incremental does not re-hash a large full. */
function digestCachePath(dir: string, tag: string): string {
  return join(dir, `.tessera-last-${tag}.json`);
}

/**
 * SHA-256 of the previous file: from the cache when it names this file with its size, else by
 * hashing the file. The cache is only a shortcut: a wrong value breaks the next link, which
 * `verify` reports; it never makes a bad chain verify.
 */
async function previousDigest(dir: string, tag: string, prev: BackupName): Promise<Uint8Array> {
  const path = join(dir, prev.name);
  try {
    const c = JSON.parse(readFileSync(digestCachePath(dir, tag), 'utf8')) as {
      name?: unknown;
      size?: unknown;
      sha256?: unknown;
    };
    if (
      c.name === prev.name &&
      c.size === statSync(path).size &&
      typeof c.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(c.sha256)
    ) {
      return Uint8Array.from(Buffer.from(c.sha256, 'hex'));
    }
  } catch {
    // No usable cache: hash the file.
  }
  return hashFile(path);
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
export async function runBackup(vault: ChangeFeed, opts: RunBackupOptions): Promise<RunBackupResult> {
  const encrypter = makeEncrypter(opts);
  const pageSize = opts.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new InvalidArgumentError('page size must be a positive integer');
  if (
    typeof opts.nodeId !== 'string' ||
    opts.nodeId.length === 0 ||
    Buffer.byteLength(opts.nodeId) > 256 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
    /[\u0000-\u001f\u007f]/.test(opts.nodeId)
  ) {
    throw new InvalidArgumentError('node id must be 1 to 256 bytes without control characters');
  }
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
    const last = listBackupDir(dir)
      .backups.filter((b) => b.vaultTag === tag)
      .at(-1);
    return {
      file: null,
      kind: null,
      chain: last?.chain ?? 0,
      fromSeq: wm,
      toSeq: wm,
      records: 0,
      bytes: 0,
      reason: 'no change since the last backup',
      removed,
    };
  }

  const tmp = join(dir, `${TEMP_PREFIX}${tag}-${process.pid}-${Date.now()}.tmp`);
  const payloadHash = createHash('sha256');
  const state = { cursor: p.fromSeq, records: 0, finished: false };
  const estimate = () => Math.max(vault.currentSeq() - p.fromSeq, state.cursor - p.fromSeq);

  /** The plaintext payload in chunks: magic and manifest, one or more chunks per page, trailer. */
  async function* produce(): AsyncGenerator<Uint8Array> {
    const w = new ByteWriter(CHUNK_TARGET + 16 * 1024);
    try {
      const emit = () => {
        const chunk = w.take();
        payloadHash.update(chunk);
        return chunk;
      };
      w.raw(MAGIC);
      writeFrame(
        w,
        FRAME_MANIFEST,
        encodeManifest({
          formatVersion: FORMAT_VERSION,
          nodeId: opts.nodeId,
          vaultId: vault.id,
          kind: p!.kind,
          chain: p!.chain,
          fromSeq: p!.fromSeq,
          prevDigest: p!.prevDigest,
          createdAt: now(),
        }),
      );
      yield emit();
      for (;;) {
        await yieldToLoop();
        // One page is one read transaction, and its shares are opened right after it, before
        // anything else runs: a key rotation cannot retire their data key in between.
        const page = vault.changesSince(state.cursor, pageSize);
        if (page.length === 0) break;
        const recs: BackupRecord[] = [];
        try {
          for (const c of page) recs.push(toRecord(vault, c));
          for (const rec of recs) {
            // The record is encoded in place behind its frame header: no per-record buffer.
            w.u8(FRAME_RECORD);
            const at = w.beginLength();
            encodeRecord(w, rec);
            w.endLength(at);
            if (rec.kind === 'share') rec.share.fill(0);
            state.records++;
            state.cursor = rec.seq;
            if (w.length >= CHUNK_TARGET) yield emit();
          }
        } finally {
          for (const rec of recs) if (rec.kind === 'share') rec.share.fill(0);
        }
        if (w.length > 0) yield emit();
        opts.onProgress?.(state.cursor - p!.fromSeq, estimate());
      }
      const digest = new Uint8Array(payloadHash.copy().digest());
      writeFrame(
        w,
        FRAME_TRAILER,
        encodeTrailer({ toSeq: state.cursor, recordCount: state.records, payloadDigest: digest }),
      );
      yield emit();
      state.finished = true;
    } finally {
      // a generator ended early (an error, or the consumer stopped) leaves encoded records in
      // the writer: zero them
      w.finish();
    }
  }

  const useWorker = opts.encryptInWorker ?? vault.currentSeq() - p.fromSeq >= WORKER_THRESHOLD;
  let fd: number | undefined;
  try {
    try {
      fd = openSync(tmp, 'wx', PRIVATE_FILE_MODE);
    } catch (e) {
      throw new IoError(`creating ${tmp}`, e);
    }
    const { digest, bytes } = useWorker
      ? await encryptInWorker(opts, produce(), fd)
      : await encryptInline(encrypter, produce(), fd);
    if (!state.finished) throw new InvalidStateError('the backup stream ended before its trailer');
    try {
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
    } catch (e) {
      throw new IoError(`syncing ${tmp}`, e);
    }
    const name = backupFileName(vault.id, p.chain, p.fromSeq, state.cursor, p.kind);
    const path = join(dir, name);
    try {
      await rename(tmp, path);
    } catch (e) {
      throw new IoError(`renaming ${tmp}`, e);
    }
    fsyncDir(dir);
    const sha256 = Buffer.from(digest).toString('hex');
    writeFileAtomic(digestCachePath(dir, tag), new TextEncoder().encode(JSON.stringify({ name, size: bytes, sha256 })));
    opts.onDurable?.(path);
    vault.setBackupWatermark(state.cursor);
    if (opts.keepChains !== undefined) removed.push(...applyRetention(dir, vault.id, opts.keepChains));
    return {
      file: path,
      sha256,
      kind: p.kind,
      chain: p.chain,
      fromSeq: p.fromSeq,
      toSeq: state.cursor,
      records: state.records,
      bytes,
      reason: p.reason,
      removed,
    };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof TesseraError) throw e;
    throw new IoError('writing the backup', e);
  }
}

interface Encrypted {
  /** SHA-256 of the file written. */
  digest: Uint8Array;
  bytes: number;
}

function writeAllSync(fd: number, c: Uint8Array): void {
  let off = 0;
  while (off < c.length) off += writeSync(fd, c, off, c.length - off);
}

/** age encryption on this thread: small backups (no worker start-up cost). */
async function encryptInline(encrypter: Encrypter, chunks: AsyncGenerator<Uint8Array>, fd: number): Promise<Encrypted> {
  const fileHash = createHash('sha256');
  /** Plaintext chunks handed to age and not yet known to be consumed, with their end offsets. */
  const inFlight: { end: number; buf: Uint8Array }[] = [];
  let produced = 0;
  const source = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const n = await chunks.next();
        if (n.done) return controller.close();
        produced += n.value.length;
        inFlight.push({ end: produced, buf: n.value });
        controller.enqueue(n.value);
      },
    },
    { highWaterMark: 0 },
  );
  let bytes = 0;
  let fullChunks = 0;
  try {
    const out = await encrypter.encrypt(source);
    for await (const c of out as unknown as AsyncIterable<Uint8Array>) {
      fileHash.update(c);
      bytes += c.length;
      writeAllSync(fd, c);
      // A full STREAM chunk out means age has copied (and encrypted) 64 KiB more plaintext:
      // our copies of it can be zeroed now.
      if (c.length === AGE_CHUNK_CT) {
        fullChunks++;
        const consumed = fullChunks * AGE_CHUNK;
        while (inFlight.length > 0 && inFlight[0]!.end <= consumed) inFlight.shift()!.buf.fill(0);
      }
    }
  } finally {
    for (const f of inFlight.splice(0)) f.buf.fill(0);
    await chunks.return(undefined);
  }
  return { digest: new Uint8Array(fileHash.digest()), bytes };
}

/**
 * The worker's code (a CommonJS script, so that it needs no file of its own in src or dist): it
 * imports age-encryption by absolute URL, encrypts the chunks it is sent (transferred, not
 * copied), writes the ciphertext to the file descriptor it is given, hashes it, zeroes each
 * plaintext chunk once age has consumed it and reports consumed chunks for back-pressure.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { writeSync } = require('node:fs');
(async () => {
  const age = await import(workerData.ageUrl);
  const e = new age.Encrypter();
  if (workerData.passphrase !== undefined) {
    e.setPassphrase(workerData.passphrase);
    if (workerData.logN !== undefined) e.setScryptWorkFactor(workerData.logN);
  } else for (const r of workerData.recipients) e.addRecipient(r);
  const queue = [];
  let ended = false;
  let wake = null;
  parentPort.on('message', (m) => {
    if (m === null) ended = true;
    else queue.push(new Uint8Array(m.ab, m.off, m.len));
    if (wake) { const w = wake; wake = null; w(); }
  });
  const inFlight = [];
  let produced = 0;
  const src = new ReadableStream({
    async pull(c) {
      while (queue.length === 0 && !ended) await new Promise((r) => { wake = r; });
      if (queue.length === 0) return c.close();
      const u = queue.shift();
      produced += u.length;
      inFlight.push({ end: produced, buf: u });
      c.enqueue(u);
    },
  }, { highWaterMark: 0 });
  const hash = createHash('sha256');
  let bytes = 0;
  let full = 0;
  const out = await e.encrypt(src);
  for await (const ct of out) {
    hash.update(ct);
    bytes += ct.length;
    let off = 0;
    while (off < ct.length) off += writeSync(workerData.fd, ct, off, ct.length - off);
    if (ct.length === ${AGE_CHUNK_CT}) {
      full++;
      let n = 0;
      while (inFlight.length > 0 && inFlight[0].end <= full * ${AGE_CHUNK}) { inFlight.shift().buf.fill(0); n++; }
      if (n > 0) parentPort.postMessage({ consumed: n });
    }
  }
  for (const f of inFlight) f.buf.fill(0);
  parentPort.postMessage({ done: true, digest: hash.digest(), bytes });
})().catch((err) => parentPort.postMessage({ error: String((err && err.message) || err).slice(0, 200) }));
`;

/** Chunks in flight to the worker at most (each up to ~272 KiB): bounds memory. */
const WORKER_WINDOW = 8;

/**
 * age encryption on a worker thread, in parallel with reading the vault on this one (large
 * backups: reading and encrypting each cost about as much).
 */
async function encryptInWorker(
  enc: BackupEncryption,
  chunks: AsyncGenerator<Uint8Array>,
  fd: number,
): Promise<Encrypted> {
  const ageUrl = pathToFileURL(createRequire(import.meta.url).resolve('age-encryption')).href;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      ageUrl,
      fd,
      recipients: enc.recipients ?? [],
      passphrase: enc.passphrase,
      logN: enc.scryptWorkFactor,
    },
  });
  let outstanding = 0;
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  let result: Encrypted | null = null;
  const settle = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  worker.on(
    'message',
    (m: { consumed?: number; done?: boolean; digest?: Uint8Array; bytes?: number; error?: string }) => {
      if (m.consumed) outstanding -= m.consumed;
      if (m.done) result = { digest: new Uint8Array(m.digest!), bytes: m.bytes! };
      if (m.error) failure = new Error(`backup encryption failed: ${m.error}`);
      settle();
    },
  );
  worker.on('error', (e) => {
    failure = e instanceof Error ? e : new Error(String(e));
    settle();
  });
  worker.on('exit', () => {
    if (!result && !failure) failure = new Error('the backup encryption worker exited early');
    settle();
  });
  const wait = () =>
    new Promise<void>((r) => {
      wake = r;
    });
  try {
    for await (const chunk of chunks) {
      while (outstanding >= WORKER_WINDOW && !failure) await wait();
      if (failure) throw failure;
      // Each chunk has a buffer of its own: transferring it leaves no copy on this thread.
      const ab = chunk.buffer as ArrayBuffer;
      worker.postMessage({ ab, off: chunk.byteOffset, len: chunk.byteLength }, [ab]);
      outstanding++;
    }
    worker.postMessage(null);
    while (!result && !failure) await wait();
    if (failure) throw failure;
    return result!;
  } finally {
    await chunks.return(undefined);
    await worker.terminate();
  }
}

function listDirHidden(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.startsWith('.'));
  } catch (e) {
    throw new IoError(`listing ${dir}`, e);
  }
}
