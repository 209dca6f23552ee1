/**
 * The node's audit log: every request and its outcome (who, what, when, result — never a secret),
 * appended to a hash chain in the vault, with the chain's head sealed under the vault's primary
 * data key so that whoever can edit the database but does not hold the data keys cannot recompute
 * it, nor cut the tail off unseen (docs/vault.md, "Audit log").
 *
 * ```
 * entry  = u8 format (1) ‖ u64 time ‖ str actor ‖ str action ‖ opt str walletId ‖ opt str sessionId
 *          ‖ str outcome ‖ opt str errorCode ‖ opt details
 *          opt x   = u8 0 | u8 1 ‖ x;   str = u32 len ‖ UTF-8 (common/bytes.ts)
 *          details = u16 n ‖ n × (str key ‖ value), keys in ascending UTF-8 byte order, value =
 *                    u8 1 ‖ str | u8 2 ‖ u8 sign (0 +, 1 −; never −0) ‖ u64 magnitude | u8 3 ‖ u8 0|1
 * hash_i = SHA-256(str "tessera/audit/chain/v1" ‖ vault id (16) ‖ u64 i ‖ hash_{i-1} (32) ‖ u32 len ‖ entry_i)
 *          hash_0 = 32 zero bytes
 * head   = meta.audit_head = u32 data key id ‖ AES-256-GCM envelope of (u64 seq ‖ hash_seq),
 *          associated data "tessera/record/v1" ‖ vault id ‖ u8 2 ‖ u32 data key id (record-seal.ts)
 * ```
 * Appending checks that the last row is the sealed head before it extends the chain, so a damaged
 * log is never sealed over. Rows are never deleted.
 */
import { createHash } from 'node:crypto';
import { ByteReader, ByteWriter, constantTimeEqual, MalformedError } from '../common/bytes.js';
import { InvalidArgumentError, VaultCorruptedError } from '../common/errors.js';
import { AUDIT_HEAD_KEY } from './database.js';
import type { DataKey } from './keyring-format.js';
import { encodeAuditHeadAad, openWithAad, sealWithAad } from './record-seal.js';
import type { VaultStore } from './store.js';
import type { Durability } from './types.js';

/** One audit entry: who asked for what, when, and how it ended. Holds no secret. */
export interface AuditEntryInput {
  /** Milliseconds since the epoch. */
  time: number;
  /** Who asked: an initiator id, a node id, an operator. */
  actor: string;
  /** What was asked: 'keygen', 'sign', 'reshare', 'ot-resetup', 'backup', … (a token). */
  action: string;
  walletId?: string;
  sessionId?: string;
  /** How it ended: 'ok', 'error', 'duplicate', … (a token). */
  outcome: string;
  /** An error code of the result (a token), e.g. `ERROR_MSG_VALIDATION`. */
  errorCode?: string;
  /** Small public facts (counts, durations, flags, short ids); numbers are safe integers. */
  details?: Record<string, string | number | boolean>;
}

/** A stored audit entry: its place in the chain and its chain hash (hex). */
export interface AuditRecord {
  seq: number;
  entry: AuditEntryInput;
  hash: string;
}

/** The authenticated head of the chain: the last entry's seq and hash (0 and 64 zeros when empty). */
export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * What `verifyAudit` found first:
 * - `edited`: an entry (or its stored hash) differs from what was appended, or does not decode;
 * - `removed`: entries are missing below the last one;
 * - `reordered`: the entry appended at `seq` is stored at another place;
 * - `truncated`: the authenticated head names entries beyond the last stored one;
 * - `foreign`: the row was written by another vault;
 * - `appended`: a row the vault did not append (beyond the authenticated head, or before seq 1);
 * - `rewritten`: every link holds but the chain does not end at the authenticated head (entries
 *   were edited and the chain recomputed);
 * - `anchor`: the sealed head is missing or does not authenticate.
 */
export type AuditProblem =
  | 'edited'
  | 'removed'
  | 'reordered'
  | 'truncated'
  | 'foreign'
  | 'appended'
  | 'rewritten'
  | 'anchor';

/** The result of `verifyAudit`. */
export interface AuditVerifyReport {
  ok: boolean;
  /** Rows stored. */
  entries: number;
  /** The authenticated head, or null if it is missing or does not authenticate. */
  head: AuditHead | null;
  /** The first problem, in chain order (absent when `ok`). */
  firstBad?: { seq: number; problem: AuditProblem; detail: string };
}

/** Limits of an audit entry; input beyond them is refused (`InvalidArgumentError`). */
export const AUDIT_LIMITS = {
  /** actor, walletId, sessionId: UTF-8 bytes. */
  idBytes: 256,
  /** action, outcome, errorCode and detail keys: tokens of [A-Za-z0-9] then [A-Za-z0-9._:-]. */
  tokenBytes: 64,
  detailKeys: 32,
  /** A detail's string value, UTF-8 bytes. */
  detailValueBytes: 512,
  /** The whole encoded entry. */
  entryBytes: 8192,
  /** Entries returned by one `auditEntries` call. */
  pageEntries: 10_000,
} as const;

/** The latest time a JavaScript Date holds (year 275760). */
const MAX_TIME = 8.64e15;
const ENTRY_FORMAT = 1;
const CHAIN_TAG = 'tessera/audit/chain/v1';
const HASH_BYTES = 32;
const GENESIS = new Uint8Array(HASH_BYTES);
const FIELDS = new Set(['time', 'actor', 'action', 'walletId', 'sessionId', 'outcome', 'errorCode', 'details']);
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// Control characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides: none
// may reach a terminal or a log line from an audit entry.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function checkText(what: string, s: unknown, max: number): void {
  if (typeof s !== 'string' || s.length === 0)
    throw new InvalidArgumentError(`audit ${what} must be a non-empty string`);
  if (Buffer.byteLength(s, 'utf8') > max) throw new InvalidArgumentError(`audit ${what} is longer than ${max} bytes`);
  if (!s.isWellFormed()) throw new InvalidArgumentError(`audit ${what} is not valid Unicode`);
  if (UNPRINTABLE.test(s)) throw new InvalidArgumentError(`audit ${what} contains control characters`);
}

function checkToken(what: string, s: unknown): void {
  if (typeof s !== 'string' || s.length > AUDIT_LIMITS.tokenBytes || !TOKEN.test(s))
    throw new InvalidArgumentError(
      `audit ${what} must be 1 to ${AUDIT_LIMITS.tokenBytes} characters of A-Z a-z 0-9 . _ : - ` +
        '(starting with a letter or digit)',
    );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Checks an audit entry: known fields only, bounded printable strings, tokens where a fixed
 * vocabulary is expected, details of at most 32 string, safe-integer or boolean values. Messages
 * name the field, never its content.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function validateAuditEntry(e: AuditEntryInput): void {
  if (!isPlainObject(e)) throw new InvalidArgumentError('an audit entry must be a plain object');
  for (const k of Object.keys(e))
    if (!FIELDS.has(k)) throw new InvalidArgumentError(`an audit entry has no field '${k.slice(0, 32)}'`);
  if (typeof e.time !== 'number' || !Number.isSafeInteger(e.time) || e.time < 0 || e.time > MAX_TIME)
    throw new InvalidArgumentError('audit time must be a non-negative integer of milliseconds since the epoch');
  checkText('actor', e.actor, AUDIT_LIMITS.idBytes);
  checkToken('action', e.action);
  if (e.walletId !== undefined) checkText('walletId', e.walletId, AUDIT_LIMITS.idBytes);
  if (e.sessionId !== undefined) checkText('sessionId', e.sessionId, AUDIT_LIMITS.idBytes);
  checkToken('outcome', e.outcome);
  if (e.errorCode !== undefined) checkToken('errorCode', e.errorCode);
  if (e.details !== undefined) {
    if (!isPlainObject(e.details)) throw new InvalidArgumentError('audit details must be a plain object');
    const keys = Object.keys(e.details);
    if (keys.length > AUDIT_LIMITS.detailKeys)
      throw new InvalidArgumentError(`audit details hold more than ${AUDIT_LIMITS.detailKeys} keys`);
    for (const k of keys) {
      checkToken('detail key', k);
      const v = e.details[k];
      if (typeof v === 'string') checkText(`detail '${k}'`, v, AUDIT_LIMITS.detailValueBytes);
      else if (typeof v === 'number') {
        if (!Number.isSafeInteger(v))
          throw new InvalidArgumentError(`audit detail '${k}' must be a safe integer (put other numbers in a string)`);
      } else if (typeof v !== 'boolean')
        throw new InvalidArgumentError(`audit detail '${k}' must be a string, a safe integer or a boolean`);
    }
  }
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function optStr(w: ByteWriter, s: string | undefined): void {
  if (s === undefined) w.u8(0);
  else w.u8(1).str(s);
}

/**
 * The canonical encoding of a valid entry (layout in the module comment): one encoding per entry,
 * whatever the order of its detail keys.
 * @throws InvalidArgumentError if the entry is not valid (`validateAuditEntry`) or encodes to more
 *   than `AUDIT_LIMITS.entryBytes`.
 */
export function encodeAuditEntry(e: AuditEntryInput): Uint8Array {
  validateAuditEntry(e);
  const w = new ByteWriter(256);
  w.u8(ENTRY_FORMAT).u64(e.time).str(e.actor).str(e.action);
  optStr(w, e.walletId);
  optStr(w, e.sessionId);
  w.str(e.outcome);
  optStr(w, e.errorCode);
  if (e.details === undefined) w.u8(0);
  else {
    const keys = Object.keys(e.details).sort(utf8Order);
    w.u8(1).u16(keys.length);
    for (const k of keys) {
      const v = e.details[k]!;
      w.str(k);
      if (typeof v === 'string') w.u8(1).str(v);
      else if (typeof v === 'number')
        w.u8(2)
          .u8(v < 0 ? 1 : 0)
          .u64(Math.abs(v));
      else w.u8(3).u8(v ? 1 : 0);
    }
  }
  const out = w.finish();
  if (out.length > AUDIT_LIMITS.entryBytes)
    throw new InvalidArgumentError(`an audit entry encodes to more than ${AUDIT_LIMITS.entryBytes} bytes`);
  return out;
}

function readOpt<T>(r: ByteReader, read: () => T): T | undefined {
  const flag = r.u8();
  if (flag > 1) throw new MalformedError('presence flag is neither 0 nor 1');
  return flag === 1 ? read() : undefined;
}

/**
 * Decodes `encodeAuditEntry`'s bytes, strictly: the result re-encodes to the same bytes and
 * passes `validateAuditEntry`.
 * @throws MalformedError for anything else (truncated, trailing bytes, unsorted keys, −0, an
 *   invalid field).
 */
export function decodeAuditEntry(b: Uint8Array): AuditEntryInput {
  if (b.length > AUDIT_LIMITS.entryBytes) throw new MalformedError('audit entry too long');
  const r = new ByteReader(b);
  if (r.u8() !== ENTRY_FORMAT) throw new MalformedError('unknown audit entry format');
  const time = r.u64();
  const actor = r.str(AUDIT_LIMITS.idBytes);
  const action = r.str(AUDIT_LIMITS.tokenBytes);
  const walletId = readOpt(r, () => r.str(AUDIT_LIMITS.idBytes));
  const sessionId = readOpt(r, () => r.str(AUDIT_LIMITS.idBytes));
  const outcome = r.str(AUDIT_LIMITS.tokenBytes);
  const errorCode = readOpt(r, () => r.str(AUDIT_LIMITS.tokenBytes));
  const details = readOpt(r, () => {
    const n = r.u16();
    const entries: [string, string | number | boolean][] = [];
    for (let i = 0; i < n; i++) {
      const k = r.str(AUDIT_LIMITS.tokenBytes);
      if (i > 0 && utf8Order(entries[i - 1]![0], k) >= 0)
        throw new MalformedError('detail keys are not in ascending order');
      const type = r.u8();
      if (type === 1) entries.push([k, r.str(AUDIT_LIMITS.detailValueBytes)]);
      else if (type === 2) {
        const sign = r.u8();
        const m = r.u64();
        if (sign > 1 || (sign === 1 && m === 0)) throw new MalformedError('non-canonical integer');
        entries.push([k, sign === 1 ? -m : m]);
      } else if (type === 3) {
        const f = r.u8();
        if (f > 1) throw new MalformedError('boolean is neither 0 nor 1');
        entries.push([k, f === 1]);
      } else throw new MalformedError(`unknown detail type ${type}`);
    }
    // fromEntries defines own properties: a key can never reach the prototype
    return Object.fromEntries(entries);
  });
  r.end();
  // in the interface's field order (JSON output), absent fields left out
  const e: AuditEntryInput = {
    time,
    actor,
    action,
    ...(walletId === undefined ? {} : { walletId }),
    ...(sessionId === undefined ? {} : { sessionId }),
    outcome,
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(details === undefined ? {} : { details }),
  };
  try {
    validateAuditEntry(e);
  } catch (err) {
    throw new MalformedError((err as Error).message);
  }
  return e;
}

/** hash_seq of the chain (layout in the module comment). Throws `InvalidArgumentError` for a bad seq. */
export function auditChainHash(vaultId: Uint8Array, seq: number, prev: Uint8Array, entry: Uint8Array): Uint8Array {
  const w = new ByteWriter(128 + entry.length);
  w.tag(CHAIN_TAG).raw(vaultId).u64(seq).raw(prev).bytes(entry);
  return createHash('sha256').update(w.finish()).digest();
}

// ---------------------------------------------------------------- the sealed head

interface Head {
  seq: number;
  hash: Uint8Array;
}

/** The sealed head as stored in `meta`: u32 data key id ‖ envelope of (u64 seq ‖ hash). */
export function sealHead(vaultId: Uint8Array, key: DataKey, head: Head): Buffer {
  const plain = new ByteWriter(48).u64(head.seq).raw(head.hash).finish();
  const envelope = sealWithAad(key.key, encodeAuditHeadAad(vaultId, key.id), plain);
  return Buffer.from(new ByteWriter(96).u32(key.id).raw(envelope).finish());
}

/** The sealed head of an empty log (what `create` and the schema 3 → 4 upgrade store). */
export function sealedGenesisHead(vaultId: Uint8Array, key: DataKey): Buffer {
  return sealHead(vaultId, key, { seq: 0, hash: GENESIS });
}

type OpenedHead = { ok: true; head: Head; dataKeyId: number } | { ok: false; why: string };

/** Opens the stored head; never throws for damage (says why instead). */
function openHead(store: VaultStore): OpenedHead {
  const row = store.stmt('SELECT v FROM meta WHERE k = ?').get(AUDIT_HEAD_KEY) as { v: unknown } | undefined;
  if (row === undefined) return { ok: false, why: 'the sealed head of the audit log is missing' };
  if (!(row.v instanceof Uint8Array) || row.v.length < 4)
    return { ok: false, why: 'the sealed head of the audit log is malformed' };
  const dataKeyId = Buffer.from(row.v).readUInt32BE(0);
  const key = store.body.dataKeys.find((k) => k.id === dataKeyId);
  if (!key)
    return { ok: false, why: `the head is sealed under data key ${dataKeyId}, which the keyring does not hold` };
  const plain = openWithAad(key.key, encodeAuditHeadAad(store.header.vaultId, dataKeyId), row.v.subarray(4));
  if (plain === null || plain.length !== 8 + HASH_BYTES)
    return { ok: false, why: 'the sealed head does not authenticate (edited, or from another vault)' };
  const r = new ByteReader(plain);
  try {
    return { ok: true, head: { seq: r.u64(), hash: r.raw(HASH_BYTES) }, dataKeyId };
  } catch {
    return { ok: false, why: 'the sealed head holds a sequence number out of range' };
  }
}

/**
 * Re-seals the head under the primary data key if another key seals it (key rotation, before the
 * old keys are dropped). A head that does not open is left as it is: `verifyAudit` reports it.
 */
export function resealAuditHead(store: VaultStore): void {
  store.transaction('reseal the audit head', () => {
    const opened = openHead(store);
    const primary = store.primaryKey();
    if (!opened.ok || opened.dataKeyId === primary.id) return;
    store
      .stmt('UPDATE meta SET v = ? WHERE k = ?')
      .run(sealHead(store.header.vaultId, primary, opened.head), AUDIT_HEAD_KEY);
  });
}

// ---------------------------------------------------------------- rows

interface AuditRow {
  seq: number;
  vault_id: unknown;
  entry: unknown;
  hash: unknown;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const isBytes = (v: unknown, n?: number): v is Uint8Array =>
  v instanceof Uint8Array && (n === undefined || v.length === n);

function lastRow(store: VaultStore): AuditRow | undefined {
  return store.stmt('SELECT seq, vault_id, entry, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
    | AuditRow
    | undefined;
}

/** Rows with seq above `after`, in seq order, read in pages of 1000 (call inside one transaction). */
function* rowsAfter(store: VaultStore, after: number): Generator<AuditRow> {
  const page = store.stmt('SELECT seq, vault_id, entry, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000');
  for (let from = after; ; ) {
    const rows = page.all(from) as AuditRow[];
    if (rows.length === 0) return;
    yield* rows;
    from = rows[rows.length - 1]!.seq;
  }
}

// ---------------------------------------------------------------- the facade's operations

export function appendAudit(store: VaultStore, entry: AuditEntryInput, durability: Durability = 'sync'): AuditRecord {
  const bytes = encodeAuditEntry(entry);
  return store.writeWith(durability, 'append to the audit log', () => {
    const opened = openHead(store);
    const last = lastRow(store);
    const lastSeq = last?.seq ?? 0;
    const lastHash = last === undefined ? GENESIS : isBytes(last.hash, HASH_BYTES) ? last.hash : undefined;
    if (
      !opened.ok ||
      opened.head.seq !== lastSeq ||
      lastHash === undefined ||
      !constantTimeEqual(opened.head.hash, lastHash)
    ) {
      throw new VaultCorruptedError(
        'audit',
        'audit log head',
        `${opened.ok ? `the last entry (${lastSeq}) is not the sealed head (${opened.head.seq})` : opened.why}; ` +
          'nothing is appended to a damaged log',
      );
    }
    const seq = lastSeq + 1;
    const vaultId = store.header.vaultId;
    const hash = auditChainHash(vaultId, seq, opened.head.hash, bytes);
    store
      .stmt('INSERT INTO audit_log (seq, vault_id, entry, hash) VALUES (?, ?, ?, ?)')
      .run(seq, Buffer.from(vaultId), Buffer.from(bytes), Buffer.from(hash));
    store
      .stmt('UPDATE meta SET v = ? WHERE k = ?')
      .run(sealHead(vaultId, store.primaryKey(), { seq, hash }), AUDIT_HEAD_KEY);
    return { seq, entry: decodeAuditEntry(bytes), hash: hex(hash) };
  });
}

export function auditEntries(store: VaultStore, options: { after?: number; limit?: number }): AuditRecord[] {
  const after = options.after ?? 0;
  const limit = options.limit ?? 1000;
  if (!Number.isSafeInteger(after) || after < 0)
    throw new InvalidArgumentError(`after must be a non-negative integer (got ${after})`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > AUDIT_LIMITS.pageEntries)
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${AUDIT_LIMITS.pageEntries} (got ${limit})`);
  return store.guard('read the audit log', () => {
    const rows = store
      .stmt('SELECT seq, vault_id, entry, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(after, limit) as AuditRow[];
    return rows.map((r) => {
      try {
        if (!isBytes(r.entry) || !isBytes(r.hash, HASH_BYTES)) throw new MalformedError('not a stored entry');
        return { seq: r.seq, entry: decodeAuditEntry(r.entry), hash: hex(r.hash) };
      } catch (e) {
        throw new VaultCorruptedError(
          'audit',
          `audit entry ${r.seq}`,
          `the stored entry does not decode: ${(e as Error).message}`,
        );
      }
    });
  });
}

export function auditHead(store: VaultStore): AuditHead {
  return store.guard('read the audit head', () => {
    const opened = openHead(store);
    if (!opened.ok) throw new VaultCorruptedError('audit', 'audit log head', opened.why);
    return { seq: opened.head.seq, hash: hex(opened.head.hash) };
  });
}

export function verifyAudit(store: VaultStore): AuditVerifyReport {
  return store.transaction('verify the audit log', () => {
    const opened = openHead(store);
    const head = opened.ok ? { seq: opened.head.seq, hash: hex(opened.head.hash) } : null;
    const entries = (store.stmt('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    const report = (seq: number, problem: AuditProblem, detail: string): AuditVerifyReport => ({
      ok: false,
      entries,
      head,
      firstBad: { seq, problem, detail },
    });
    const vaultId = store.header.vaultId;
    const headSeq = opened.ok ? opened.head.seq : Number.POSITIVE_INFINITY;
    let prev: Uint8Array = GENESIS;
    let expect = 1;
    for (const row of rowsAfter(store, Number.MIN_SAFE_INTEGER)) {
      if (row.seq < expect) return report(row.seq, 'appended', `a row with seq ${row.seq} precedes the chain`);
      if (row.seq > headSeq) {
        if (expect <= headSeq)
          return report(
            expect,
            'truncated',
            `entries ${expect} to ${headSeq} are missing, and the rows after them were added`,
          );
        return report(row.seq, 'appended', `entry ${row.seq} lies beyond the authenticated head ${headSeq}`);
      }
      if (row.seq > expect) return report(expect, 'removed', `entries ${expect} to ${row.seq - 1} are missing`);
      if (!isBytes(row.vault_id, vaultId.length) || !isBytes(row.entry) || !isBytes(row.hash, HASH_BYTES))
        return report(row.seq, 'edited', 'a column of the row does not hold what the vault stores');
      if (!constantTimeEqual(row.vault_id, vaultId))
        return report(row.seq, 'foreign', `the row was written by vault ${hex(row.vault_id)}`);
      const h = auditChainHash(vaultId, row.seq, prev, row.entry);
      if (!constantTimeEqual(h, row.hash)) {
        const moved = findMoved(store, row.seq, prev, row.hash);
        if (moved !== undefined)
          return report(row.seq, 'reordered', `the entry appended as ${row.seq} is stored as ${moved}`);
        return report(
          row.seq,
          'edited',
          'the entry, its hash or the link to the one before differs from what was appended',
        );
      }
      try {
        decodeAuditEntry(row.entry);
      } catch (e) {
        return report(row.seq, 'edited', `the entry does not decode: ${(e as Error).message}`);
      }
      prev = h;
      expect = row.seq + 1;
    }
    const last = expect - 1;
    if (!opened.ok) return report(last, 'anchor', opened.why);
    if (opened.head.seq > last)
      return report(
        last + 1,
        'truncated',
        `the authenticated head is entry ${opened.head.seq}; the log ends at ${last}`,
      );
    if (!constantTimeEqual(opened.head.hash, prev))
      return report(last, 'rewritten', 'every link holds, but the chain does not end at the authenticated head');
    return { ok: true, entries, head };
  });
}

/**
 * Where the entry that belongs at `seq` (after `prev`, with hash `want`) is stored instead, if at a
 * later seq: a row whose entry hashes to `want` here, or to its own stored hash here (a whole row
 * moved). Scans the rest of the log once.
 */
function findMoved(store: VaultStore, seq: number, prev: Uint8Array, want: Uint8Array): number | undefined {
  const vaultId = store.header.vaultId;
  for (const row of rowsAfter(store, seq)) {
    if (!isBytes(row.entry) || !isBytes(row.hash, HASH_BYTES)) continue;
    const h = auditChainHash(vaultId, seq, prev, row.entry);
    if (constantTimeEqual(h, want) || constantTimeEqual(h, row.hash)) return row.seq;
  }
  return undefined;
}
