/**
 * The plaintext format inside a backup's age payload, and the file names of a backup directory.
 *
 * payload  := MAGIC frame*            (MAGIC = "TESSERA-BACKUP" 0x00 0x01, 16 bytes)
 * frame    := type u8 | length u32 | body[length]
 * frames   := manifest record* trailer, then end of payload
 *
 * Every integer is big-endian; strings are u32-length-prefixed strict UTF-8. The trailer carries
 * the upper end of the sequence range, the record count and SHA-256 of every payload byte before
 * the trailer frame, so a payload cut at a frame boundary is detected even without age's own
 * last-chunk flag. Nothing read from a file is trusted until it has been decoded here.
 */
import { ByteReader, ByteWriter, MalformedError } from '../common/bytes.js';
import { TesseraError } from '../common/errors.js';
import {
  KEY_TYPES,
  type KeyType,
  MAX_NODE_ID_BYTES,
  MAX_PARTICIPANTS,
  MAX_PUBLIC_KEY_BYTES,
  MAX_SHARE_BYTES,
  MAX_WALLET_ID_BYTES,
  type PlainChange,
  type ShareStatus,
} from '../vault/index.js';

export const MAGIC = Uint8Array.from([...new TextEncoder().encode('TESSERA-BACKUP'), 0x00, 0x01]);
/**
 * The format this build writes. 2 adds record kind 5 (a retired share version, metadata only);
 * version 1 files (whose kind-2 records may carry retired secrets) are still read.
 */
export const FORMAT_VERSION = 2;
/** Every format version this build reads. */
export const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2];
export const FRAME_MANIFEST = 0x01;
export const FRAME_RECORD = 0x02;
export const FRAME_TRAILER = 0x7f;
/** Largest frame body accepted: a maximal share plus its metadata. */
export const MAX_FRAME = MAX_SHARE_BYTES + 256 * 1024;
export const DIGEST_BYTES = 32;
export const ZERO_DIGEST = new Uint8Array(DIGEST_BYTES);

export type BackupKind = 'full' | 'incremental';

/** The head of every payload. `fromSeq` is exclusive: the file holds changes in (fromSeq, toSeq]. */
export interface Manifest {
  formatVersion: number;
  nodeId: string;
  /** Hex id of the source vault. */
  vaultId: string;
  kind: BackupKind;
  /** Chain number: a full starts a new chain; its incrementals share its number. */
  chain: number;
  fromSeq: number;
  /** SHA-256 of the previous file of the chain as stored (all zeros for a full). */
  prevDigest: Uint8Array;
  /** Milliseconds since the epoch when the backup started. */
  createdAt: number;
}

/** The end of every payload. */
export interface Trailer {
  toSeq: number;
  recordCount: number;
  /** SHA-256 of the payload bytes before the trailer frame. */
  payloadDigest: Uint8Array;
}

/** One record: a change with its source sequence number. Shares are in the clear (see docs). */
export type BackupRecord = PlainChange & { seq: number; at?: number };

/** A backup file or chain failed a check: `file` names it, the message says what and where. */
export class BackupCorruptedError extends TesseraError {
  readonly file: string;
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(
      'BACKUP_CORRUPTED',
      `backup ${file}: ${detail}. Do not rely on this backup chain; keep the files ` +
        `for analysis and take a new full backup (\`tessera backup run --full\`)`,
      options,
    );
    this.file = file;
  }
}

const KIND_CODE: Record<BackupKind, number> = { full: 1, incremental: 2 };
const KIND_NAME: Record<number, BackupKind> = { 1: 'full', 2: 'incremental' };
const KT_CODE: Record<KeyType, number> = { ecdsa: 1, eddsa: 2 };
const STATUS_CODE: Record<ShareStatus, number> = { pending: 1, active: 2, retired: 3 };
const STATUS_NAME: Record<number, ShareStatus> = { 1: 'pending', 2: 'active', 3: 'retired' };
const REC_WALLET = 1;
const REC_SHARE = 2;
const REC_WALLET_DELETED = 3;
const REC_SHARE_DELETED = 4;
/** Format 2: a retired share version, public metadata only (its secret was destroyed). */
const REC_SHARE_RETIRED = 5;

/** Appends one frame (type, length, body) to `w`. */
export function writeFrame(w: ByteWriter, type: number, body: Uint8Array): void {
  w.u8(type).u32(body.length).raw(body);
}

export function encodeManifest(m: Manifest): Uint8Array {
  const w = new ByteWriter(128);
  w.u16(m.formatVersion)
    .str(m.nodeId)
    .bytes(Buffer.from(m.vaultId, 'hex'))
    .u8(KIND_CODE[m.kind])
    .u32(m.chain)
    .u64(m.fromSeq)
    .raw(m.prevDigest)
    .u64(m.createdAt);
  return w.finish();
}

export function decodeManifest(body: Uint8Array): Manifest {
  const r = new ByteReader(body);
  const formatVersion = r.u16();
  if (!READABLE_FORMAT_VERSIONS.includes(formatVersion)) {
    throw new MalformedError(
      `format version ${formatVersion} is not supported (this build reads versions ` +
        `${READABLE_FORMAT_VERSIONS.join(' and ')}); a newer Tessera wrote it — read it with that version`,
    );
  }
  const nodeId = r.str(MAX_NODE_ID_BYTES);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (nodeId.length === 0 || /[\u0000-\u001f\u007f]/.test(nodeId))
    throw new MalformedError('the node id is empty or holds control characters');
  const vaultId = Buffer.from(r.bytes(64)).toString('hex');
  if (vaultId.length === 0) throw new MalformedError('empty vault id');
  const kind = KIND_NAME[r.u8()];
  if (!kind) throw new MalformedError('unknown backup kind');
  const chain = r.u32();
  const fromSeq = r.u64();
  const prevDigest = r.raw(DIGEST_BYTES);
  const createdAt = r.u64();
  r.end();
  if (chain < 1) throw new MalformedError('chain number 0');
  if (kind === 'full' && (fromSeq !== 0 || !Buffer.from(prevDigest).equals(ZERO_DIGEST)))
    throw new MalformedError('a full backup must start at sequence 0 with no previous digest');
  return { formatVersion, nodeId, vaultId, kind, chain, fromSeq, prevDigest, createdAt };
}

export function encodeTrailer(t: Trailer): Uint8Array {
  return new ByteWriter(64).u64(t.toSeq).u64(t.recordCount).raw(t.payloadDigest).finish();
}

export function decodeTrailer(body: Uint8Array): Trailer {
  const r = new ByteReader(body);
  const t = { toSeq: r.u64(), recordCount: r.u64(), payloadDigest: r.raw(DIGEST_BYTES) };
  r.end();
  return t;
}

/** The field methods `encodeRecord` needs (ByteWriter has them). */
export interface FieldWriter {
  u8(v: number): FieldWriter;
  u32(v: number): FieldWriter;
  u16(v: number): FieldWriter;
  u64(v: number): FieldWriter;
  bytes(b: Uint8Array): FieldWriter;
  str(s: string): FieldWriter;
}

function writeParticipants(w: FieldWriter, ps: readonly string[]): void {
  w.u16(ps.length);
  for (const p of ps) w.str(p);
}

function readParticipants(r: ByteReader): string[] {
  const n = r.u16();
  if (n > MAX_PARTICIPANTS) throw new MalformedError(`${n} participants exceed the limit of ${MAX_PARTICIPANTS}`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.str(MAX_NODE_ID_BYTES));
  return out;
}

function readKeyType(r: ByteReader): KeyType {
  const c = r.u8();
  const kt = KEY_TYPES.find((k) => KT_CODE[k] === c);
  if (!kt) throw new MalformedError(`unknown key type code ${c}`);
  return kt;
}

/**
 * Encodes a record body into `w` (the caller frames it). Share bytes are copied into `w`; the
 * caller zeroes its own copy.
 */
export function encodeRecord(w: FieldWriter, rec: BackupRecord): void {
  w.u64(rec.seq);
  switch (rec.kind) {
    case 'wallet': {
      const x = rec.wallet;
      w.u8(REC_WALLET).u8(KT_CODE[x.keyType]).str(x.walletId).u32(x.threshold);
      writeParticipants(w, x.participants);
      w.u8(x.currentVersion === null ? 0 : 1)
        .u64(x.currentVersion ?? 0)
        .bytes(x.publicKey)
        .u64(x.createdAt)
        .u64(x.updatedAt);
      return;
    }
    case 'share': {
      const i = rec.info;
      w.u8(REC_SHARE).u8(KT_CODE[i.keyType]).str(i.walletId).u64(i.version).u8(STATUS_CODE[i.status]).u32(i.threshold);
      writeParticipants(w, i.participants);
      w.u64(i.createdAt).u64(i.updatedAt).bytes(rec.share);
      return;
    }
    case 'share-retired': {
      const i = rec.info;
      w.u8(REC_SHARE_RETIRED).u8(KT_CODE[i.keyType]).str(i.walletId).u64(i.version).u32(i.threshold);
      writeParticipants(w, i.participants);
      w.u64(i.createdAt)
        .u64(i.updatedAt)
        .u8(rec.retiredBy === null ? 0 : 1)
        .u64(rec.retiredBy ?? 0);
      return;
    }
    case 'wallet-deleted':
      w.u8(REC_WALLET_DELETED)
        .u8(KT_CODE[rec.keyType])
        .str(rec.walletId)
        .u64(rec.at ?? 0);
      return;
    case 'share-deleted':
      w.u8(REC_SHARE_DELETED)
        .u8(KT_CODE[rec.keyType])
        .str(rec.walletId)
        .u64(rec.version)
        .u64(rec.at ?? 0);
      return;
  }
}

/**
 * Decodes a record body of a file in `formatVersion` (kind 5 exists from version 2). Share bytes
 * are a copy the caller zeroes.
 * @throws MalformedError.
 */
export function decodeRecord(body: Uint8Array, formatVersion = FORMAT_VERSION): BackupRecord {
  const r = new ByteReader(body);
  const seq = r.u64();
  const kind = r.u8();
  let rec: BackupRecord;
  if (kind === REC_WALLET) {
    const keyType = readKeyType(r);
    const walletId = r.str(MAX_WALLET_ID_BYTES);
    const threshold = r.u32();
    const participants = readParticipants(r);
    const hasVersion = r.u8();
    if (hasVersion > 1) throw new MalformedError('bad version flag');
    const v = r.u64();
    const currentVersion = hasVersion === 1 ? v : null;
    const publicKey = r.bytes(MAX_PUBLIC_KEY_BYTES);
    const createdAt = r.u64();
    const updatedAt = r.u64();
    rec = {
      kind: 'wallet',
      seq,
      wallet: { keyType, walletId, threshold, participants, currentVersion, publicKey, createdAt, updatedAt, seq },
    };
  } else if (kind === REC_SHARE) {
    const keyType = readKeyType(r);
    const walletId = r.str(MAX_WALLET_ID_BYTES);
    const version = r.u64();
    const status = STATUS_NAME[r.u8()];
    if (!status) throw new MalformedError('unknown share status');
    const threshold = r.u32();
    const participants = readParticipants(r);
    const createdAt = r.u64();
    const updatedAt = r.u64();
    if (status === 'retired' && formatVersion >= 2)
      throw new MalformedError(
        'a share record of a retired version carries a secret (format 2 writes retired versions without one)',
      );
    const share = Buffer.from(r.bytesView(MAX_SHARE_BYTES));
    rec = {
      kind: 'share',
      seq,
      info: { keyType, walletId, version, status, threshold, participants, dataKeyId: 0, createdAt, updatedAt, seq },
      share,
    };
  } else if (kind === REC_SHARE_RETIRED && formatVersion >= 2) {
    const keyType = readKeyType(r);
    const walletId = r.str(MAX_WALLET_ID_BYTES);
    const version = r.u64();
    const threshold = r.u32();
    const participants = readParticipants(r);
    const createdAt = r.u64();
    const updatedAt = r.u64();
    const hasBy = r.u8();
    if (hasBy > 1) throw new MalformedError('bad retired-by flag');
    const by = r.u64();
    rec = {
      kind: 'share-retired',
      seq,
      info: {
        keyType,
        walletId,
        version,
        status: 'retired',
        threshold,
        participants,
        dataKeyId: 0,
        createdAt,
        updatedAt,
        seq,
      },
      retiredBy: hasBy === 1 ? by : null,
    };
  } else if (kind === REC_WALLET_DELETED) {
    rec = { kind: 'wallet-deleted', seq, keyType: readKeyType(r), walletId: r.str(MAX_WALLET_ID_BYTES), at: r.u64() };
  } else if (kind === REC_SHARE_DELETED) {
    rec = {
      kind: 'share-deleted',
      seq,
      keyType: readKeyType(r),
      walletId: r.str(MAX_WALLET_ID_BYTES),
      version: r.u64(),
      at: r.u64(),
    };
  } else throw new MalformedError(`unknown record kind ${kind}`);
  r.end();
  return rec;
}

// ---------------------------------------------------------------- file names

/** What a backup file's name says (checked against its manifest when it is read). */
export interface BackupName {
  name: string;
  /** First 16 hex digits of the vault id. */
  vaultTag: string;
  chain: number;
  fromSeq: number;
  toSeq: number;
  kind: BackupKind;
}

const NAME_RE = /^tessera-([0-9a-f]{16})-c(\d{6})-(\d{16})-(\d{16})-(full|incr)\.age$/;

/**
 * `tessera-<vault tag>-c<chain>-<from>-<to>-<full|incr>.age`, zero-padded so that names sort in
 * chain order: by chain, then by the start of the range (strictly increasing within a chain).
 */
export function backupFileName(
  vaultId: string,
  chain: number,
  fromSeq: number,
  toSeq: number,
  kind: BackupKind,
): string {
  return (
    `tessera-${vaultId.slice(0, 16)}-c${String(chain).padStart(6, '0')}-${String(fromSeq).padStart(16, '0')}-` +
    `${String(toSeq).padStart(16, '0')}-${kind === 'full' ? 'full' : 'incr'}.age`
  );
}

/** Parses a backup file name; null if `name` is not one. */
export function parseBackupFileName(name: string): BackupName | null {
  const m = NAME_RE.exec(name);
  if (!m) return null;
  return {
    name,
    vaultTag: m[1]!,
    chain: Number(m[2]),
    fromSeq: Number(m[3]),
    toSeq: Number(m[4]),
    kind: m[5] === 'full' ? 'full' : 'incremental',
  };
}

/** Prefix of the temporary files a run writes (ignored by verify, removed by the next run). */
export const TEMP_PREFIX = '.tessera-backup-';
