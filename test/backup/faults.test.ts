import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackupCorruptedError, readBackupFile, restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import { AlreadyExistsError, WrongPasswordError } from '../../src/common/errors.js';
import type { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';
import { type Keys, newKeys, newVault } from './helpers.js';

/** A vault with a chain of one full and three incrementals in a fresh directory. */
async function chain(keys: Keys, v?: Vault): Promise<{ out: string; files: string[] }> {
  const vault = v ?? (await newVault());
  const out = tempDir();
  try {
    for (let i = 0; i < 4; i++) {
      vault.putShare({ ...share(`w${i}`, 1, i + 1), activate: true });
      vault.putShare({ ...share(`x${i}`, 1, i + 50), activate: true });
      await runBackup(vault, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
    }
  } finally {
    if (!v) vault.close();
  }
  return {
    out,
    files: readdirSync(out)
      .filter((n) => !n.startsWith('.'))
      .sort(),
  };
}

async function expectBroken(out: string, keys: Keys, match: RegExp, file?: string): Promise<void> {
  const err = await verifyChain(out, { identities: [keys.identity] }).catch((e) => e);
  expect(err).toBeInstanceOf(BackupCorruptedError);
  expect(err.code).toBe('BACKUP_CORRUPTED');
  expect(err.message).toMatch(match);
  if (file) expect(err.file).toBe(file);
  // A restore of a broken chain refuses and leaves nothing behind.
  const to = join(tempDir(), 'r');
  await expect(
    restoreChain(out, to, { identities: [keys.identity] }, password('n'), { argon2: FAST_ARGON2 }),
  ).rejects.toBeInstanceOf(BackupCorruptedError);
  expect(existsSync(to)).toBe(false);
}

function dirDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) {
    const st = statSync(join(dir, f));
    h.update(`${f}:${st.mtimeMs}:${st.mode}:`).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

describe('backup faults are detected and named', () => {
  it('an intact chain verifies', async () => {
    const keys = await newKeys();
    const { out } = await chain(keys);
    const r = await verifyChain(out, { identities: [keys.identity] });
    expect(r.files.map((f) => f.kind)).toEqual(['full', 'incremental', 'incremental', 'incremental']);
    // Each step adds two wallets and their two shares: four records per file.
    expect(r.records).toBe(16);
  });

  it('a truncated file is reported as truncated, at every cut point class', async () => {
    const keys = await newKeys();
    const { out, files } = await chain(keys);
    const victim = join(out, files[2]!);
    const size = statSync(victim).size;
    for (const cut of [size - 1, size - 17, Math.floor(size / 2), 40]) {
      const copy = tempDir();
      for (const f of files) copyFileSync(join(out, f), join(copy, f));
      truncateSync(join(copy, files[2]!), cut);
      await expectBroken(copy, keys, /truncated|malformed|fails authentication/, files[2]);
    }
  });

  it('a flipped byte anywhere in a file is detected', async () => {
    const keys = await newKeys();
    const { out, files } = await chain(keys);
    const bytes = readFileSync(join(out, files[1]!));
    for (const pos of [20, 100, bytes.length - 200, bytes.length - 1]) {
      const copy = tempDir();
      for (const f of files) copyFileSync(join(out, f), join(copy, f));
      const b = Buffer.from(bytes);
      b[pos]! ^= 0x01;
      writeFileSync(join(copy, files[1]!), b);
      const err = await verifyChain(copy, { identities: [keys.identity] }).catch((e) => e);
      // A flip in the recipient stanza can make the file unopenable (wrong key) instead.
      expect(err instanceof BackupCorruptedError || err instanceof WrongPasswordError).toBe(true);
      if (err instanceof BackupCorruptedError) expect(err.file).toBe(files[1]);
    }
  });

  it('a file removed from the middle is a gap', async () => {
    const keys = await newKeys();
    const { out, files } = await chain(keys);
    rmSync(join(out, files[2]!));
    await expectBroken(out, keys, /gap: .*a file is missing/, files[3]);
  });

  it('a removed full backup is reported', async () => {
    const keys = await newKeys();
    const { out, files } = await chain(keys);
    rmSync(join(out, files[0]!));
    await expectBroken(out, keys, /does not start with a full backup/);
  });

  it('a file from another vault is refused', async () => {
    const keys = await newKeys();
    const a = await chain(keys);
    const b = await chain(keys);
    copyFileSync(join(b.out, b.files[3]!), join(a.out, b.files[3]!));
    await expectBroken(a.out, keys, /another vault/, b.files[3]);
  });

  it('a file of another vault renamed into the chain is caught by its manifest', async () => {
    const keys = await newKeys();
    const a = await chain(keys);
    const b = await chain(keys);
    copyFileSync(join(b.out, b.files[2]!), join(a.out, a.files[2]!));
    await expectBroken(a.out, keys, /does not match the file name|another vault|digest/, a.files[2]);
  });

  it('reordered (swapped) files are detected', async () => {
    const keys = await newKeys();
    const { out, files } = await chain(keys);
    renameSync(join(out, files[1]!), join(out, 'tmp'));
    renameSync(join(out, files[2]!), join(out, files[1]!));
    renameSync(join(out, 'tmp'), join(out, files[2]!));
    await expectBroken(out, keys, /does not match the file name/, files[1]);
  });

  it('a foreign file in the directory is named', async () => {
    const keys = await newKeys();
    const { out } = await chain(keys);
    writeFileSync(join(out, 'notes.txt'), 'hello');
    await expectBroken(out, keys, /foreign file/, 'notes.txt');
  });

  it('a wrong identity is a wrong-key error, not corruption', async () => {
    const keys = await newKeys();
    const other = await newKeys();
    const { out } = await chain(keys);
    await expect(verifyChain(out, { identities: [other.identity] })).rejects.toBeInstanceOf(WrongPasswordError);
    const to = join(tempDir(), 'r');
    await expect(
      restoreChain(out, to, { identities: [other.identity] }, password('n'), { argon2: FAST_ARGON2 }),
    ).rejects.toBeInstanceOf(WrongPasswordError);
    expect(existsSync(to)).toBe(false);
  });

  it('garbage that is not an age file is corruption, never a crash', async () => {
    const keys = await newKeys();
    const dir = tempDir();
    const p = join(dir, 'tessera-0000000000000000-c000001-0000000000000000-0000000000000001-full.age');
    for (const junk of [Buffer.alloc(0), Buffer.from('age-encryption.org/v1\n'), Buffer.alloc(5000, 0x41)]) {
      writeFileSync(p, junk);
      await expect(readBackupFile(p, { identities: [keys.identity] })).rejects.toBeInstanceOf(BackupCorruptedError);
    }
  });

  it('restore into an existing directory refuses, even an empty one', async () => {
    const keys = await newKeys();
    const { out } = await chain(keys);
    const to = tempDir();
    await expect(
      restoreChain(out, to, { identities: [keys.identity] }, password('n'), { argon2: FAST_ARGON2 }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(readdirSync(to)).toEqual([]);
  });

  it('verify and restore never modify the backup directory', async () => {
    const keys = await newKeys();
    const { out } = await chain(keys);
    const before = dirDigest(out);
    await verifyChain(out, { identities: [keys.identity] });
    const to = join(tempDir(), 'r');
    mkdirSync(join(to, '..'), { recursive: true });
    await restoreChain(out, to, { identities: [keys.identity] }, password('n'), { argon2: FAST_ARGON2 });
    expect(dirDigest(out)).toBe(before);
  });
});

describe('the digest cache is only a shortcut', () => {
  it('without the cache the next incremental hashes the previous file; a tampered cache breaks the link visibly', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    try {
      const run = () => runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      v.putShare({ ...share('a', 1), activate: true });
      await run();
      const cache = readdirSync(out).find((n) => n.startsWith('.tessera-last-'))!;
      rmSync(join(out, cache));
      v.putShare({ ...share('b', 1), activate: true });
      await run();
      await verifyChain(out, { identities: [keys.identity] });
      const c = JSON.parse(readFileSync(join(out, cache), 'utf8'));
      writeFileSync(join(out, cache), JSON.stringify({ ...c, sha256: '00'.repeat(32) }));
      v.putShare({ ...share('c', 1), activate: true });
      const r = await run();
      await expectBroken(out, keys, /previous-file digest does not match/, r.file!.split('/').at(-1));
    } finally {
      v.close();
    }
  });
});
