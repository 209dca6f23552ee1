import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkPassphrase,
  createIdentity,
  decryptPrivateKey,
  generatePeers,
  parsePeers,
  peerEntryProblems,
  privateKeyFromHex,
  readIdentity,
  signingKeyFromText,
  signWithIdentity,
  verifyWithIdentity,
  writeIdentity,
} from '../../src/node/identity.js';
import { tempDir } from '../helpers/vault.js';

const data = new TextEncoder().encode('session start');

describe("node identities in mpcium's layout", () => {
  it('generate-peers names node0…node<n-1> with distinct UUIDs, and parsePeers reads them back', () => {
    const peers = generatePeers(3);
    expect(Object.keys(peers)).toEqual(['node0', 'node1', 'node2']);
    expect(parsePeers(JSON.stringify(peers, null, 2))).toEqual(new Map(Object.entries(peers)));
    expect(() => parsePeers('{"node0":"x","node1":"y"}')).toThrow(/UUID/);
    expect(() => parsePeers(JSON.stringify({ a: peers.node0, b: peers.node0 }))).toThrow(/two nodes/);
    expect(() => parsePeers('[]')).toThrow(/map node names/);
  });

  it('peerEntryProblems names every bad entry of a peers map (the peers bucket), none for a good one', () => {
    const peers = generatePeers(3);
    expect(peerEntryProblems(peers)).toEqual([]);
    const problems = peerEntryProblems({ ...peers, 'a/b': peers.node0!, intruder: 'x', twin: peers.node1! });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/"a\/b": not a node name/);
    expect(problems[1]).toMatch(/"intruder": its id is not a lower-case UUID/);
    expect(problems[2]).toMatch(/"twin": its id is also given to "node1"/);
  });

  it('an identity is {node_name, node_id, public_key hex, created_at} and its private key file is hex of seed ‖ public key that signs for it', () => {
    const { identity, privateKeyHex } = createIdentity(
      'node0',
      '6f1d0c7e-9d6e-4f8a-9d4b-2f3a1b5c6d7e',
      new Date('2026-12-06T07:00:00.123Z'),
    );
    expect(Object.keys(identity)).toEqual(['node_name', 'node_id', 'public_key', 'created_at']);
    expect(identity.created_at).toBe('2026-12-06T07:00:00Z');
    expect(privateKeyHex).toMatch(/^[0-9a-f]{128}$/);
    expect(privateKeyHex.slice(64)).toBe(identity.public_key);
    const key = privateKeyFromHex(privateKeyHex);
    expect(verifyWithIdentity(identity, data, signWithIdentity(key, data))).toBe(true);
    expect(verifyWithIdentity(identity, Uint8Array.of(1), signWithIdentity(key, data))).toBe(false);
    const damaged = privateKeyHex.slice(0, 127) + (privateKeyHex.at(-1) === '0' ? '1' : '0');
    expect(() => privateKeyFromHex(damaged)).toThrow(/damaged/);
  });

  it('writeIdentity writes 0600 files, refuses to overwrite, and an encrypted key opens only with its passphrase', async () => {
    const dir = join(tempDir(), 'identity');
    const id = await writeIdentity(dir, 'node1', '6f1d0c7e-9d6e-4f8a-9d4b-2f3a1b5c6d7e', {
      passphrase: 'correct horse!',
    });
    expect(readIdentity(dir, 'node1')).toEqual(id);
    const keyFile = join(dir, 'node1_private.key.age');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const hex = await decryptPrivateKey(readFileSync(keyFile), 'correct horse!');
    expect(verifyWithIdentity(id, data, signWithIdentity(privateKeyFromHex(hex), data))).toBe(true);
    await expect(decryptPrivateKey(readFileSync(keyFile), 'wrong horse!!')).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
    });
    await expect(
      writeIdentity(dir, 'node1', '6f1d0c7e-9d6e-4f8a-9d4b-2f3a1b5c6d7e', { passphrase: 'correct horse!' }),
    ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(
      writeIdentity(dir, 'node2', '6f1d0c7e-9d6e-4f8a-9d4b-2f3a1b5c6d7f', { passphrase: 'short' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => checkPassphrase('twelvelettrs')).toThrow(/not a letter or digit/);
  });

  it('overwriting an encrypted identity key with a plain one removes the .age file, which would otherwise be used instead; without overwrite either form refuses', async () => {
    const dir = join(tempDir(), 'identity');
    const nodeId = '6f1d0c7e-9d6e-4f8a-9d4b-2f3a1b5c6d7e';
    await writeIdentity(dir, 'node1', nodeId, { passphrase: 'correct horse!' });
    await expect(writeIdentity(dir, 'node1', nodeId)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const plain = await writeIdentity(dir, 'node1', nodeId, { overwrite: true });
    expect(existsSync(join(dir, 'node1_private.key.age'))).toBe(false);
    const key = privateKeyFromHex(readFileSync(join(dir, 'node1_private.key'), 'utf8'));
    expect(verifyWithIdentity(plain, data, signWithIdentity(key, data))).toBe(true);
    await writeIdentity(dir, 'node1', nodeId, { passphrase: 'correct horse!', overwrite: true });
    expect(existsSync(join(dir, 'node1_private.key'))).toBe(false);
  });

  it('key files are read strictly: a p256 key must be P-256, an identity file must be an identity', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
      format: 'der',
      type: 'sec1',
    });
    expect(() => signingKeyFromText('p256', k1.toString('hex'))).toThrow(/P-256/);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => signingKeyFromText('p256', ed.toString('hex'))).toThrow(/P-256/);
    const dir = tempDir();
    writeFileSync(join(dir, 'n_identity.json'), 'null');
    expect(() => readIdentity(dir, 'n')).toThrow(/not a node identity/);
    writeFileSync(join(dir, 'm_identity.json'), '{oops');
    expect(() => readIdentity(dir, 'm')).toThrow(/not a node identity/);
    expect(() => readIdentity(dir, 'absent')).toThrow(/reading/);
  });
});
