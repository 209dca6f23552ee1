import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decryptPrivateKey,
  privateKeyFromHex,
  readIdentity,
  signWithIdentity,
  verifyWithIdentity,
} from '../../src/node/index.js';
import { tempDir } from '../helpers/vault.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

function tessera(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tessera generate-peers and generate-identity', () => {
  it('write an mpcium-compatible peers.json and an encrypted node identity that signs, and refuse to overwrite either', async () => {
    const cwd = tempDir();
    expect(tessera(cwd, ['generate-peers', '-n', '3', '--json']).code).toBe(0);
    const peers = JSON.parse(readFileSync(join(cwd, 'peers.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(peers)).toEqual(['node0', 'node1', 'node2']);
    expect(tessera(cwd, ['generate-peers', '-n', '3']).code).not.toBe(0);
    writeFileSync(join(cwd, 'pp'), 'correct horse!\n');
    const r = tessera(cwd, ['generate-identity', '-n', 'node2', '-e', '--passphrase-file', 'pp', '--json']);
    expect(r.code, r.err).toBe(0);
    const id = readIdentity(join(cwd, 'identity'), 'node2');
    expect(id.node_id).toBe(peers.node2);
    const hex = await decryptPrivateKey(readFileSync(join(cwd, 'identity', 'node2_private.key.age')), 'correct horse!');
    const msg = new TextEncoder().encode('x');
    expect(verifyWithIdentity(id, msg, signWithIdentity(privateKeyFromHex(hex), msg))).toBe(true);
    const again = tessera(cwd, ['generate-identity', '-n', 'node2']);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/already exists/);
    expect(tessera(cwd, ['generate-identity', '-n', 'node9']).err).toMatch(/not in peers.json/);
  });
});
