/**
 * Reading backups: one file (streamed, every frame decoded and checked) and a whole chain
 * (verify); `restore.ts` applies a verified chain to a new vault. Everything read is untrusted
 * until it passed these checks.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { Decrypter } from 'age-encryption';
import { MalformedError } from '../common/bytes.js';
import { InvalidArgumentError, IoError, NotFoundError, TesseraError, WrongPasswordError } from '../common/errors.js';
import { validatePlainChange } from '../vault/index.js';
import { listBackupDir } from './files.js';
import {
  BackupCorruptedError,
  type BackupKind,
  type BackupName,
  type BackupRecord,
  DIGEST_BYTES,
  decodeManifest,
  decodeRecord,
  decodeTrailer,
  FRAME_MANIFEST,
  FRAME_RECORD,
  FRAME_TRAILER,
  MAGIC,
  MAX_FRAME,
  type Manifest,
  parseBackupFileName,
  type Trailer,
} from './format.js';

/** What opens the files: age identities (`AGE-SECRET-KEY-1…`) and/or a passphrase. */
export interface BackupDecryption {
  identities?: readonly string[];
  passphrase?: string;
}

/** A file that passed every check of its own. */
export interface FileSummary {
  name: string;
  manifest: Manifest;
  trailer: Trailer;
  /** SHA-256 of the file as stored (what the next file of the chain links to). */
  fileDigest: Uint8Array;
  bytes: number;
  counts: { wallet: number; share: number; 'share-retired': number; 'wallet-deleted': number; 'share-deleted': number };
}

/** @throws InvalidArgumentError without echoing the secret. */
export function makeDecrypter(dec: BackupDecryption): Decrypter {
  const d = new Decrypter();
  const ids = dec.identities ?? [];
  if (ids.length === 0 && dec.passphrase === undefined)
    throw new InvalidArgumentError('no backup identity: give --identity FILE (age identity) or --passphrase-file FILE');
  ids.forEach((id, i) => {
    if (!/^AGE-SECRET-KEY-1[0-9A-Z]+$/.test(id))
      throw new InvalidArgumentError(
        `identity ${i + 1} is not an age X25519 identity (a line starting AGE-SECRET-KEY-1)`,
      );
    try {
      d.addIdentity(id);
    } catch {
      throw new InvalidArgumentError(`identity ${i + 1} is not a valid age identity`);
    }
  });
  if (dec.passphrase !== undefined) d.addPassphrase(dec.passphrase);
  return d;
}

/** Parses an age identity file: `AGE-SECRET-KEY-1…` lines, `#` comments and blank lines. */
export function parseIdentityFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(line);
  }
  return out;
}

class HashTap {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  stream(): TransformStream<Uint8Array, Uint8Array> {
    return new TransformStream({
      transform: (chunk, controller) => {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        controller.enqueue(chunk);
      },
    });
  }
}

function describeAgeError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // age's own messages name no secret; keep them short.
  return m.slice(0, 120);
}

/**
 * Reads and checks one backup file. `onRecord` sees each record after it was decoded and
 * validated (and before the trailer was checked: a caller that persists records must undo them
 * if this throws). `onBytes` reports ciphertext bytes read.
 * @throws WrongPasswordError if no identity opens the file; BackupCorruptedError for anything
 *   malformed, truncated, modified or inconsistent with its name; IoError.
 */
export async function readBackupFile(
  path: string,
  dec: BackupDecryption,
  onRecord?: (rec: BackupRecord) => void | Promise<void>,
  onBytes?: (n: number) => void,
): Promise<FileSummary> {
  const name = basename(path);
  const expected = parseBackupFileName(name);
  const fail = (detail: string, cause?: unknown): never => {
    throw new BackupCorruptedError(name, detail, cause === undefined ? undefined : { cause });
  };
  const decrypter = makeDecrypter(dec);
  let fileStream: Readable;
  try {
    statSync(path);
    fileStream = createReadStream(path, { highWaterMark: 1 << 20 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`backup file ${path}`, 'check the path');
    throw new IoError(`opening ${path}`, e);
  }
  const tap = new HashTap();
  let reported = 0;
  const input = (Readable.toWeb(fileStream) as unknown as ReadableStream<Uint8Array>).pipeThrough(tap.stream());
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await decrypter.decrypt(input);
  } catch (e) {
    fileStream.destroy();
    if (e instanceof Error && /no identity matched/.test(e.message)) {
      throw new WrongPasswordError(
        `no given identity or passphrase opens backup ${name}; check --identity ` +
          `or --passphrase-file (the file may be encrypted to another recipient)`,
      );
    }
    if (e instanceof TesseraError) throw e;
    return fail(`the age header is malformed or was modified (${describeAgeError(e)})`, e);
  }

  const payloadHash = createHash('sha256');
  let buf = new Uint8Array(0);
  let off = 0;
  const st: { stage: 'magic' | 'manifest' | 'records' | 'done' } = { stage: 'magic' };
  let manifest: Manifest | undefined;
  let trailer: Trailer | undefined;
  let lastSeq = -1;
  let count = 0;
  const counts = { wallet: 0, share: 0, 'share-retired': 0, 'wallet-deleted': 0, 'share-deleted': 0 };

  const handleFrame = async (type: number, body: Uint8Array, raw: Uint8Array) => {
    if (st.stage === 'manifest') {
      if (type !== FRAME_MANIFEST) fail('the payload does not start with a manifest');
      try {
        manifest = decodeManifest(body);
      } catch (e) {
        fail(`malformed manifest: ${e instanceof MalformedError ? e.message : 'undecodable'}`);
      }
      const m = manifest!;
      if (expected) {
        if (
          m.kind !== expected.kind ||
          m.chain !== expected.chain ||
          m.fromSeq !== expected.fromSeq ||
          m.vaultId.slice(0, 16) !== expected.vaultTag
        ) {
          fail(
            `the manifest (vault ${m.vaultId.slice(0, 16)}, chain ${m.chain}, ${m.kind} ` +
              `from ${m.fromSeq}) does not match the file name (renamed or reordered file)`,
          );
        }
      }
      lastSeq = m.fromSeq;
      payloadHash.update(raw);
      st.stage = 'records';
      return;
    }
    if (type === FRAME_RECORD) {
      let rec: BackupRecord;
      try {
        rec = decodeRecord(body, manifest!.formatVersion);
      } catch (e) {
        return fail(`record ${count + 1} is malformed: ${e instanceof MalformedError ? e.message : 'undecodable'}`);
      }
      try {
        validatePlainChange(rec);
      } catch (e) {
        if (rec.kind === 'share') rec.share.fill(0);
        return fail(
          `record ${count + 1} (seq ${rec.seq}) is invalid: ${e instanceof TesseraError ? e.message : 'invalid'}`,
        );
      }
      if (rec.seq <= lastSeq) {
        if (rec.kind === 'share') rec.share.fill(0);
        return fail(`record ${count + 1} has sequence ${rec.seq}, not above ${lastSeq} (records out of order)`);
      }
      lastSeq = rec.seq;
      count++;
      counts[rec.kind]++;
      payloadHash.update(raw);
      if (onRecord) await onRecord(rec);
      else if (rec.kind === 'share') rec.share.fill(0);
      return;
    }
    if (type === FRAME_TRAILER) {
      try {
        trailer = decodeTrailer(body);
      } catch (e) {
        return fail(`malformed trailer: ${e instanceof MalformedError ? e.message : 'undecodable'}`);
      }
      const t = trailer!;
      const m = manifest!;
      if (t.recordCount !== count)
        fail(`the trailer counts ${t.recordCount} records but the file holds ${count} (records missing)`);
      if (!Buffer.from(t.payloadDigest).equals(payloadHash.digest()))
        fail('the payload digest in the trailer does not match the content');
      if (t.toSeq < m.fromSeq || (count > 0 && t.toSeq !== lastSeq) || (count === 0 && t.toSeq !== m.fromSeq))
        fail(`the trailer's sequence ${t.toSeq} does not match the records`);
      if (m.kind === 'incremental' && count === 0) fail('an incremental backup holds no record');
      if (expected && expected.toSeq !== t.toSeq)
        fail(
          `the file name says the range ends at ${expected.toSeq} but the content ends at ${t.toSeq} (renamed file)`,
        );
      st.stage = 'done';
      return;
    }
    fail(`unknown frame type ${type} after record ${count}`);
  };

  try {
    for await (const chunk of plain as unknown as AsyncIterable<Uint8Array>) {
      if (st.stage === 'done' && chunk.length > 0) fail('bytes follow the trailer');
      // Append the chunk to what is left of the buffer.
      const rest = buf.length - off;
      const next = new Uint8Array(rest + chunk.length);
      next.set(buf.subarray(off));
      next.set(chunk, rest);
      buf.fill(0);
      chunk.fill(0);
      buf = next;
      off = 0;
      if (st.stage === 'magic') {
        if (buf.length < MAGIC.length) continue;
        if (!Buffer.from(buf.subarray(0, MAGIC.length)).equals(MAGIC))
          fail('the payload is not a Tessera backup (bad magic)');
        payloadHash.update(buf.subarray(0, MAGIC.length));
        off = MAGIC.length;
        st.stage = 'manifest';
      }
      while (st.stage !== 'done' && buf.length - off >= 5) {
        const type = buf[off]!;
        const len = new DataView(buf.buffer, buf.byteOffset + off + 1, 4).getUint32(0);
        if (len > MAX_FRAME) fail(`a frame of ${len} bytes exceeds the limit (after record ${count})`);
        if (buf.length - off < 5 + len) break;
        const raw = buf.subarray(off, off + 5 + len);
        off += 5 + len;
        await handleFrame(type, raw.subarray(5), raw);
      }
      if (st.stage === 'done' && off < buf.length) fail('bytes follow the trailer');
      if (tap.bytes > reported) {
        onBytes?.(tap.bytes - reported);
        reported = tap.bytes;
      }
    }
  } catch (e) {
    fileStream.destroy();
    buf.fill(0);
    if (e instanceof TesseraError) throw e;
    return fail(
      `the encrypted payload fails authentication after ${tap.bytes} bytes: ` +
        `truncated or modified (${describeAgeError(e)})`,
      e,
    );
  }
  buf.fill(0);
  if (st.stage === 'magic' || st.stage === 'manifest') fail('the payload ends before its manifest (truncated)');
  if (st.stage !== 'done') fail(`the payload ends after record ${count} without a trailer (truncated)`);
  if (tap.bytes > reported) onBytes?.(tap.bytes - reported);
  return {
    name,
    manifest: manifest!,
    trailer: trailer!,
    fileDigest: new Uint8Array(tap.hash.digest()),
    bytes: tap.bytes,
    counts,
  };
}

/** Reads only as far as the manifest (cheap). @throws as readBackupFile. */
export async function readManifest(path: string, dec: BackupDecryption): Promise<Manifest> {
  const name = basename(path);
  const decrypter = makeDecrypter(dec);
  const fileStream = createReadStream(path, { highWaterMark: 64 * 1024 + 1024 });
  try {
    let plain: ReadableStream<Uint8Array>;
    try {
      plain = await decrypter.decrypt(Readable.toWeb(fileStream) as unknown as ReadableStream<Uint8Array>);
    } catch (e) {
      if (e instanceof Error && /no identity matched/.test(e.message))
        throw new WrongPasswordError(`no given identity or passphrase opens backup ${name}`);
      throw new BackupCorruptedError(name, `the age header is malformed or was modified (${describeAgeError(e)})`);
    }
    const reader = plain.getReader();
    let buf = new Uint8Array(0);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const next = new Uint8Array(buf.length + value.length);
        next.set(buf);
        next.set(value, buf.length);
        value.fill(0);
        buf = next;
        if (buf.length >= MAGIC.length + 5) {
          const len = new DataView(buf.buffer, MAGIC.length + 1, 4).getUint32(0);
          if (len > 64 * 1024) break;
          if (buf.length >= MAGIC.length + 5 + len) {
            if (!Buffer.from(buf.subarray(0, MAGIC.length)).equals(MAGIC) || buf[MAGIC.length] !== FRAME_MANIFEST)
              break;
            try {
              return decodeManifest(buf.subarray(MAGIC.length + 5, MAGIC.length + 5 + len));
            } catch (e) {
              throw new BackupCorruptedError(
                name,
                `malformed manifest: ${e instanceof MalformedError ? e.message : 'undecodable'}`,
              );
            }
          }
        }
      }
    } catch (e) {
      if (e instanceof TesseraError) throw e;
      throw new BackupCorruptedError(name, `the encrypted payload fails authentication (${describeAgeError(e)})`);
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    throw new BackupCorruptedError(name, 'the payload does not start with a Tessera manifest');
  } finally {
    fileStream.destroy();
  }
}

// ---------------------------------------------------------------- chains

export interface VerifiedFile {
  name: string;
  kind: BackupKind;
  chain: number;
  fromSeq: number;
  toSeq: number;
  records: number;
  createdAt: number;
  bytes: number;
}

export interface ChainReport {
  dir: string;
  vaultId: string;
  nodeId: string;
  chains: number[];
  files: VerifiedFile[];
  records: number;
  bytes: number;
}

export interface ReadOptions {
  /** Progress in ciphertext bytes. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Checks what the names of a directory say, without decrypting: no foreign file, one vault,
 * every chain starts with a full, no gap or overlap in sequence ranges. Returns the files by chain.
 * @throws NotFoundError (no directory or no backup); BackupCorruptedError naming the first problem.
 */
export function checkNames(dir: string): Map<number, BackupName[]> {
  const { backups, foreign } = listBackupDir(dir);
  if (foreign.length > 0)
    throw new BackupCorruptedError(
      foreign[0]!,
      `is not a Tessera backup file (a foreign file in ${dir}; move it elsewhere)`,
    );
  if (backups.length === 0)
    throw new NotFoundError(`a backup in ${dir}`, 'check the directory (`tessera backup list DIR`)');
  const tag = backups[0]!.vaultTag;
  const chains = new Map<number, BackupName[]>();
  for (const b of backups) {
    if (b.vaultTag !== tag)
      throw new BackupCorruptedError(
        b.name,
        `belongs to another vault (tag ${b.vaultTag}, the directory's first file has ${tag})`,
      );
    const list = chains.get(b.chain) ?? [];
    const prev = list.at(-1);
    if (!prev) {
      if (b.kind !== 'full')
        throw new BackupCorruptedError(
          b.name,
          `chain ${b.chain} does not start with a full backup (the full is missing)`,
        );
    } else {
      if (b.kind === 'full') throw new BackupCorruptedError(b.name, `a second full backup in chain ${b.chain}`);
      if (b.fromSeq > prev.toSeq)
        throw new BackupCorruptedError(
          b.name,
          `gap: it starts at sequence ${b.fromSeq} but ${prev.name} ends at ${prev.toSeq} (a file is missing)`,
        );
      if (b.fromSeq < prev.toSeq)
        throw new BackupCorruptedError(
          b.name,
          `overlap: it starts at sequence ${b.fromSeq} but ${prev.name} ends at ${prev.toSeq}`,
        );
    }
    list.push(b);
    chains.set(b.chain, list);
  }
  return chains;
}

/** Per-chain state while reading files in order. */
export class ChainState {
  vaultId: string | undefined;
  nodeId: string | undefined;
  private prev: { name: string; digest: Uint8Array; toSeq: number } | undefined;

  startChain(): void {
    this.prev = undefined;
  }

  check(s: FileSummary): void {
    const m = s.manifest;
    if (this.vaultId === undefined) this.vaultId = m.vaultId;
    else if (m.vaultId !== this.vaultId)
      throw new BackupCorruptedError(
        s.name,
        `belongs to vault ${m.vaultId}, not ${this.vaultId} (a file from another vault)`,
      );
    if (this.nodeId === undefined) this.nodeId = m.nodeId;
    else if (m.nodeId !== this.nodeId)
      throw new BackupCorruptedError(
        s.name,
        `was written by node '${m.nodeId}', not '${this.nodeId}' (a file from another node)`,
      );
    if (m.kind === 'incremental') {
      if (!this.prev) throw new BackupCorruptedError(s.name, 'an incremental backup without its full');
      if (!Buffer.from(m.prevDigest).equals(Buffer.from(this.prev.digest))) {
        throw new BackupCorruptedError(
          s.name,
          `its previous-file digest does not match ${this.prev.name} ` +
            `(that file was replaced, re-encrypted or modified)`,
        );
      }
      if (m.fromSeq !== this.prev.toSeq)
        throw new BackupCorruptedError(
          s.name,
          `starts at ${m.fromSeq} but ${this.prev.name} ends at ${this.prev.toSeq}`,
        );
    }
    this.prev = { name: s.name, digest: s.fileDigest, toSeq: s.trailer.toSeq };
  }
}

export function summaryToVerified(s: FileSummary): VerifiedFile {
  const m = s.manifest;
  return {
    name: s.name,
    kind: m.kind,
    chain: m.chain,
    fromSeq: m.fromSeq,
    toSeq: s.trailer.toSeq,
    records: s.trailer.recordCount,
    createdAt: m.createdAt,
    bytes: s.bytes,
  };
}

export function totalBytes(dir: string, files: readonly BackupName[]): number {
  let n = 0;
  for (const f of files) n += statSync(join(dir, f.name)).size;
  return n;
}

/**
 * Decrypts and checks every chain of `dir`: names, manifests, digest links, sequence ranges,
 * records, trailers. Writes nothing.
 * @throws WrongPasswordError; BackupCorruptedError naming the first problem; NotFoundError; IoError.
 */
export async function verifyChain(dir: string, dec: BackupDecryption, opts: ReadOptions = {}): Promise<ChainReport> {
  makeDecrypter(dec);
  const chains = checkNames(dir);
  const all = [...chains.values()].flat();
  const total = totalBytes(dir, all);
  let done = 0;
  const state = new ChainState();
  const files: VerifiedFile[] = [];
  for (const [, list] of chains) {
    state.startChain();
    for (const b of list) {
      const s = await readBackupFile(join(dir, b.name), dec, undefined, (n) => {
        done += n;
        opts.onProgress?.(done, total);
      });
      state.check(s);
      files.push(summaryToVerified(s));
    }
  }
  return {
    dir,
    vaultId: state.vaultId!,
    nodeId: state.nodeId!,
    chains: [...chains.keys()],
    files,
    records: files.reduce((a, f) => a + f.records, 0),
    bytes: total,
  };
}

/** The manifest, trailer and record counts of one file (checked on its own, not its chain). */
export async function inspectFile(
  path: string,
  dec: BackupDecryption,
): Promise<FileSummary & { fileDigestHex: string }> {
  const s = await readBackupFile(path, dec);
  if (s.fileDigest.length !== DIGEST_BYTES) throw new InvalidArgumentError('digest');
  return { ...s, fileDigestHex: Buffer.from(s.fileDigest).toString('hex') };
}
