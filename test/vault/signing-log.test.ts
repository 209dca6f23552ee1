import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  NotFoundError,
  ShareDestroyedError,
  VaultCorruptedError,
} from '../../src/common/errors.js';
import { openDatabase, SCHEMA_VERSION } from '../../src/vault/database.js';
import { unlockKeyring } from '../../src/vault/keyring-store.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';

const ctx = (b: number) => new Uint8Array(32).fill(b);

/** Runs SQL on the database behind the vault's back (as an older build or an attacker with the page key could). */
async function raw(dir: string, sql: string): Promise<unknown[]> {
  const k = await unlockKeyring(dir, password('pw'));
  const db = openDatabase(join(dir, 'vault.db'), k.body.pageKeys[0]!.key, true);
  try {
    if (sql.trim().toUpperCase().startsWith('SELECT')) return db.prepare(sql).all();
    db.exec(sql);
    return [];
  } finally {
    db.close();
  }
}

async function vaultWith(dir: string): Promise<Vault> {
  const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
  v.putShare({ ...share('w', 1), activate: true });
  return v;
}

describe('the vault as a durable signing log [2/F2]', () => {
  it('a signing context is claimed once: the second claim is refused, also after close and reopen', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(true);
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(false);
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(2))).toBe(true);
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(false);
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(2))).toBe(false);
    expect(v2.signingLogSize('eddsa', 'w', 1)).toBe(2);
    v2.close();
  });

  it('claims are per share version and wallet: the same context under another version or wallet is a new claim', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.putShare(share('w', 2));
    v.putShare({ ...share('x', 1), activate: true });
    v.putShare({ ...share('w', 1), keyType: 'ecdsa', publicKey: new Uint8Array(33).fill(2), activate: true });
    for (const [kt, w, ver] of [
      ['eddsa', 'w', 1],
      ['eddsa', 'w', 2],
      ['eddsa', 'x', 1],
      ['ecdsa', 'w', 1],
    ] as const) {
      expect(v.claimSigningContext(kt, w, ver, ctx(9))).toBe(true);
    }
    v.close();
  });

  it('a claim for a share version that does not exist, or of a context that is not 32 bytes, is refused and records nothing', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    expect(() => v.claimSigningContext('eddsa', 'w', 5, ctx(1))).toThrow(NotFoundError);
    expect(() => v.claimSigningContext('eddsa', 'nobody', 1, ctx(1))).toThrow(NotFoundError);
    expect(() => v.claimSigningContext('eddsa', 'w', 1, new Uint8Array(31))).toThrow(InvalidArgumentError);
    expect(() => v.claimSigningContext('eddsa', 'w', 1, 'x'.repeat(32) as unknown as Uint8Array)).toThrow(
      InvalidArgumentError,
    );
    expect(() => v.claimSigningContext('eddsa', 'w', -1, ctx(1))).toThrow(InvalidArgumentError);
    expect(v.signingLogSize('eddsa', 'w', 1)).toBe(0);
    v.close();
  });

  it('retiring (its secret is destroyed), deleting a wallet, pruning or discarding a version removes its log entries with it', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.claimSigningContext('eddsa', 'w', 1, ctx(1));
    v.putShare({ ...share('w', 2), activate: true });
    expect(v.signingLogSize('eddsa', 'w', 1)).toBe(0);
    // nothing can sign with a retired version: a claim for it is refused, not recorded
    expect(() => v.claimSigningContext('eddsa', 'w', 1, ctx(5))).toThrow(ShareDestroyedError);
    v.putShare(share('w', 3));
    for (const ver of [2, 3]) v.claimSigningContext('eddsa', 'w', ver, ctx(ver));
    v.putShare({ ...share('other', 1), activate: true });
    v.claimSigningContext('eddsa', 'other', 1, ctx(1));
    expect(v.prune(0)).toBe(1);
    expect(v.signingLogSize('eddsa', 'w', 1)).toBe(0);
    v.discardPending('eddsa', 'w', 3);
    expect(v.signingLogSize('eddsa', 'w', 3)).toBe(0);
    expect(v.signingLogSize('eddsa', 'w', 2)).toBe(1);
    v.deleteWallet('eddsa', 'w');
    v.close();
    expect(await raw(dir, 'SELECT wallet_id FROM signing_log')).toEqual([{ wallet_id: 'other' }]);
  });

  it('the log survives a key rotation (pages re-encrypted by copy)', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.claimSigningContext('eddsa', 'w', 1, ctx(3));
    await v.rotateKey();
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(3))).toBe(false);
    v.close();
  });

  it('a vault written before the signing log existed (schema 1) is upgraded on open and keeps its shares', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.close();
    await raw(dir, "DROP TABLE signing_log; UPDATE meta SET v = 1 WHERE k = 'schema_version';");
    const v2 = await Vault.open(dir, password('pw'));
    expect(Buffer.from(v2.getShare('eddsa', 'w').share).equals(Buffer.alloc(4096, 1))).toBe(true);
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(true);
    expect((await v2.verify()).ok).toBe(true);
    v2.close();
    expect(await raw(dir, "SELECT v FROM meta WHERE k = 'schema_version'")).toEqual([{ v: SCHEMA_VERSION }]);
  });

  it('a vault whose signing log an older build dropped (its key rotation copies only the old tables) gets the table back on open', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.claimSigningContext('eddsa', 'w', 1, ctx(1));
    v.close();
    await raw(dir, 'DROP TABLE signing_log;');
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(2))).toBe(true);
    v2.prune(0);
    expect((await v2.verify()).ok).toBe(true);
    v2.close();
  });

  it('a vault from a newer schema is refused on open, not silently used', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.close();
    await raw(dir, `UPDATE meta SET v = ${SCHEMA_VERSION + 1} WHERE k = 'schema_version';`);
    await expect(Vault.open(dir, password('pw'))).rejects.toThrow(VaultCorruptedError);
    // and the refusal released the lock: the vault opens again once the version is back
    await raw(dir, `UPDATE meta SET v = ${SCHEMA_VERSION} WHERE k = 'schema_version';`);
    (await Vault.open(dir, password('pw'))).close();
  });
});
