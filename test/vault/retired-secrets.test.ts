// Review finding R-E at the vault: retiring a version destroys its secret (the sealed record and
// its signing-log entries) in the same transaction, keeps its public metadata, and leaves no copy
// of the record in the write-ahead log after the commit.
import { cpSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidStateError, ShareDestroyedError } from '../../src/common/errors.js';
import { openDatabase, SCHEMA_VERSION } from '../../src/vault/database.js';
import { unlockKeyring } from '../../src/vault/keyring-store.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, rawSql, share, tempDir } from '../helpers/vault.js';

const ctx = (b: number) => new Uint8Array(32).fill(b);

/** The rows of the shares table joined with whether a sealed record exists. */
function sharesWithRecords(dir: string) {
  return rawSql(
    dir,
    'pw',
    'SELECT s.wallet_id, s.version, s.status, s.retired_by, r.share_id IS NOT NULL AS has_record, (SELECT count(*) FROM signing_log l WHERE l.wallet_id = s.wallet_id AND l.version = s.version) AS log FROM shares s LEFT JOIN records r ON r.share_id = s.id ORDER BY s.wallet_id, s.version',
  );
}

describe('retiring a version destroys its secret [5/R-E]', () => {
  it('activate, putShare with activate and retireActive delete the retired sealed record and its signing-log entries; its public metadata stays', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('a', 1), activate: true });
    v.claimSigningContext('eddsa', 'a', 1, ctx(1));
    v.putShare(share('a', 2, 2, { threshold: 2, participants: ['n1', 'n2', 'n4'] }));
    v.activate('eddsa', 'a', 2); // reshare: pending v2 activated
    v.putShare({ ...share('b', 1), activate: true });
    v.putShare({ ...share('b', 2), activate: true }); // activation in the put itself
    v.putShare({ ...share('c', 1), activate: true });
    v.claimSigningContext('eddsa', 'c', 1, ctx(3));
    v.retireActive('eddsa', 'c'); // this node left the committee
    const info = v.listVersions('eddsa', 'a')[0]!;
    expect(info).toMatchObject({
      version: 1,
      status: 'retired',
      threshold: 1,
      participants: ['node0', 'node1', 'node2'],
      dataKeyId: 0,
    });
    expect(v.getWallet('eddsa', 'a')).toMatchObject({
      currentVersion: 2,
      threshold: 2,
      participants: ['n1', 'n2', 'n4'],
    });
    expect(Buffer.from(v.getWallet('eddsa', 'c').publicKey)).toEqual(Buffer.alloc(32, 7));
    expect(v.status().shares).toEqual({ pending: 0, active: 2, retired: 3 });
    expect((await v.verify()).problems).toEqual([]);
    v.close();
    expect(await sharesWithRecords(dir)).toEqual([
      { wallet_id: 'a', version: 1, status: 3, retired_by: 2, has_record: 0, log: 0 },
      { wallet_id: 'a', version: 2, status: 2, retired_by: null, has_record: 1, log: 0 },
      { wallet_id: 'b', version: 1, status: 3, retired_by: 2, has_record: 0, log: 0 },
      { wallet_id: 'b', version: 2, status: 2, retired_by: null, has_record: 1, log: 0 },
      { wallet_id: 'c', version: 1, status: 3, retired_by: null, has_record: 0, log: 0 },
    ]);
  });

  it('getShare of a retired version refuses with ShareDestroyedError saying which activation destroyed it and what to use instead; no secret is returned', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 4), activate: true });
    v.putShare(share('w', 5));
    v.activate('eddsa', 'w', 5);
    let err: unknown;
    try {
      v.getShare('eddsa', 'w', 4);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShareDestroyedError);
    expect(err).toBeInstanceOf(InvalidStateError);
    expect((err as ShareDestroyedError).code).toBe('INVALID_STATE');
    expect((err as Error).message).toBe(
      'share eddsa/w v4 is retired: its secret share was destroyed when version 5 was activated, so that a reshare expels the members of the old committee; only its public metadata is kept. Use the active version 5 (read the share without a version).',
    );
    expect(v.getShare('eddsa', 'w').version).toBe(5);
    expect(() => v.updateShare('eddsa', 'w', 4, Uint8Array.of(1))).toThrow(InvalidStateError);
    expect(() => v.claimSigningContext('eddsa', 'w', 4, ctx(1))).toThrow(ShareDestroyedError);
    v.close();
  });

  it('the change stream carries a retired version as metadata only (share-retired, no sealed bytes)', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare({ ...share('w', 2), activate: true });
    const changes = v.changesSince(0);
    expect(changes.map((c) => c.kind)).toEqual(['share-retired', 'share', 'wallet']);
    const retired = changes[0]!;
    expect(retired).toMatchObject({ kind: 'share-retired', retiredBy: 2, info: { version: 1, status: 'retired' } });
    expect('sealed' in retired).toBe(false);
    v.close();
  });

  it('secure_delete is on for the vault connection and the write-ahead log is truncated right after a destroying commit', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the private connection's pragma on purpose
    const db = (v as any).db as { pragma(s: string, o: { simple: true }): unknown };
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare(share('w', 2));
    const wal = join(dir, 'vault.db-wal');
    expect(statSync(wal).size).toBeGreaterThan(4096); // the records are in the log
    v.activate('eddsa', 'w', 2);
    // every frame (including those holding v1's record) was folded into the database, where
    // secure_delete zeroed the record's cells and pages, and the log was cut to nothing
    expect(statSync(wal).size).toBe(0);
    v.putShare({ ...share('x', 1), activate: true }); // an ordinary write: the log is in use again
    expect(statSync(wal).size).toBeGreaterThan(0);
    v.close();
    expect(existsSync(wal)).toBe(false);
    const v2 = await Vault.open(dir, password('pw'));
    // biome-ignore lint/suspicious/noExplicitAny: as above
    expect(((v2 as any).db as typeof db).pragma('secure_delete', { simple: true })).toBe(1);
    v2.close();
  });

  it('a destroy whose log truncation is blocked by a reader leaves the log marked, and the next write truncates it', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare(share('w', 2));
    // another connection (a tool reading the file) holds a read transaction open: the truncating
    // checkpoint after the destroying commit reports busy instead of throwing
    const k = await unlockKeyring(dir, password('pw'));
    const reader = openDatabase(join(dir, 'vault.db'), k.body.pageKeys[0]!.key, true);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM shares').get();
    v.activate('eddsa', 'w', 2);
    const wal = join(dir, 'vault.db-wal');
    expect(statSync(wal).size).toBeGreaterThan(0);
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the private store's flag on purpose
    expect((v as any).store.logScrubPending).toBe(true);
    reader.exec('COMMIT');
    reader.close();
    v.claimSetupContext(new Uint8Array(32).fill(7)); // any later write retries the truncation
    expect(statSync(wal).size).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: as above
    expect((v as any).store.logScrubPending).toBe(false);
    v.close();
  });

  it('verify reports a retired version that still holds a sealed record', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare({ ...share('w', 2), activate: true });
    v.close();
    // as an older build would have left it: a record for the retired v1
    await rawSql(
      dir,
      'pw',
      "INSERT INTO records (share_id, data_key_id, sealed) SELECT id, 1, x'00' FROM shares WHERE version = 1",
    );
    const v2 = await Vault.open(dir, password('pw'));
    const report = await v2.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        part: 'record',
        where: 'share eddsa/w v1',
        what: expect.stringMatching(/retired version still holds its sealed secret/),
      }),
    ]);
    v2.close();
  });
});

describe('upgrading a schema-2 vault (written before retiring destroyed secrets) [5/R-E]', () => {
  it('opening it destroys the secrets of its already-retired versions and keeps everything else', async () => {
    // fixtures/schema2-vault was written by ac6d3f1 (schema 2; password 'pw'): w v1 retired by
    // activating v2 (with a signing-log entry each), x v1 retired by retireActive, y v1 active + v2 pending.
    const dir = join(tempDir(), 'v');
    cpSync(join(import.meta.dirname, 'fixtures', 'schema2-vault'), dir, { recursive: true });
    expect(await rawSql(dir, 'pw', 'SELECT count(*) AS n FROM records')).toEqual([{ n: 5 }]);
    const v = await Vault.open(dir, password('pw'));
    // the upgrade rebuilt the file: no free page (which could hold a copy written before secure_delete) is left
    // biome-ignore lint/suspicious/noExplicitAny: the test reads the private connection's pragma on purpose
    expect((v as any).db.pragma('freelist_count', { simple: true })).toBe(0);
    expect(() => v.getShare('eddsa', 'w', 1)).toThrow(/destroyed when it was retired/);
    expect(() => v.getShare('eddsa', 'x', 1)).toThrow(ShareDestroyedError);
    expect(Buffer.from(v.getShare('eddsa', 'w').share)).toEqual(Buffer.alloc(4096, 0x22));
    expect(Buffer.from(v.getShare('eddsa', 'y', 1).share)).toEqual(Buffer.alloc(4096, 0x41));
    expect(Buffer.from(v.getShare('eddsa', 'y', 2).share)).toEqual(Buffer.alloc(4096, 0x42));
    expect(v.listVersions('eddsa', 'w').map((s) => s.status)).toEqual(['retired', 'active']);
    expect(v.claimSigningContext('eddsa', 'w', 2, ctx(2))).toBe(false); // the active version's log is kept
    expect(v.claimSetupContext(ctx(9))).toBe(true); // the setup log exists
    expect((await v.verify()).problems).toEqual([]);
    // a key rotation copies every table into the new schema: the upgraded column order matches
    await v.rotateKey();
    expect(v.claimSetupContext(ctx(9))).toBe(false);
    expect((await v.verify()).problems).toEqual([]);
    v.close();
    expect(await rawSql(dir, 'pw', "SELECT v FROM meta WHERE k = 'schema_version'")).toEqual([{ v: SCHEMA_VERSION }]);
    expect(await sharesWithRecords(dir)).toEqual([
      { wallet_id: 'w', version: 1, status: 3, retired_by: null, has_record: 0, log: 0 },
      { wallet_id: 'w', version: 2, status: 2, retired_by: null, has_record: 1, log: 1 },
      { wallet_id: 'x', version: 1, status: 3, retired_by: null, has_record: 0, log: 0 },
      { wallet_id: 'y', version: 1, status: 2, retired_by: null, has_record: 1, log: 0 },
      { wallet_id: 'y', version: 2, status: 1, retired_by: null, has_record: 1, log: 0 },
    ]);
  });
});

describe('a pending version below the active one holds no secret [6/F1]', () => {
  it('activating v3 also retires an older version that is still pending, destroying its secret', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare(share('w', 2)); // reshare v1 → v2: still pending here (a withheld confirmation), never activated
    v.putShare(share('w', 3)); // reshare v2 → v3 expelling a member
    v.activate('eddsa', 'w', 3);
    expect(() => v.getShare('eddsa', 'w', 1)).toThrow(ShareDestroyedError);
    expect(() => v.getShare('eddsa', 'w', 2)).toThrow(ShareDestroyedError);
    expect(v.listVersions('eddsa', 'w').map((s) => [s.version, s.status])).toEqual([
      [1, 'retired'],
      [2, 'retired'],
      [3, 'active'],
    ]);
    expect(v.changesSince(0).some((c) => c.kind === 'share' && c.info.version === 2)).toBe(false);
    v.close();
  });

  it('putShare with activate retires the older pending versions too, and retireActive those below the retired one', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare(share('w', 2));
    v.putShare({ ...share('w', 3), activate: true });
    expect(() => v.getShare('eddsa', 'w', 2)).toThrow(ShareDestroyedError);
    v.putShare(share('w', 4));
    v.putShare(share('w', 5));
    v.activate('eddsa', 'w', 5); // v4 retired with it
    v.putShare({ ...share('x', 1), activate: true });
    v.putShare(share('x', 2));
    v.putShare(share('x', 3));
    v.activate('eddsa', 'x', 3);
    v.putShare(share('x', 4)); // pending above the active one: a reshare still in progress is kept
    v.retireActive('eddsa', 'x');
    expect(v.listVersions('eddsa', 'x').map((s) => s.status)).toEqual(['retired', 'retired', 'retired', 'pending']);
    expect(v.getShare('eddsa', 'x', 4).share.length).toBeGreaterThan(0);
    v.close();
  });

  it('upgrading a vault that holds a pending version below its active one (left by a build before schema 3) retires it and destroys its secret', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare(share('w', 2));
    v.putShare(share('w', 3));
    v.close();
    // what the build before this fix left after activating v3: v2 still pending with its record
    await rawSql(
      dir,
      'pw',
      "UPDATE shares SET status = 2 WHERE wallet_id = 'w' AND version = 3; UPDATE shares SET status = 3, retired_by = 3 WHERE wallet_id = 'w' AND version = 1; DELETE FROM records WHERE share_id IN (SELECT id FROM shares WHERE wallet_id = 'w' AND version = 1); UPDATE wallets SET current_version = 3 WHERE wallet_id = 'w'; UPDATE meta SET v = 2 WHERE k = 'schema_version';",
    );
    const before = (await rawSql(
      dir,
      'pw',
      'SELECT count(*) AS n FROM records r JOIN shares s ON s.id = r.share_id WHERE s.version = 2',
    )) as { n: number }[];
    expect(before[0]!.n).toBe(1);
    const again = await Vault.open(dir, password('pw'));
    expect(() => again.getShare('eddsa', 'w', 2)).toThrow(ShareDestroyedError);
    expect(again.listVersions('eddsa', 'w').find((s) => s.version === 2)?.status).toBe('retired');
    expect((await again.verify()).ok).toBe(true);
    again.close();
    const after = (await rawSql(
      dir,
      'pw',
      'SELECT count(*) AS n FROM records r JOIN shares s ON s.id = r.share_id WHERE s.version = 2',
    )) as { n: number }[];
    expect(after[0]!.n).toBe(0);
  });
});
