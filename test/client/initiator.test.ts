import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAuthorizer, loadInitiator, localSigner, readSigningKey } from '../../src/client/index.js';
import { parseVerifyingKey, verifySignature, writeSigningKey } from '../../src/node/index.js';

const data = new TextEncoder().encode('{"key_type":"ed25519"}');

describe('initiator and authorizer keys from mpcium’s files', () => {
  it('keys written by generate-initiator / generate-authorizer (ed25519 seed hex, p256 SEC1 DER hex) sign what the node verifies under the public key it is configured with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-client-keys-'));
    for (const algorithm of ['ed25519', 'p256'] as const) {
      const w = await writeSigningKey(dir, 'initiator', `init-${algorithm}`, algorithm);
      const s = await loadInitiator(join(dir, `init-${algorithm}.key`));
      expect(s.algorithm).toBe(algorithm);
      expect(s.publicKey).toBe(w.publicKey);
      const sig = await s.sign(data);
      if (algorithm === 'ed25519') expect(sig).toHaveLength(64);
      else expect(sig[0]).toBe(0x30); // ASN.1 DER SEQUENCE
      expect(verifySignature(parseVerifyingKey(algorithm, w.publicKey), data, sig)).toBe(true);
      expect(verifySignature(parseVerifyingKey(algorithm, w.publicKey), Uint8Array.of(1), sig)).toBe(false);
      const a = await writeSigningKey(dir, 'authorizer', `ops-${algorithm}`, algorithm);
      const auth = await loadAuthorizer('ops', join(dir, `ops-${algorithm}.authorizer.key`), { algorithm });
      expect(auth.id).toBe('ops');
      expect(verifySignature(parseVerifyingKey(algorithm, a.publicKey), data, await auth.sign(data))).toBe(true);
    }
  });

  it('an age-encrypted key opens with its passphrase; without one it is InvalidArgumentError, with a wrong one WrongPasswordError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-client-keys-'));
    const w = await writeSigningKey(dir, 'initiator', 'enc', 'p256', { passphrase: 'correct horse!' });
    const path = join(dir, 'enc.key.age');
    expect((await loadInitiator(path, { passphrase: 'correct horse!' })).publicKey).toBe(w.publicKey);
    await expect(loadInitiator(path)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /passphrase/ });
    await expect(loadInitiator(path, { passphrase: 'wrong horse!!' })).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
      message: /enc\.key\.age/,
    });
  });

  it('a node identity key (seed ‖ public key) and PKCS#8 P-256 load; other keys and missing files are refused with typed errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-client-keys-'));
    const ed = generateKeyPairSync('ed25519');
    const jwk = ed.privateKey.export({ format: 'jwk' });
    const seedPub = Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')]);
    writeFileSync(join(dir, 'node.key'), seedPub.toString('hex'));
    expect((await loadInitiator(join(dir, 'node.key'))).publicKey).toBe(localSigner(ed.privateKey).publicKey);
    seedPub[40]! ^= 1;
    writeFileSync(join(dir, 'damaged.key'), seedPub.toString('hex'));
    await expect(readSigningKey(join(dir, 'damaged.key'))).rejects.toMatchObject({ message: /damaged/ });
    const p = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(join(dir, 'p8.key'), p.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'));
    expect((await loadInitiator(join(dir, 'p8.key'))).algorithm).toBe('p256');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    writeFileSync(join(dir, 'p384.key'), p384.privateKey.export({ format: 'der', type: 'sec1' }).toString('hex'));
    await expect(loadInitiator(join(dir, 'p384.key'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(loadInitiator(join(dir, 'missing.key'))).rejects.toMatchObject({ code: 'IO_ERROR' });
    expect(() => localSigner(p.publicKey)).toThrow(/private key/);
    expect(() => localSigner(p384.privateKey)).toThrow(/Ed25519 or P-256/);
  });
});
