import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShareDestroyedError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';

describe('vault basics', () => {
  it('a stored share reads back identically after close and reopen', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('correct horse'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w1', 1, 42), activate: true });
    v.close();
    const v2 = await Vault.open(dir, password('correct horse'));
    const got = v2.getShare('eddsa', 'w1');
    expect(got.version).toBe(1);
    expect(got.status).toBe('active');
    expect(Buffer.from(got.share).equals(Buffer.alloc(4096, 42))).toBe(true);
    expect(v2.getWallet('eddsa', 'w1').currentVersion).toBe(1);
    v2.close();
  });

  it('activating a pending version retires the previous one (destroying its secret) and moves the pointer', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare(share('w', 2, 2, { threshold: 2, participants: ['a', 'b', 'c', 'd'] }));
    expect(v.getShare('eddsa', 'w').version).toBe(1);
    const w = v.activate('eddsa', 'w', 2);
    expect(w.currentVersion).toBe(2);
    expect(w.threshold).toBe(2);
    expect(w.participants).toEqual(['a', 'b', 'c', 'd']);
    expect(v.listVersions('eddsa', 'w').map((x) => [x.version, x.status])).toEqual([
      [1, 'retired'],
      [2, 'active'],
    ]);
    expect(() => v.getShare('eddsa', 'w', 1)).toThrow(ShareDestroyedError);
    v.close();
  });

  it('every change gets a higher sequence number and changesSince returns them in order', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('a', 1), activate: true });
    const mid = v.currentSeq();
    v.putShare(share('a', 2));
    v.activate('eddsa', 'a', 2);
    v.deleteWallet('eddsa', 'a');
    const all = v.changesSince(0);
    const seqs = all.map((c) => c.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    const later = v.changesSince(mid);
    expect(later.every((c) => c.seq > mid)).toBe(true);
    expect(later.at(-1)).toMatchObject({ kind: 'wallet-deleted', walletId: 'a' });
    expect([...v.iterateChanges(0, 1)].map((c) => c.seq)).toEqual(seqs);
    v.close();
  });

  it('prune keeps the newest N retired versions and never touches active or pending ones', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    for (let i = 2; i <= 5; i++) {
      v.putShare(share('w', i));
      v.activate('eddsa', 'w', i);
    }
    v.putShare(share('w', 6));
    expect(v.prune(1)).toBe(3);
    expect(v.listVersions('eddsa', 'w').map((x) => [x.version, x.status])).toEqual([
      [4, 'retired'],
      [5, 'active'],
      [6, 'pending'],
    ]);
    expect(v.changesSince(0).filter((c) => c.kind === 'share-deleted')).toHaveLength(3);
    v.close();
  });

  it('files are 0600 and the directory 0700', async () => {
    const dir = join(tempDir(), 'vault');
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect([f, statSync(join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    v.close();
  });

  it('no wallet id, participant, public key or share byte appears in plaintext under the vault directory', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    const secretShare = new Uint8Array(4096);
    for (let i = 0; i < secretShare.length; i++) secretShare[i] = (i * 131 + 17) & 0xff;
    const pub = new Uint8Array(32).map((_, i) => 200 - i);
    v.putShare({
      ...share('wallet-needle-7f3a', 1),
      participants: ['node-needle-a', 'node-needle-b'],
      publicKey: pub,
      share: secretShare,
      activate: true,
    });
    const check = () => {
      for (const f of readdirSync(dir)) {
        const bytes = readFileSync(join(dir, f));
        expect(bytes.includes('wallet-needle-7f3a'), f).toBe(false);
        expect(bytes.includes('node-needle'), f).toBe(false);
        expect(bytes.includes(Buffer.from(secretShare.subarray(100, 132))), f).toBe(false);
        expect(bytes.includes(Buffer.from(pub)), f).toBe(false);
      }
    };
    check(); // while open: database and WAL
    v.close();
    check();
  });
});

describe('version life cycle edges', () => {
  it('retireActive leaves the wallet without an active version, destroys the retired secret, and getShare then says so', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    const w = v.retireActive('eddsa', 'w');
    expect(w.currentVersion).toBeNull();
    expect(() => v.getShare('eddsa', 'w')).toThrow(/active version .* not found/);
    expect(v.listVersions('eddsa', 'w').map((x) => x.status)).toEqual(['retired']);
    expect(() => v.getShare('eddsa', 'w', 1)).toThrow(/destroyed when it was retired .*no active version/);
    expect((await v.verify()).ok).toBe(true);
    v.close();
  });

  it('discardPending removes a failed reshare version; a wallet left with nothing is deleted with a tombstone', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('kept', 1), activate: true });
    v.putShare(share('kept', 2));
    v.discardPending('eddsa', 'kept', 2);
    expect(v.listVersions('eddsa', 'kept').map((x) => x.version)).toEqual([1]);
    v.putShare(share('gone', 1));
    v.discardPending('eddsa', 'gone', 1);
    expect(() => v.getWallet('eddsa', 'gone')).toThrow(/not found/);
    expect(
      v
        .changesSince(0)
        .filter((c) => c.kind === 'share-deleted' || c.kind === 'wallet-deleted')
        .map((c) => c.kind),
    ).toEqual(['share-deleted', 'share-deleted', 'wallet-deleted']);
    expect(() => v.discardPending('eddsa', 'kept', 1)).toThrow(/not pending/);
    v.close();
  });

  it('a version is immutable, activation only moves forward, and a wallet keeps one public key', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 2), activate: true });
    expect(() => v.putShare(share('w', 2))).toThrow(/already exists/);
    v.putShare(share('w', 1));
    expect(() => v.activate('eddsa', 'w', 1)).toThrow(/not newer/);
    expect(() => v.putShare(share('w', 3, 3, { publicKey: new Uint8Array(32).fill(9) }))).toThrow(/public key differs/);
    expect(() => v.activate('eddsa', 'w', 2)).toThrow(/not pending/);
    v.close();
  });

  it('a new wallet appears in the change stream before its first share', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    expect(v.changesSince(0).map((c) => c.kind)).toEqual(['wallet', 'share']);
    v.close();
  });
});
