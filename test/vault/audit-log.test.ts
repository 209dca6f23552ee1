// The node's audit log in the vault: a hash chain whose head is sealed under the vault's data key.
// Tamper tests edit the database behind the vault's back with the page key from the keyring
// (`rawSql`, as an attacker holding the page key could): every edit, removal, reorder, cut-off tail,
// row from another vault and forged head must be found and named.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter, MalformedError } from '../../src/common/bytes.js';
import { InvalidArgumentError, VaultCorruptedError } from '../../src/common/errors.js';
import {
  AUDIT_LIMITS,
  type AuditEntryInput,
  type AuditVerifyReport,
  auditChainHash,
  decodeAuditEntry,
  encodeAuditEntry,
} from '../../src/vault/audit-log.js';
import { SCHEMA_VERSION } from '../../src/vault/database.js';
import { Vault } from '../../src/vault/vault.js';
import { backedUpAndRestored } from '../backup/helpers.js';
import { fixturePath } from '../formats/pin.js';
import { FAST_ARGON2, password, rawSql, share, tempDir } from '../helpers/vault.js';

const PW = 'pw';
const T0 = Date.UTC(2025, 0, 1);

function entry(i: number, extra: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    time: T0 + i * 1000,
    actor: `initiator-${i % 2}`,
    action: i % 3 === 0 ? 'keygen' : 'sign',
    walletId: `wallet-${i}`,
    sessionId: `session-${i}`,
    outcome: 'ok',
    details: { attempt: 1, parties: 3, hd: i % 2 === 0 },
    ...extra,
  };
}

/** A new vault holding `n` audit entries (1..n), closed. */
async function vaultWith(n: number, dir = tempDir()): Promise<{ dir: string; vaultId: Uint8Array }> {
  const v = await Vault.create(dir, password(PW), { argon2: FAST_ARGON2 });
  for (let i = 1; i <= n; i++) v.appendAudit(entry(i));
  const vaultId = Buffer.from(v.id, 'hex');
  v.close();
  return { dir, vaultId };
}

async function withOpen<T>(dir: string, fn: (v: Vault) => T | Promise<T>): Promise<T> {
  const v = await Vault.open(dir, password(PW));
  try {
    return await fn(v);
  } finally {
    v.close();
  }
}

const verifyOf = (dir: string): Promise<AuditVerifyReport> => withOpen(dir, (v) => v.verifyAudit());
const sql = (dir: string, s: string) => rawSql(dir, PW, s);
const X = (b: Uint8Array) => `X'${Buffer.from(b).toString('hex')}'`;

async function rowsOf(dir: string): Promise<{ seq: number; vault_id: Buffer; entry: Buffer; hash: Buffer }[]> {
  return (await sql(dir, 'SELECT seq, vault_id, entry, hash FROM audit_log ORDER BY seq')) as {
    seq: number;
    vault_id: Buffer;
    entry: Buffer;
    hash: Buffer;
  }[];
}

/** Rewrites the stored hashes from `from` on as an attacker who knows the (public) vault id can. */
async function recomputeChain(dir: string, vaultId: Uint8Array, from: number): Promise<void> {
  const rows = await rowsOf(dir);
  let prev: Uint8Array = new Uint8Array(32);
  for (const r of rows) {
    const h = r.seq < from ? r.hash : auditChainHash(vaultId, r.seq, prev, r.entry);
    if (r.seq >= from) await sql(dir, `UPDATE audit_log SET hash = ${X(h)} WHERE seq = ${r.seq}`);
    prev = h;
  }
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('the audit log records entries in a hash chain', () => {
  it('an appended entry reads back exactly, with seq 1, 2, … and its chain hash; the head follows the last entry', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password(PW), { argon2: FAST_ARGON2 });
    expect(v.auditHead()).toEqual({ seq: 0, hash: '00'.repeat(32) });
    const a = v.appendAudit(entry(1));
    const b = v.appendAudit({ time: T0, actor: 'node-2', action: 'backup', outcome: 'error', errorCode: 'IO_ERROR' });
    expect(a).toEqual({ seq: 1, entry: entry(1), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(b.entry).toEqual({ time: T0, actor: 'node-2', action: 'backup', outcome: 'error', errorCode: 'IO_ERROR' });
    const id = Buffer.from(v.id, 'hex');
    const h1 = auditChainHash(id, 1, new Uint8Array(32), encodeAuditEntry(entry(1)));
    expect(a.hash).toBe(Buffer.from(h1).toString('hex'));
    expect(b.hash).toBe(Buffer.from(auditChainHash(id, 2, h1, encodeAuditEntry(b.entry))).toString('hex'));
    expect(v.auditEntries()).toEqual([a, b]);
    expect(v.auditHead()).toEqual({ seq: 2, hash: b.hash });
    expect(v.verifyAudit()).toEqual({ ok: true, entries: 2, head: { seq: 2, hash: b.hash } });
    v.close();
  });

  it('auditEntries pages by after and limit, and refuses a page above 10 000 or a negative start', async () => {
    const { dir } = await vaultWith(7);
    await withOpen(dir, (v) => {
      expect(v.auditEntries({ after: 2, limit: 3 }).map((r) => r.seq)).toEqual([3, 4, 5]);
      expect(v.auditEntries({ after: 5 }).map((r) => r.seq)).toEqual([6, 7]);
      expect(v.auditEntries({ after: 7 })).toEqual([]);
      expect(v.auditEntries({ limit: AUDIT_LIMITS.pageEntries })).toHaveLength(7);
      for (const bad of [{ limit: 0 }, { limit: 10_001 }, { limit: 1.5 }, { after: -1 }, { after: Number.NaN }])
        expect(() => v.auditEntries(bad), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    });
  });

  it('entries survive close and reopen, a key rotation (the head is re-sealed under the new data key) and a password rotation', async () => {
    const { dir } = await vaultWith(3);
    const before = await withOpen(dir, (v) => v.auditEntries());
    expect(await sql(dir, "SELECT substr(hex(v), 1, 8) AS k FROM meta WHERE k = 'audit_head'")).toEqual([
      { k: '00000001' },
    ]);
    await withOpen(dir, async (v) => {
      await v.rotateKey();
      expect(v.verifyAudit().ok).toBe(true);
      v.appendAudit(entry(4));
      await v.rotatePassword(password('pw2'), { argon2: FAST_ARGON2 });
    });
    // data key 1 is gone from the keyring: the head opens only because it was re-sealed under key 2
    const k = await rawSql(dir, 'pw2', "SELECT substr(hex(v), 1, 8) AS k FROM meta WHERE k = 'audit_head'");
    expect(k).toEqual([{ k: '00000002' }]);
    const v = await Vault.open(dir, password('pw2'));
    expect(v.auditEntries().slice(0, 3)).toEqual(before);
    expect(v.auditEntries()[3]!.entry).toEqual(entry(4));
    expect(v.verifyAudit()).toMatchObject({ ok: true, entries: 4, head: { seq: 4 } });
    expect((await v.verify()).problems).toEqual([]);
    v.close();
  });

  it('the audit log is not part of the change stream: backups do not carry it, a restored vault starts a new chain', async () => {
    const v = await Vault.create(tempDir(), password(PW), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    const seq = v.currentSeq();
    v.appendAudit(entry(1));
    expect(v.currentSeq()).toBe(seq);
    expect(v.changesSince(0).map((c) => c.kind)).toEqual(['wallet', 'share']);
    const r = await backedUpAndRestored(v);
    expect(r.auditEntries()).toEqual([]);
    expect(r.verifyAudit()).toMatchObject({ ok: true, entries: 0, head: { seq: 0 } });
    r.close();
  });
});

describe('verifyAudit finds and names every tampering of the stored log', () => {
  it('an intact chain verifies, and so does an empty one', async () => {
    expect(await verifyOf((await vaultWith(0)).dir)).toEqual({
      ok: true,
      entries: 0,
      head: { seq: 0, hash: '00'.repeat(32) },
    });
    expect(await verifyOf((await vaultWith(5)).dir)).toMatchObject({ ok: true, entries: 5, head: { seq: 5 } });
  });

  it('an edited entry is found as edited at its seq, and vault verify reports it', async () => {
    const { dir } = await vaultWith(5);
    const forged = encodeAuditEntry(entry(3, { outcome: 'error', errorCode: 'ERROR_MSG_VALIDATION' }));
    await sql(dir, `UPDATE audit_log SET entry = ${X(forged)} WHERE seq = 3`);
    expect((await verifyOf(dir)).firstBad).toMatchObject({ seq: 3, problem: 'edited' });
    const report = await withOpen(dir, (v) => v.verify());
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ part: 'audit', where: 'audit entry 3' })]);
  });

  it('an edited stored hash, or bytes that do not decode, are found as edited', async () => {
    const a = await vaultWith(4);
    await sql(a.dir, `UPDATE audit_log SET hash = ${X(new Uint8Array(32).fill(1))} WHERE seq = 2`);
    expect((await verifyOf(a.dir)).firstBad).toMatchObject({ seq: 2, problem: 'edited' });
    const b = await vaultWith(4);
    // a malformed entry whose link an attacker recomputed: the hash holds, the bytes are no entry
    await sql(b.dir, `UPDATE audit_log SET entry = X'0102' WHERE seq = 2`);
    await recomputeChain(b.dir, b.vaultId, 2);
    expect((await verifyOf(b.dir)).firstBad).toMatchObject({ seq: 2, problem: 'edited' });
  });

  it('an edit whose chain was recomputed to the end is found as rewritten (the sealed head differs), and nothing is appended after it', async () => {
    const { dir, vaultId } = await vaultWith(5);
    await sql(
      dir,
      `UPDATE audit_log SET entry = ${X(encodeAuditEntry(entry(3, { actor: 'someone-else' })))} WHERE seq = 3`,
    );
    await recomputeChain(dir, vaultId, 3);
    await withOpen(dir, (v) => {
      expect(v.verifyAudit().firstBad).toMatchObject({ seq: 5, problem: 'rewritten' });
      const e = thrown(() => v.appendAudit(entry(6)));
      expect(e).toBeInstanceOf(VaultCorruptedError);
      expect((e as VaultCorruptedError).part).toBe('audit');
      expect(v.auditEntries()).toHaveLength(5);
    });
  });

  it('a removed middle entry is found as removed', async () => {
    const { dir } = await vaultWith(5);
    await sql(dir, 'DELETE FROM audit_log WHERE seq = 3');
    expect(await verifyOf(dir)).toMatchObject({ ok: false, entries: 4, firstBad: { seq: 3, problem: 'removed' } });
  });

  it('two entries swapped are found as reordered, whether whole rows or only their entries moved', async () => {
    const a = await vaultWith(5);
    await sql(
      a.dir,
      'UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; ' +
        'UPDATE audit_log SET seq = 3 WHERE seq = 100;',
    );
    expect((await verifyOf(a.dir)).firstBad).toMatchObject({ seq: 2, problem: 'reordered', detail: /stored as 3/ });
    const b = await vaultWith(5);
    const rows = await rowsOf(b.dir);
    await sql(b.dir, `UPDATE audit_log SET entry = ${X(rows[3]!.entry)} WHERE seq = 2`);
    await sql(b.dir, `UPDATE audit_log SET entry = ${X(rows[1]!.entry)} WHERE seq = 4`);
    expect((await verifyOf(b.dir)).firstBad).toMatchObject({ seq: 2, problem: 'reordered', detail: /stored as 4/ });
  });

  it('a removed tail is found as truncated (the sealed head names the lost entries), and nothing is appended after it', async () => {
    const { dir } = await vaultWith(5);
    await sql(dir, 'DELETE FROM audit_log WHERE seq > 3');
    await withOpen(dir, (v) => {
      expect(v.verifyAudit()).toMatchObject({
        ok: false,
        entries: 3,
        head: { seq: 5 },
        firstBad: { seq: 4, problem: 'truncated' },
      });
      expect(() => v.appendAudit(entry(4))).toThrow(VaultCorruptedError);
      expect(v.verifyAudit().firstBad).toMatchObject({ seq: 4, problem: 'truncated' });
    });
    const all = await vaultWith(2);
    await sql(all.dir, 'DELETE FROM audit_log');
    expect((await verifyOf(all.dir)).firstBad).toMatchObject({ seq: 1, problem: 'truncated' });
  });

  it('an entry copied from another vault is found as foreign, or as edited once relabelled with this vault id', async () => {
    const a = await vaultWith(4);
    const b = await vaultWith(4);
    const theirs = (await rowsOf(b.dir))[2]!;
    await sql(
      a.dir,
      `UPDATE audit_log SET vault_id = ${X(theirs.vault_id)}, entry = ${X(theirs.entry)}, ` +
        `hash = ${X(theirs.hash)} WHERE seq = 3`,
    );
    expect((await verifyOf(a.dir)).firstBad).toMatchObject({ seq: 3, problem: 'foreign' });
    await sql(a.dir, `UPDATE audit_log SET vault_id = ${X(a.vaultId)} WHERE seq = 3`);
    expect((await verifyOf(a.dir)).firstBad).toMatchObject({ seq: 3, problem: 'edited' });
  });

  it("a row added behind the vault's back, even with a correct link, is found as appended", async () => {
    const { dir, vaultId } = await vaultWith(3);
    const rows = await rowsOf(dir);
    const bytes = encodeAuditEntry(entry(4));
    const h = auditChainHash(vaultId, 4, rows[2]!.hash, bytes);
    await sql(dir, `INSERT INTO audit_log VALUES (4, ${X(vaultId)}, ${X(bytes)}, ${X(h)})`);
    expect((await verifyOf(dir)).firstBad).toMatchObject({ seq: 4, problem: 'appended' });
    await sql(dir, 'DELETE FROM audit_log WHERE seq = 4');
    await sql(dir, `INSERT INTO audit_log VALUES (0, ${X(vaultId)}, ${X(bytes)}, ${X(h)})`);
    expect((await verifyOf(dir)).firstBad).toMatchObject({ seq: 0, problem: 'appended' });
  });

  it("a missing head (also with the whole log removed) or another vault's head is never taken for an intact log", async () => {
    const a = await vaultWith(3);
    await sql(a.dir, "DELETE FROM meta WHERE k = 'audit_head'");
    expect(await verifyOf(a.dir)).toMatchObject({ ok: false, head: null, firstBad: { problem: 'anchor' } });
    await withOpen(a.dir, (v) => {
      expect(() => v.auditHead()).toThrow(VaultCorruptedError);
      expect(() => v.appendAudit(entry(4))).toThrow(VaultCorruptedError);
    });
    // the whole log and its head removed: still not an empty, intact log
    const b = await vaultWith(3);
    await sql(b.dir, "DELETE FROM audit_log; DELETE FROM meta WHERE k = 'audit_head'");
    expect((await verifyOf(b.dir)).firstBad).toMatchObject({ problem: 'anchor' });
    // a head sealed by another vault does not open here
    const c = await vaultWith(3);
    const d = await vaultWith(3);
    const [theirs] = (await sql(d.dir, "SELECT v FROM meta WHERE k = 'audit_head'")) as { v: Buffer }[];
    await sql(c.dir, `UPDATE meta SET v = ${X(theirs!.v)} WHERE k = 'audit_head'`);
    expect((await verifyOf(c.dir)).firstBad).toMatchObject({ problem: 'anchor', detail: /does not authenticate/ });
  });
});

describe('audit entries hold no secrets and no control characters', () => {
  const blob = 'ab'.repeat(2048); // a 4 KiB hex "secret"
  const cases: [string, unknown][] = [
    ['a large blob in details', { ...entry(1), details: { share: blob } }],
    ['a large blob as the session id', { ...entry(1), sessionId: blob }],
    [
      'many details adding up to more than 8 KiB',
      { ...entry(1), details: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'x'.repeat(500)])) },
    ],
    [
      'more than 32 details',
      { ...entry(1), details: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
    ],
    ['bytes as a detail', { ...entry(1), details: { key: new Uint8Array(32) } }],
    ['a nested object as a detail', { ...entry(1), details: { key: { a: 1 } } }],
    ['a Buffer as details', { ...entry(1), details: Buffer.alloc(4) }],
    ['a fractional number', { ...entry(1), details: { ms: 1.5 } }],
    ['NaN', { ...entry(1), details: { ms: Number.NaN } }],
    ['an unknown field', { ...entry(1), password: 'hunter2' }],
    ['a newline in the actor (log injection)', { ...entry(1), actor: 'alice\n2025 admin ok' }],
    ['an escape sequence in a detail', { ...entry(1), details: { note: '\u001b[31mred' } }],
    ['a NUL in the wallet id', { ...entry(1), walletId: 'w\u0000' }],
    ['a C1 control character', { ...entry(1), actor: 'a\u0085b' }],
    ['a bidirectional override', { ...entry(1), sessionId: 'abc\u202edcb' }],
    ['a lone surrogate', { ...entry(1), actor: 'a\ud800' }],
    ['a space in the action', { ...entry(1), action: 'sign now' }],
    ['an empty outcome', { ...entry(1), outcome: '' }],
    ['a detail key that is not a token', { ...entry(1), details: { 'a b': 1 } }],
    ['an empty actor', { ...entry(1), actor: '' }],
    ['a negative time', { ...entry(1), time: -1 }],
    ['a time beyond what a Date holds', { ...entry(1), time: 8.64e15 + 1 }],
    ['a missing outcome', { time: T0, actor: 'a', action: 'sign' }],
    ['not an object', 'sign ok'],
  ];

  it('each is refused with InvalidArgumentError naming the field (never echoing the value), and nothing is appended', async () => {
    const v = await Vault.create(tempDir(), password(PW), { argon2: FAST_ARGON2 });
    for (const [what, input] of cases) {
      const e = thrown(() => v.appendAudit(input as AuditEntryInput));
      expect(e, what).toBeInstanceOf(InvalidArgumentError);
      expect((e as Error).message, what).not.toContain(blob.slice(0, 64));
      expect((e as Error).message, what).not.toContain('hunter2');
    }
    expect(v.auditHead().seq).toBe(0);
    expect(v.auditEntries()).toEqual([]);
    // the limits themselves are accepted
    v.appendAudit({ ...entry(1), actor: 'é'.repeat(128), details: { note: 'x'.repeat(512), n: -(2 ** 53 - 1) } });
    expect(v.verifyAudit()).toMatchObject({ ok: true, entries: 1 });
    v.close();
  });
});

describe('the canonical entry encoding', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,15}$/);
  const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }).filter(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters the vault refuses
    (s) => s.isWellFormed() && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(s),
  );
  const value = fc.oneof(text, fc.maxSafeInteger(), fc.boolean());
  const entries = fc.record(
    {
      time: fc.integer({ min: 0, max: 8.64e15 }),
      actor: text,
      action: token,
      walletId: text,
      sessionId: text,
      outcome: token,
      errorCode: token,
      details: fc.dictionary(token, value, { maxKeys: 8 }),
    },
    { requiredKeys: ['time', 'actor', 'action', 'outcome'] },
  );

  it('every valid entry round-trips exactly, and the order of its detail keys does not change its bytes', () => {
    fc.assert(
      fc.property(entries, (e) => {
        const b = encodeAuditEntry(e);
        expect(decodeAuditEntry(b)).toEqual(e);
        expect(encodeAuditEntry(decodeAuditEntry(b))).toEqual(b);
        if (e.details) {
          const reversed = Object.fromEntries(Object.entries(e.details).reverse());
          expect(encodeAuditEntry({ ...e, details: reversed })).toEqual(b);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('non-canonical encodings are refused: unsorted or repeated detail keys, a negative zero, a flag of 2, trailing bytes, another format', () => {
    const head = (w: ByteWriter, format = 1) => w.u8(format).u64(T0).str('a').str('sign').u8(0).u8(0).str('ok').u8(0);
    const details = (...fields: ((w: ByteWriter) => unknown)[]) => {
      const w = head(new ByteWriter()).u8(1).u16(fields.length);
      for (const f of fields) f(w);
      return w.finish();
    };
    const int = (k: string, sign: number, m: number) => (w: ByteWriter) => w.str(k).u8(2).u8(sign).u64(m);
    // the well-formed control case decodes
    expect(decodeAuditEntry(details(int('a', 0, 1), int('b', 1, 2))).details).toEqual({ a: 1, b: -2 });
    const bad: [string, Uint8Array][] = [
      ['unsorted keys', details(int('b', 0, 1), int('a', 0, 1))],
      ['a repeated key', details(int('a', 0, 1), int('a', 0, 2))],
      ['negative zero', details(int('a', 1, 0))],
      ['a sign of 2', details(int('a', 2, 1))],
      ['a boolean of 2', details((w) => w.str('a').u8(3).u8(2))],
      ['an unknown value type', details((w) => w.str('a').u8(4))],
      ['a presence flag of 2', head(new ByteWriter()).u8(2).finish()],
      ['trailing bytes', head(new ByteWriter()).u8(0).u8(0).finish()],
      ['another format', head(new ByteWriter(), 2).u8(0).finish()],
      [
        'a control character',
        new ByteWriter().u8(1).u64(T0).str('a\n').str('sign').u8(0).u8(0).str('ok').u8(0).u8(0).finish(),
      ],
    ];
    for (const [what, b] of bad) expect(() => decodeAuditEntry(b), what).toThrow(MalformedError);
  });

  it('a changed or cut encoding either fails to decode or is the one encoding of what it decodes to', () => {
    fc.assert(
      fc.property(entries, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (e, at, x, cut) => {
        const b = encodeAuditEntry(e);
        const i = at % b.length;
        const m = cut ? b.slice(0, i) : Uint8Array.from(b, (y, j) => (j === i ? y ^ x : y));
        let decoded: AuditEntryInput;
        try {
          decoded = decodeAuditEntry(m);
        } catch (err) {
          expect(err).toBeInstanceOf(MalformedError);
          return;
        }
        expect(encodeAuditEntry(decoded)).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('schema 3 → 4', () => {
  it('the schema-3 fixture vault opens, gains an empty audit log that verifies, and its entries survive reopening', async () => {
    const dir = join(tempDir(), 'v');
    mkdirSync(dir, { mode: 0o700 });
    for (const f of ['keyring', 'keyring.bak', 'vault.db'])
      cpSync(fixturePath(`vault/schema3-vault/${f}`), join(dir, f));
    const q = (s: string) => rawSql(dir, 'format-pins', s);
    expect(await q("SELECT v FROM meta WHERE k = 'schema_version'")).toEqual([{ v: 3 }]);
    expect(await q("SELECT name FROM sqlite_master WHERE name = 'audit_log'")).toEqual([]);
    const v = await Vault.open(dir, password('format-pins'));
    expect(v.auditHead()).toEqual({ seq: 0, hash: '00'.repeat(32) });
    v.appendAudit(entry(1));
    v.appendAudit(entry(2));
    expect((await v.verify()).problems).toEqual([]);
    v.close();
    expect(await q("SELECT v FROM meta WHERE k = 'schema_version'")).toEqual([{ v: SCHEMA_VERSION }]);
    expect(SCHEMA_VERSION).toBe(4);
    // the stored layout (docs/vault.md, "Audit log")
    expect(await q("SELECT name, type, pk FROM pragma_table_info('audit_log')")).toEqual([
      { name: 'seq', type: 'INTEGER', pk: 1 },
      { name: 'vault_id', type: 'BLOB', pk: 0 },
      { name: 'entry', type: 'BLOB', pk: 0 },
      { name: 'hash', type: 'BLOB', pk: 0 },
    ]);
    expect(await q("SELECT length(v) AS n FROM meta WHERE k = 'audit_head'")).toEqual([{ n: 4 + 1 + 12 + 40 + 16 }]);
    const again = await Vault.open(dir, password('format-pins'));
    expect(again.auditEntries().map((r) => r.entry)).toEqual([entry(1), entry(2)]);
    expect(again.verifyAudit()).toMatchObject({ ok: true, entries: 2, head: { seq: 2 } });
    again.close();
  });

  it('a schema-4 vault whose audit table an older build dropped gets it back on open, and verify reports the lost entries as truncated', async () => {
    const { dir } = await vaultWith(2);
    await sql(dir, 'DROP TABLE audit_log');
    expect((await verifyOf(dir)).firstBad).toMatchObject({ seq: 1, problem: 'truncated' });
  });
});
