import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import { FAST_ARGON2, password, share, snapshot, snapshotOf, tempDir } from '../helpers/vault.js';
import { newKeys, newVault } from './helpers.js';

describe('backup run, verify, restore', () => {
  it('a full then incrementals restore to exactly the source state', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    try {
      v.putShare({ ...share('a', 1), activate: true });
      v.putShare({ ...share('b', 1), activate: true });
      const r1 = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      expect(r1.kind).toBe('full');
      expect(v.backupWatermark).toBe(r1.toSeq);
      v.putShare(share('a', 2));
      v.activate('eddsa', 'a', 2);
      v.deleteWallet('eddsa', 'b');
      const r2 = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      expect(r2.kind).toBe('incremental');
      const r3 = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      expect(r3.file).toBeNull();
      expect(readdirSync(out).filter((n) => !n.startsWith('.'))).toHaveLength(2);
      const rep = await verifyChain(out, { identities: [keys.identity] });
      expect(rep.files.map((f) => f.kind)).toEqual(['full', 'incremental']);
      const to = join(tempDir(), 'restored');
      const res = await restoreChain(out, to, { identities: [keys.identity] }, password('new'), {
        argon2: FAST_ARGON2,
      });
      expect(res.wallets).toBe(1);
      expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
      expect(existsSync(to)).toBe(true);
    } finally {
      v.close();
    }
  });
});

describe('encryption on a worker thread', () => {
  it('writes the same chain format as on this thread, with a passphrase too, and zero-copy chunks', async () => {
    const v = await newVault();
    const out = tempDir();
    try {
      for (let i = 0; i < 300; i++) v.putShare({ ...share(`w${i}`, 1, i % 250), activate: true });
      const r = await runBackup(v, {
        outDir: out,
        nodeId: 'node0',
        passphrase: 'backup passphrase',
        scryptWorkFactor: 10,
        encryptInWorker: true,
        pageSize: 50,
      });
      expect(r.records).toBe(600);
      v.putShare(share('w1', 2));
      await runBackup(v, {
        outDir: out,
        nodeId: 'node0',
        passphrase: 'backup passphrase',
        scryptWorkFactor: 10,
        encryptInWorker: true,
      });
      await verifyChain(out, { passphrase: 'backup passphrase' });
      const to = join(tempDir(), 'r');
      await restoreChain(out, to, { passphrase: 'backup passphrase' }, password('new'), { argon2: FAST_ARGON2 });
      expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
    } finally {
      v.close();
    }
  });
});

describe('point-in-time restore', () => {
  it('--up-to-time restores the newest file boundary written at or before that time, across chains', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    const states: ReturnType<typeof snapshot>[] = [];
    try {
      let t = 1_000_000;
      const run = async (mode: 'full' | 'auto') => {
        t += 1000;
        await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], mode, now: () => t });
        states.push(snapshot(v));
      };
      v.putShare({ ...share('a', 1), activate: true });
      await run('full'); // t=1001000, chain 1
      v.putShare({ ...share('b', 1), activate: true });
      await run('auto'); // t=1002000
      v.deleteWallet('eddsa', 'a');
      await run('full'); // t=1003000, chain 2
      v.putShare({ ...share('c', 1), activate: true });
      await run('auto'); // t=1004000
      const dec = { identities: [keys.identity] };
      const restoreAt = async (upToTime: number) => {
        const to = join(tempDir(), 'r');
        await restoreChain(out, to, dec, password('new'), { argon2: FAST_ARGON2, upToTime });
        return snapshotOf(to, 'new');
      };
      expect(await restoreAt(1_002_500)).toEqual(states[1]);
      expect(await restoreAt(1_003_000)).toEqual(states[2]);
      expect(await restoreAt(1_009_000)).toEqual(states[3]);
      await expect(restoreAt(1_000_000)).rejects.toThrow(/within the requested sequence or time/);
    } finally {
      v.close();
    }
  });
});
