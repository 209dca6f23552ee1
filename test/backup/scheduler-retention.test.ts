import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyRetention,
  BackupScheduler,
  parseBackupFileName,
  type RunBackupResult,
  runBackup,
  type SchedulerClock,
  verifyChain,
} from '../../src/backup/index.js';
import { InvalidArgumentError, InvalidStateError, WrongPasswordError } from '../../src/common/errors.js';
import { share, tempDir } from '../helpers/vault.js';
import { newKeys, newVault } from './helpers.js';

class FakeClock implements SchedulerClock {
  t = 1_700_000_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  /** Moves time forward and fires what is due. */
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
  get pending(): number {
    return this.timers.length;
  }
}

const chainsIn = (dir: string) =>
  [
    ...new Set(
      readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .map((n) => parseBackupFileName(n)!.chain),
    ),
  ].sort((a, b) => a - b);

describe('backup scheduler', () => {
  it('runs once per period on the injected clock, starts a new chain after maxIncrementals, keeps the newest chains', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    const clock = new FakeClock();
    const results: RunBackupResult[] = [];
    const s = new BackupScheduler(v, {
      outDir: out,
      nodeId: 'node0',
      recipients: [keys.recipient],
      periodSeconds: 60,
      maxIncrementals: 2,
      keepChains: 2,
      clock,
      onResult: (r) => results.push(r),
    });
    try {
      s.start();
      clock.advance(59_000);
      await s.whenIdle();
      expect(results).toHaveLength(0);
      for (let i = 0; i < 9; i++) {
        v.putShare({ ...share(`w${i}`, 1), activate: true });
        clock.advance(60_000 - (i === 0 ? 59_000 : 0));
        await s.whenIdle();
        expect(results).toHaveLength(i + 1);
        expect(clock.pending).toBe(1);
      }
      expect(results.map((r) => r.kind)).toEqual([
        'full',
        'incremental',
        'incremental',
        'full',
        'incremental',
        'incremental',
        'full',
        'incremental',
        'incremental',
      ]);
      expect(results[0]!.file && results[1]!.file).toBeTruthy();
      expect(chainsIn(out)).toEqual([2, 3]);
      const report = await verifyChain(out, { identities: [keys.identity] });
      expect(report.files).toHaveLength(6);
      // Nothing changed: a tick writes nothing.
      clock.advance(60_000);
      await s.whenIdle();
      expect(results.at(-1)!.file).toBeNull();
    } finally {
      await s.stop();
      v.close();
    }
    expect(clock.pending).toBe(0);
  });

  it('never runs two backups at once; a failing run is reported and the schedule goes on', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const bad = join(tempDir(), 'file');
    writeFileSync(bad, 'x');
    const errors: unknown[] = [];
    const clock = new FakeClock();
    const s = new BackupScheduler(v, {
      outDir: join(bad, 'sub'),
      nodeId: 'node0',
      recipients: [keys.recipient],
      periodSeconds: 1,
      clock,
      onError: (e) => errors.push(e),
    });
    try {
      const a = s.runNow();
      const b = s.runNow();
      expect(a).toBe(b);
      expect(await a).toBeNull();
      s.start();
      clock.advance(1000);
      await s.whenIdle();
      expect(errors).toHaveLength(2);
      expect(clock.pending).toBe(1);
    } finally {
      await s.stop();
      v.close();
    }
  });
});

describe('retention', () => {
  it('keeps the newest N chains and never deletes the only full', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    try {
      v.putShare({ ...share('a', 1), activate: true });
      await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      expect(applyRetention(out, v.id, 1)).toEqual([]);
      for (let c = 0; c < 3; c++) {
        v.putShare({ ...share(`b${c}`, 1), activate: true });
        await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], mode: 'full' });
        v.putShare({ ...share(`c${c}`, 1), activate: true });
        await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      }
      expect(chainsIn(out)).toEqual([1, 2, 3, 4]);
      expect(applyRetention(out, v.id, 1)).toHaveLength(5);
      expect(chainsIn(out)).toEqual([4]);
      expect(() => applyRetention(out, v.id, 0)).toThrow(InvalidArgumentError);
      await verifyChain(out, { identities: [keys.identity] });
    } finally {
      v.close();
    }
  });
});

describe('run modes and encryption choices', () => {
  it('auto falls back to a full when the last file is missing; incremental mode refuses instead', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    try {
      v.putShare({ ...share('a', 1), activate: true });
      await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], mode: 'full' });
      v.putShare({ ...share('b', 1), activate: true });
      const inc = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      rmSync(inc.file!);
      v.putShare({ ...share('c', 1), activate: true });
      await expect(
        runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], mode: 'incremental' }),
      ).rejects.toBeInstanceOf(InvalidStateError);
      const r = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      expect(r.kind).toBe('full');
      expect(r.chain).toBe(2);
      expect(r.reason).toMatch(/watermark/);
    } finally {
      v.close();
    }
  });

  it('a backup passphrase (age scrypt) round-trips; a wrong one is a wrong-key error; recipients and passphrase together are refused', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    try {
      v.putShare({ ...share('a', 1), activate: true });
      await expect(
        runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], passphrase: 'p' }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(
        runBackup(v, { outDir: out, nodeId: 'node0', recipients: ['age1notarecipient'] }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await runBackup(v, {
        outDir: out,
        nodeId: 'node0',
        passphrase: 'correct horse battery staple',
        scryptWorkFactor: 10,
      });
      expect((await verifyChain(out, { passphrase: 'correct horse battery staple' })).records).toBe(2);
      await expect(verifyChain(out, { passphrase: 'wrong' })).rejects.toBeInstanceOf(WrongPasswordError);
    } finally {
      v.close();
    }
  });
});
