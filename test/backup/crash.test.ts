import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBackupFileName, restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, snapshot, snapshotOf, tempDir } from '../helpers/vault.js';
import { type Keys, newKeys } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'backup-child.mjs');

/** Runs the child until `until` sees a line, then SIGKILLs it (if it did not die by itself). */
async function runChild(
  args: string[],
  until: (ack: Record<string, unknown>) => boolean,
  delayMs = 0,
): Promise<Record<string, unknown>[]> {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Record<string, unknown>[] = [];
  let err = '';
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`child timed out; stderr: ${err}`)), 60_000);
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const a = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        acks.push(a);
        if (until(a)) {
          clearTimeout(timer);
          setTimeout(() => {
            proc.kill('SIGKILL');
            resolve();
          }, delayMs);
        }
      }
    });
    proc.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  await exited;
  return acks;
}

async function sourceWithChain(keys: Keys): Promise<{ dir: string; out: string }> {
  const dir = tempDir();
  const out = tempDir();
  const v = await Vault.create(dir, password('source'), { argon2: FAST_ARGON2 });
  for (let i = 0; i < 20; i++) v.putShare({ ...share(`w${i}`, 1, i + 1), activate: true });
  await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
  for (let i = 0; i < 40; i++) v.putShare({ ...share(`v${i}`, 1, i + 1), activate: true });
  v.close();
  return { dir, out };
}

/** After a crash: the watermark is covered by durable files; the next run gives a valid chain that restores the source. */
async function recoverAndCheck(keys: Keys, dir: string, out: string): Promise<void> {
  const v = await Vault.open(dir, password('source'));
  try {
    const wm = v.backupWatermark;
    const files = readdirSync(out)
      .filter((n) => !n.startsWith('.'))
      .map((n) => parseBackupFileName(n)!);
    // The watermark never passes what the directory holds.
    expect(Math.max(...files.map((f) => f.toSeq))).toBeGreaterThanOrEqual(wm);
    await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
    expect(readdirSync(out).filter((n) => n.startsWith('.tessera-backup-'))).toEqual([]);
    const report = await verifyChain(out, { identities: [keys.identity] });
    expect(report.files.at(-1)!.toSeq).toBe(v.currentSeq());
    const to = join(tempDir(), 'r');
    await restoreChain(out, to, { identities: [keys.identity] }, password('new'), { argon2: FAST_ARGON2 });
    expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
  } finally {
    v.close();
  }
}

describe('crash (kill -9) during a backup', () => {
  it('killed in the middle of writing: the watermark stays, the next run produces a valid chain', async () => {
    const keys = await newKeys();
    const { dir, out } = await sourceWithChain(keys);
    const acks = await runChild([dir, out, keys.recipient, 'stall'], (a) => a.op === 'progress');
    const before = acks.find((a) => a.op === 'ready')!.watermark as number;
    expect(acks.some((a) => a.op === 'finished')).toBe(false);
    // A partial temporary file was left behind, and no new backup file.
    expect(readdirSync(out).some((n) => n.startsWith('.tessera-backup-'))).toBe(true);
    expect(readdirSync(out).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    const v = await Vault.open(dir, password('source'));
    expect(v.backupWatermark).toBe(before);
    v.close();
    await recoverAndCheck(keys, dir, out);
  });

  it('killed after the file is durable but before the watermark advanced: the next run replaces it', async () => {
    const keys = await newKeys();
    const { dir, out } = await sourceWithChain(keys);
    const acks = await runChild([dir, out, keys.recipient, 'durable'], () => false);
    expect(acks.some((a) => a.op === 'durable')).toBe(true);
    const v = await Vault.open(dir, password('source'));
    const names = readdirSync(out).filter((n) => !n.startsWith('.'));
    expect(names).toHaveLength(2);
    expect(v.backupWatermark).toBeLessThan(Math.max(...names.map((n) => parseBackupFileName(n)!.toSeq)));
    v.close();
    await recoverAndCheck(keys, dir, out);
  });

  it('killed at arbitrary moments of a write-and-backup loop: always recoverable', async () => {
    const keys = await newKeys();
    const { dir, out } = await sourceWithChain(keys);
    for (const delay of [0, 7, 23]) {
      await runChild([dir, out, keys.recipient, 'loop'], (a) => a.op === 'backup', delay);
      await recoverAndCheck(keys, dir, out);
    }
  });
});
