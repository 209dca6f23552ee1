import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAGIC } from '../../src/backup/format.js';
import { readBackupFile, restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import { FAST_ARGON2, password, share, snapshot, snapshotOf, tempDir } from '../helpers/vault.js';
import { newVault } from './helpers.js';

const hasAge = spawnSync('age', ['--version']).status === 0 && spawnSync('age-keygen', ['--version']).status === 0;
if (!hasAge)
  console.warn(
    'age CLI interop tests SKIPPED: the `age` binary is not installed (apt-get install -y age; .ci/run installs it)',
  );

/** An identity made by the standard age-keygen. */
function ageKeygen(dir: string): { file: string; identity: string; recipient: string } {
  const file = join(dir, 'identity.txt');
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const identity = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
  const recipient = execFileSync('age-keygen', ['-y', file]).toString().trim();
  return { file, identity, recipient };
}

describe.skipIf(!hasAge)('age CLI interop', () => {
  it('the age CLI decrypts every file Tessera writes (full and incremental) to a Tessera payload', async () => {
    const keys = ageKeygen(tempDir());
    const v = await newVault();
    const out = tempDir();
    try {
      v.putShare({ ...share('a', 1), activate: true });
      await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      v.putShare({ ...share('b', 1), activate: true });
      await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
    } finally {
      v.close();
    }
    const files = readdirSync(out).filter((n) => !n.startsWith('.'));
    expect(files).toHaveLength(2);
    for (const f of files) {
      const plain = execFileSync('age', ['-d', '-i', keys.file, join(out, f)], { maxBuffer: 64 << 20 });
      expect(Buffer.from(plain.subarray(0, MAGIC.length)).equals(Buffer.from(MAGIC))).toBe(true);
      expect(plain.includes(Buffer.from('node0'))).toBe(true);
    }
  });

  it('Tessera reads a file the age CLI re-encrypted with the same payload (verify and restore)', async () => {
    const keys = ageKeygen(tempDir());
    const v = await newVault();
    const out = tempDir();
    try {
      for (let i = 0; i < 5; i++) v.putShare({ ...share(`w${i}`, 1, i + 1), activate: true });
      await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      const [name] = readdirSync(out).filter((n) => !n.startsWith('.'));
      const path = join(out, name!);
      const payload = join(tempDir(), 'payload');
      execFileSync('age', ['-d', '-i', keys.file, '-o', payload, path]);
      rmSync(path);
      execFileSync('age', ['-e', '-r', keys.recipient, '-o', path, payload]);
      writeFileSync(payload, Buffer.alloc(0));
      const s = await readBackupFile(path, { identities: [keys.identity] });
      expect(s.trailer.recordCount).toBe(10);
      await verifyChain(out, { identities: [keys.identity] });
      const to = join(tempDir(), 'r');
      await restoreChain(out, to, { identities: [keys.identity] }, password('new'), { argon2: FAST_ARGON2 });
      expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
    } finally {
      v.close();
    }
  });
});
