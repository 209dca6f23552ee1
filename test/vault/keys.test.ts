import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, VaultCorruptedError, VaultLockedError, WrongPasswordError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';

const rawKey = (b: number) => ({ kind: 'key' as const, key: new Uint8Array(32).fill(b) });

describe('vault keys', () => {
  it('a wrong password is WrongPassword, not corruption', async () => {
    const dir = tempDir();
    (await Vault.create(dir, password('right'), { argon2: FAST_ARGON2 })).close();
    await expect(Vault.open(dir, password('wrong'))).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('a raw 32-byte key opens a key-locked vault and a wrong key does not', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, rawKey(1));
    v.putShare({ ...share('w', 1), activate: true });
    v.close();
    await expect(Vault.open(dir, rawKey(2))).rejects.toBeInstanceOf(WrongPasswordError);
    const v2 = await Vault.open(dir, rawKey(1));
    expect(v2.getShare('eddsa', 'w').version).toBe(1);
    v2.close();
  });

  it('opening a directory without a vault is NotFound', async () => {
    await expect(Vault.open(tempDir(), password('x'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a second handle on a live vault is refused with VaultLocked', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    await expect(Vault.open(dir, password('pw'))).rejects.toBeInstanceOf(VaultLockedError);
    v.close();
    (await Vault.open(dir, password('pw'))).close();
  });

  it('rotatePassword: the new password opens, the old one no longer does, shares intact', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('old'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1, 9), activate: true });
    await v.rotatePassword(password('new'), { argon2: FAST_ARGON2 });
    v.putShare(share('w', 2, 10));
    v.close();
    await expect(Vault.open(dir, password('old'))).rejects.toBeInstanceOf(WrongPasswordError);
    const v2 = await Vault.open(dir, password('new'));
    expect(v2.getShare('eddsa', 'w').share[0]).toBe(9);
    expect(v2.getShare('eddsa', 'w', 2).share[0]).toBe(10);
    await v2.rotatePassword(rawKey(5));
    v2.close();
    (await Vault.open(dir, rawKey(5))).close();
  });

  it('rotateKey re-seals every share under a new data key, rekeys the pages and drops the old keys', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    for (let i = 0; i < 50; i++) v.putShare({ ...share(`w${i}`, 1, i), activate: true });
    const before = v.status();
    const progress: number[] = [];
    const { resealed } = await v.rotateKey({ onProgress: (d) => progress.push(d), batchSize: 16 });
    expect(resealed).toBe(50);
    expect(progress.at(-1)).toBe(50);
    const after = v.status();
    expect(after.primaryDataKeyId).not.toBe(before.primaryDataKeyId);
    expect(after.dataKeyIds).toEqual([after.primaryDataKeyId]);
    expect(after.pageKeyId).not.toBe(before.pageKeyId);
    expect(after.rotationInProgress).toBe(false);
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    for (let i = 0; i < 50; i++) {
      const s = v2.getShare('eddsa', `w${i}`);
      expect(s.share[0]).toBe(i);
      expect(s.dataKeyId).toBe(after.primaryDataKeyId);
    }
    expect((await v2.verify()).ok).toBe(true);
    v2.close();
  });

  it('writes made while rotateKey runs are sealed under the new key and survive', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    for (let i = 0; i < 40; i++) v.putShare({ ...share(`w${i}`, 1, i), activate: true });
    let wrote = 0;
    const rotation = v.rotateKey({
      batchSize: 4,
      onProgress: () => {
        v.putShare({ ...share(`during${wrote}`, 1, 200), activate: true });
        wrote++;
      },
    });
    await rotation;
    expect(wrote).toBeGreaterThan(2);
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    for (let i = 0; i < wrote; i++) expect(v2.getShare('eddsa', `during${i}`).share[0]).toBe(200);
    expect((await v2.verify()).ok).toBe(true);
    v2.close();
  });

  it('a damaged keyring copy is repaired from the other one on open', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.close();
    writeFileSync(join(dir, 'keyring'), 'garbage');
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.getShare('eddsa', 'w').version).toBe(1);
    expect((await v2.verify()).ok).toBe(true); // repaired on open
    v2.close();
  });

  it('both keyring copies damaged is corruption of the keyring, never WrongPassword', async () => {
    const dir = tempDir();
    (await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 })).close();
    writeFileSync(join(dir, 'keyring'), 'garbage');
    writeFileSync(join(dir, 'keyring.bak'), 'garbage');
    const err = await Vault.open(dir, password('pw')).catch((e) => e);
    expect(err).toBeInstanceOf(VaultCorruptedError);
    expect(err.part).toBe('keyring');
  });
});

describe('secret kinds', () => {
  it('a password for a key-locked vault is WrongPassword with a hint to use the key file', async () => {
    const dir = tempDir();
    (await Vault.create(dir, rawKey(3))).close();
    const err = await Vault.open(dir, password('pw')).catch((e) => e);
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err.message).toMatch(/locked with a raw key/);
  });
});
