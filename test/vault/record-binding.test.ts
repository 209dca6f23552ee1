import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VaultCorruptedError } from '../../src/common/errors.js';
import { openDatabase } from '../../src/vault/database.js';
import { unlockKeyring } from '../../src/vault/keyring-store.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';

/** Edits the database behind the vault's back, as an attacker holding the page key could. */
async function tamper(dir: string, sql: string): Promise<void> {
  const k = await unlockKeyring(dir, password('pw'));
  const db = openDatabase(join(dir, 'vault.db'), k.body.pageKeys[0]!.key, true);
  db.exec(sql);
  db.close();
}

describe('records are bound to their identity inside the database', () => {
  it('a record moved under another wallet fails to open and verify names it', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('alice', 1, 1), activate: true });
    v.putShare({ ...share('bob', 1, 2), activate: true });
    v.close();
    await tamper(
      dir,
      `UPDATE records SET sealed = (SELECT r.sealed FROM records r JOIN shares s ON s.id = r.share_id WHERE s.wallet_id = 'bob')
       WHERE share_id = (SELECT id FROM shares WHERE wallet_id = 'alice')`,
    );
    const v2 = await Vault.open(dir, password('pw'));
    const err = (() => {
      try {
        v2.getShare('eddsa', 'alice');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(VaultCorruptedError);
    expect((err as VaultCorruptedError).part).toBe('record');
    expect(v2.getShare('eddsa', 'bob').share[0]).toBe(2);
    const report = await v2.verify();
    expect(report.problems).toEqual([expect.objectContaining({ part: 'record', where: 'share eddsa/alice v1' })]);
    v2.close();
  });

  it('a record relabelled as another version fails to open', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1, 1), activate: true });
    v.putShare(share('w', 2, 2));
    v.close();
    await tamper(dir, "UPDATE shares SET version = 3 WHERE wallet_id = 'w' AND version = 2");
    const v2 = await Vault.open(dir, password('pw'));
    expect(() => v2.getShare('eddsa', 'w', 3)).toThrow(VaultCorruptedError);
    expect(v2.getShare('eddsa', 'w', 1).share[0]).toBe(1);
    v2.close();
  });

  it('a pointer to a version that is not active is reported by verify', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1, 1), activate: true });
    v.putShare(share('w', 2, 2));
    v.close();
    await tamper(dir, "UPDATE wallets SET current_version = 2 WHERE wallet_id = 'w'");
    const v2 = await Vault.open(dir, password('pw'));
    const report = await v2.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ part: 'pointer', where: 'wallet eddsa/w' })]);
    v2.close();
  });
});
