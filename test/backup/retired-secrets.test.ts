// Review finding R-E at the backups: no backup carries the secret of a retired version, and a
// restore of a chain written before the fix (which did carry them) ends without those secrets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BackupRecord, decodeRecord, encodeRecord } from '../../src/backup/format.js';
import { readBackupFile, restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import { ByteWriter, MalformedError } from '../../src/common/bytes.js';
import { ShareDestroyedError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, rawSql, share, snapshot, snapshotOf, tempDir } from '../helpers/vault.js';
import { newKeys, newVault } from './helpers.js';

/** Every record of every file of `dir` (share bytes as hex). */
async function records(dir: string, files: string[], identity: string): Promise<(BackupRecord & { hex?: string })[]> {
  const out: (BackupRecord & { hex?: string })[] = [];
  for (const f of files) {
    await readBackupFile(join(dir, f), { identities: [identity] }, (rec) => {
      out.push(rec.kind === 'share' ? { ...rec, hex: Buffer.from(rec.share).toString('hex') } : rec);
    });
  }
  return out;
}

describe('backups carry no secret of a retired version [5/R-E]', () => {
  it('full and incremental backups after reshares and a departure hold retired versions as metadata only, and a restore of the chain ends in the same state', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    const files: string[] = [];
    const backup = async (mode: 'full' | 'auto') => {
      const r = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], mode });
      files.push(r.file!.split('/').pop()!);
    };
    v.putShare({ ...share('w', 1, 0x11), activate: true });
    v.putShare({ ...share('x', 1, 0x31), activate: true });
    await backup('full'); // v1s active: carried with their secrets
    v.putShare(share('w', 2, 0x22));
    v.activate('eddsa', 'w', 2);
    v.retireActive('eddsa', 'x');
    await backup('auto'); // incremental: the retirements
    v.putShare({ ...share('w', 3, 0x33), activate: true });
    await backup('auto');
    await backup('full'); // a new full of the final state
    const all = await records(out, files, keys.identity);
    // only the first full holds the v1 secrets, taken while they were active
    const secrets = all.filter((r) => r.kind === 'share');
    expect(secrets.map((r) => r.kind === 'share' && [r.info.walletId, r.info.version, r.info.status])).toEqual([
      ['w', 1, 'active'],
      ['x', 1, 'active'],
      ['w', 2, 'active'],
      ['w', 3, 'active'],
      ['w', 3, 'active'],
    ]);
    expect(secrets.some((r) => r.kind === 'share' && r.info.status === 'retired')).toBe(false);
    const retired = all.filter((r) => r.kind === 'share-retired');
    expect(retired.map((r) => r.kind === 'share-retired' && [r.info.walletId, r.info.version, r.retiredBy])).toEqual([
      ['w', 1, 2], // first incremental
      ['x', 1, null],
      ['w', 2, 3], // second incremental
      ['w', 1, 2], // the last full, in sequence order
      ['x', 1, null],
      ['w', 2, 3],
    ]);
    await verifyChain(out, { identities: [keys.identity] });
    const to = join(tempDir(), 'r');
    await restoreChain(out, to, { identities: [keys.identity] }, password('new'), { argon2: FAST_ARGON2 });
    expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
    expect(await rawSql(to, 'new', 'SELECT count(*) AS n FROM records')).toEqual([{ n: 1 }]);
    v.close();
  });

  it('restoring a chain written before the fix (format 1, retired secrets inside) ends without any retired secret', async () => {
    // fixtures/pre-re-chain: see fixtures/pre-re-chain.README.md
    const dir = join(import.meta.dirname, 'fixtures', 'pre-re-chain');
    const identity = readFileSync(join(import.meta.dirname, 'fixtures', 'pre-re-chain.identity.txt'), 'utf8').split(
      '\n',
    )[1]!;
    const dec = { identities: [identity] };
    const report = await verifyChain(dir, dec);
    // the old files do carry the retired secrets (why the docs say to destroy backups older than a reshare)
    const old = await records(
      dir,
      report.files.map((f) => f.name),
      identity,
    );
    expect(
      old
        .filter((r) => r.kind === 'share' && r.info.status === 'retired')
        .map((r) => r.kind === 'share' && [r.info.walletId, r.info.version, r.hex!.slice(0, 2)]),
    ).toEqual([
      ['w', 1, '11'],
      ['w', 2, '22'],
      ['x', 1, '31'],
    ]);
    const to = join(tempDir(), 'r');
    await restoreChain(dir, to, dec, password('new'), { argon2: FAST_ARGON2 });
    const v = await Vault.open(to, password('new'));
    try {
      expect(v.listVersions('eddsa', 'w').map((s) => [s.version, s.status])).toEqual([
        [1, 'retired'],
        [2, 'retired'],
        [3, 'active'],
      ]);
      for (const [w, ver] of [
        ['w', 1],
        ['w', 2],
        ['x', 1],
      ] as const)
        expect(() => v.getShare('eddsa', w, ver)).toThrow(ShareDestroyedError);
      expect(Buffer.from(v.getShare('eddsa', 'w').share)).toEqual(Buffer.alloc(4096, 0x33));
      expect(v.getWallet('eddsa', 'x').currentVersion).toBeNull();
      expect((await v.verify()).problems).toEqual([]);
    } finally {
      v.close();
    }
    expect(await rawSql(to, 'new', 'SELECT count(*) AS n FROM records')).toEqual([{ n: 1 }]);
  });

  it('record kind 5 (retired, metadata only) exists from format 2; a format-2 share record of a retired version with a secret is refused', () => {
    const info = {
      keyType: 'eddsa' as const,
      walletId: 'w',
      version: 1,
      status: 'retired' as const,
      threshold: 1,
      participants: ['a', 'b'],
      dataKeyId: 0,
      createdAt: 1,
      updatedAt: 2,
      seq: 7,
    };
    const enc = (rec: BackupRecord) => {
      const w = new ByteWriter(256);
      encodeRecord(w, rec);
      return w.finish();
    };
    const retired = enc({ kind: 'share-retired', seq: 7, info, retiredBy: 2 });
    expect(decodeRecord(retired, 2)).toEqual({ kind: 'share-retired', seq: 7, info, retiredBy: 2 });
    expect(() => decodeRecord(retired, 1)).toThrow(MalformedError);
    const withSecret = enc({ kind: 'share', seq: 7, info, share: Uint8Array.of(1, 2, 3) });
    expect(decodeRecord(withSecret, 1)).toMatchObject({ kind: 'share', info: { status: 'retired' } });
    expect(() => decodeRecord(withSecret, 2)).toThrow(/retired version carries a secret/);
  });
});
