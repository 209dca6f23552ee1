import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { password, share, tempDir } from '../helpers/vault.js';
import { newKeys } from './helpers.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

function tessera(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tessera backup CLI', () => {
  it('run, list, verify, inspect, restore with JSON output and the vault CLI exit codes', async () => {
    const root = tempDir();
    const dir = join(root, 'vault');
    const out = join(root, 'backups');
    const pw = join(root, 'pw');
    const pw2 = join(root, 'pw2');
    const idFile = join(root, 'id.txt');
    const otherId = join(root, 'other.txt');
    writeFileSync(pw, 'operator password\n');
    writeFileSync(pw2, 'restored password\n');
    const keys = await newKeys();
    const other = await newKeys();
    writeFileSync(idFile, `# created: test\n# public key: ${keys.recipient}\n${keys.identity}\n`);
    writeFileSync(otherId, `${other.identity}\n`);
    const v = await Vault.create(dir, password('operator password'), { argon2: { opsLimit: 1, memLimit: 8192 } });
    v.putShare({ ...share('a', 1), activate: true });
    v.close();
    const auth = ['--dir', dir, '--password-file', pw];

    const full = tessera([
      'backup',
      'run',
      ...auth,
      '--out',
      out,
      '--recipient',
      keys.recipient,
      '--node-id',
      'node0',
      '--json',
    ]);
    expect(full.code, full.err).toBe(0);
    expect(JSON.parse(full.out)).toMatchObject({ kind: 'full', chain: 1, records: 2 });
    const again = tessera([
      'backup',
      'run',
      ...auth,
      '--out',
      out,
      '--recipient',
      keys.recipient,
      '--node-id',
      'node0',
    ]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/nothing to back up/);

    const list = tessera(['backup', 'list', out, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out).backups).toHaveLength(1);

    const verify = tessera(['backup', 'verify', out, '--identity', idFile, '--json']);
    expect(verify.code, verify.err).toBe(0);
    expect(JSON.parse(verify.out)).toMatchObject({ ok: true, records: 2, nodeId: 'node0' });

    const backupName = readdirSync(out).filter((n) => !n.startsWith('.'))[0]!;
    const file = join(out, backupName);
    const inspect = tessera(['backup', 'inspect', file, '--identity', idFile, '--json']);
    expect(inspect.code, inspect.err).toBe(0);
    expect(JSON.parse(inspect.out)).toMatchObject({
      formatVersion: 2,
      kind: 'full',
      fromSeq: 0,
      recordCount: 2,
      nodeId: 'node0',
    });

    // Wrong identity: exit 2, and no secret in any output.
    const wrong = tessera(['backup', 'verify', out, '--identity', otherId]);
    expect(wrong.code).toBe(2);
    expect(wrong.out + wrong.err).not.toContain(other.identity);

    const to = join(root, 'restored');
    const restore = tessera([
      'backup',
      'restore',
      out,
      '--to',
      to,
      '--identity',
      idFile,
      '--new-password-file',
      pw2,
      '--argon2-memory',
      '1',
      '--argon2-iterations',
      '1',
      '--json',
    ]);
    expect(restore.code, restore.err).toBe(0);
    expect(JSON.parse(restore.out)).toMatchObject({ wallets: 1, shares: 1 });
    const r = await Vault.open(to, password('restored password'));
    expect(Buffer.from(r.getShare('eddsa', 'a').share).equals(Buffer.alloc(4096, 1))).toBe(true);
    r.close();

    // Restore into an existing directory: refused (exit 1), nothing written there.
    const exists = tessera(['backup', 'restore', out, '--to', to, '--identity', idFile, '--new-password-file', pw2]);
    expect(exists.code).toBe(1);
    expect(exists.err).toMatch(/already exists/);

    // A corrupt chain: exit 3 naming the file.
    const bytes = readFileSync(file);
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(file, bytes);
    const broken = tessera(['backup', 'verify', out, '--identity', idFile]);
    expect(broken.code).toBe(3);
    expect(broken.err).toContain(backupName);
    expect(existsSync(join(root, 'restored2'))).toBe(false);
  });
});
