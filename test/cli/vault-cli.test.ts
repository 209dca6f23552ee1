import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../src/vault/vault.js';
import { password, tempDir } from '../helpers/vault.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

function tessera(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function setup() {
  const root = tempDir();
  const dir = join(root, 'vault');
  const pwFile = join(root, 'pw');
  writeFileSync(pwFile, 'operator password\n');
  const shareFile = join(root, 'share.bin');
  writeFileSync(shareFile, Buffer.alloc(512, 0xab));
  const init = tessera([
    'vault',
    'init',
    '--dir',
    dir,
    '--password-file',
    pwFile,
    '--argon2-memory',
    '1',
    '--argon2-iterations',
    '1',
    '--json',
  ]);
  expect(init.code, init.err).toBe(0);
  return { root, dir, pwFile, shareFile, auth: ['--dir', dir, '--password-file', pwFile] };
}

const importArgs = (shareFile: string, version: number, extra: string[] = []) => [
  'vault',
  'import-share',
  '--wallet',
  'w1',
  '--key-type',
  'eddsa',
  '--version',
  String(version),
  '--threshold',
  '1',
  '--participants',
  'node0,node1,node2',
  '--public-key',
  'aa'.repeat(32),
  '--file',
  shareFile,
  ...extra,
];

describe('tessera vault CLI', () => {
  it('init, import, list, status, verify, rotate and prune work end to end with JSON output', async () => {
    const { root, shareFile, auth, dir } = setup();
    expect(tessera([...importArgs(shareFile, 1), ...auth]).code).toBe(0);
    expect(tessera([...importArgs(shareFile, 2, ['--pending']), ...auth]).code).toBe(0);
    const list = tessera(['vault', 'list', ...auth, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toMatchObject([
      { keyType: 'eddsa', walletId: 'w1', currentVersion: 1, threshold: 1, publicKey: 'aa'.repeat(32) },
    ]);
    const versions = JSON.parse(
      tessera(['vault', 'list', ...auth, '--wallet', 'w1', '--key-type', 'eddsa', '--json']).out,
    );
    expect(versions.map((x: { status: string }) => x.status)).toEqual(['active', 'pending']);
    const status = JSON.parse(tessera(['vault', 'status', ...auth, '--json']).out);
    expect(status).toMatchObject({ wallets: 1, shares: { active: 1, pending: 1, retired: 0 }, kdf: 'argon2id' });
    expect(tessera(['vault', 'verify', ...auth]).code).toBe(0);

    const newPw = join(root, 'pw2');
    writeFileSync(newPw, 'another password');
    expect(
      tessera([
        'vault',
        'rotate-password',
        ...auth,
        '--new-password-file',
        newPw,
        '--argon2-memory',
        '1',
        '--argon2-iterations',
        '1',
      ]).code,
    ).toBe(0);
    expect(tessera(['vault', 'status', ...auth]).code).toBe(2);
    const auth2 = ['--dir', dir, '--password-file', newPw];
    const rk = tessera(['vault', 'rotate-key', ...auth2, '--json']);
    expect(rk.code, rk.err).toBe(0);
    expect(JSON.parse(rk.out)).toMatchObject({ resealed: 2, dataKeyId: 2, pageKeyId: 2 });
    expect(tessera(['vault', 'prune', ...auth2, '--keep', '0', '--json']).out).toContain('"removed": 0');
    const v = await Vault.open(dir, password('another password'));
    expect(Buffer.from(v.getShare('eddsa', 'w1').share).equals(Buffer.alloc(512, 0xab))).toBe(true);
    v.close();
  });

  it('the password may come from TESSERA_VAULT_PASSWORD and a raw key from a key file', () => {
    const { dir, auth } = setup();
    expect(tessera(['vault', 'status', '--dir', dir], { TESSERA_VAULT_PASSWORD: 'operator password' }).code).toBe(0);
    expect(tessera(['vault', 'status', '--dir', dir], { TESSERA_VAULT_PASSWORD: 'nope' }).code).toBe(2);
    const root = tempDir();
    const keyFile = join(root, 'key');
    writeFileSync(keyFile, Buffer.alloc(32, 9));
    const kdir = join(root, 'v');
    expect(tessera(['vault', 'init', '--dir', kdir, '--key-file', keyFile]).code).toBe(0);
    expect(tessera(['vault', 'status', '--dir', kdir, '--key-file', keyFile]).code).toBe(0);
    expect(tessera(['vault', 'status', '--dir', kdir], { TESSERA_VAULT_KEY: '09'.repeat(32) }).code).toBe(0);
    expect(auth).toHaveLength(4);
  });

  it('bad input gets a clear message and exit code 1, never a stack trace', () => {
    const { root, shareFile, auth } = setup();
    const cases: [string[], RegExp][] = [
      [[...importArgs(join(root, 'missing.bin'), 1), ...auth], /reading the share file .* failed \(ENOENT\)/],
      [
        [...importArgs(shareFile, 1).map((a) => (a === 'aa'.repeat(32) ? 'zz' : a)), ...auth],
        /--public-key must be an even number of hex digits/,
      ],
      [
        [...importArgs(shareFile, 1).map((a) => (a === 'eddsa' ? 'rsa' : a)), ...auth],
        /key type must be 'ecdsa' or 'eddsa'/,
      ],
      [[...importArgs(shareFile, 1).map((a) => (a === '1' ? 'x' : a)), ...auth], /must be a non-negative integer/],
      [['vault', 'list', ...auth, '--wallet', 'nope', '--key-type', 'ecdsa'], /wallet ecdsa\/nope not found/],
      [['vault', 'status', '--dir', join(root, 'nowhere'), '--password-file', join(root, 'pw')], /not found/],
      [['vault', 'status', '--dir', root, '--key-file', shareFile], /must hold exactly 32 raw bytes/],
    ];
    for (const [args, message] of cases) {
      const r = tessera(args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('a vault held open by another process gives exit code 4', async () => {
    const { dir, auth } = setup();
    const v = await Vault.open(dir, password('operator password'));
    const r = tessera(['vault', 'status', ...auth]);
    v.close();
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/open in another process/);
  });

  it('corruption gives exit code 3 and a wrong password exit code 2, never confused', () => {
    const { root, dir, auth } = setup();
    const wrong = join(root, 'wrong');
    writeFileSync(wrong, 'wrong');
    expect(tessera(['vault', 'status', '--dir', dir, '--password-file', wrong]).code).toBe(2);
    writeFileSync(join(dir, 'vault.db'), Buffer.alloc(8192, 1));
    const r = tessera(['vault', 'verify', ...auth]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/corrupted/);
    expect(tessera(['vault', 'status', '--dir', dir, '--password-file', wrong]).code).toBe(2);
  });
});

describe('tessera vault mark-resetup', () => {
  it('marks the vault so that the node re-sets up every ECDSA pair at its next start; the mark persists until cleared', async () => {
    const { dir, auth } = setup();
    const r = tessera(['vault', 'mark-resetup', ...auth, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ marked: true });
    const v = await Vault.open(dir, password('operator password'));
    try {
      expect(v.restoredNeedsResetup).toBe(true);
      v.clearRestoredMark();
      expect(v.restoredNeedsResetup).toBe(false);
    } finally {
      v.close();
    }
  });
});
