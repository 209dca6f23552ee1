import { spawnSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decryptPrivateKey,
  parseVerifyingKey,
  privateKeyFromHex,
  readIdentity,
  signingKeyFromText,
  signWithIdentity,
  verifySignature,
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

  it('generate-initiator and generate-authorizer write mpcium key files (ed25519 seed hex, p256 SEC1 DER hex; .age when encrypted) whose keys sign what the node verifies', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'pp'), 'correct horse!\n');
    const msg = new TextEncoder().encode('request bytes');
    for (const [alg, kind, args] of [
      ['ed25519', 'initiator', []],
      ['p256', 'initiator', ['-n', 'p256_initiator', '-e', '--passphrase-file', 'pp']],
      ['p256', 'authorizer', ['-n', 'ops']],
    ] as const) {
      const r = tessera(cwd, [`generate-${kind}`, '-a', alg, ...args, '--json']);
      expect(r.code, r.err).toBe(0);
      const out = JSON.parse(r.out) as { publicKey: string; files: string[] };
      const at = (f: string) => (isAbsolute(f) ? f : join(cwd, f));
      const record = JSON.parse(readFileSync(at(out.files[0]!), 'utf8')) as Record<string, string>;
      expect(Object.keys(record)).toEqual([
        kind === 'initiator' ? 'node_name' : 'name',
        'algorithm',
        'public_key',
        'created_at',
        'created_by',
        'machine_os',
        'machine_name',
      ]);
      const keyFile = at(out.files[1]!);
      const text = keyFile.endsWith('.age')
        ? await decryptPrivateKey(readFileSync(keyFile), 'correct horse!')
        : readFileSync(keyFile, 'utf8');
      const key = signingKeyFromText(alg, text);
      const sig = alg === 'ed25519' ? sign(null, msg, key) : sign('sha256', msg, { key, dsaEncoding: 'der' });
      expect(verifySignature(parseVerifyingKey(alg, record.public_key!), msg, sig)).toBe(true);
    }
    expect(tessera(cwd, ['generate-initiator']).err).toMatch(/already exists/);
    expect(tessera(cwd, ['generate-authorizer', '-a', 'rsa', '-n', 'x']).err).toMatch(/ed25519 or p256/);
  });
});
