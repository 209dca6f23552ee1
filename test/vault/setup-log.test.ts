// The node-wide setup log: threshold ECDSA setup protocols (DKG, reshare, OT re-setup) claim their
// 32-byte setup contexts and step markers here before drawing or answering any secret (review R-D).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { backedUpAndRestored } from '../backup/helpers.js';
import { FAST_ARGON2, password, rawSql, share, tempDir } from '../helpers/vault.js';

const ctx = (b: number) => new Uint8Array(32).fill(b);

describe('the vault as a durable setup log', () => {
  it('a setup context is claimed once: the second claim is refused, also after close and reopen', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    expect(v.setupLogSize()).toBe(0);
    expect(v.claimSetupContext(ctx(1))).toBe(true);
    expect(v.claimSetupContext(ctx(1))).toBe(false);
    expect(v.claimSetupContext(ctx(2))).toBe(true);
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.claimSetupContext(ctx(1))).toBe(false);
    expect(v2.claimSetupContext(ctx(2))).toBe(false);
    expect(v2.setupLogSize()).toBe(2);
    v2.close();
  });

  it('a context that is not a 32-byte Uint8Array is refused and records nothing; a closed vault refuses', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    expect(() => v.claimSetupContext(new Uint8Array(31))).toThrow(InvalidArgumentError);
    expect(() => v.claimSetupContext(new Uint8Array(33))).toThrow(InvalidArgumentError);
    expect(() => v.claimSetupContext('x'.repeat(32) as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(v.setupLogSize()).toBe(0);
    v.close();
    expect(() => v.claimSetupContext(ctx(1))).toThrow(InvalidStateError);
  });

  it('entries are never deleted: not by deleting wallets, pruning, activating or rotating keys', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.claimSetupContext(ctx(1));
    v.putShare({ ...share('w', 1), activate: true });
    v.putShare({ ...share('w', 2), activate: true });
    v.prune(0);
    v.deleteWallet('eddsa', 'w');
    await v.rotateKey();
    expect(v.claimSetupContext(ctx(1))).toBe(false);
    expect(v.setupLogSize()).toBe(1);
    v.close();
  });

  it('a vault whose setup log an older build dropped gets the table back on open', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.close();
    await rawSql(dir, 'pw', 'DROP TABLE setup_log;');
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.claimSetupContext(ctx(1))).toBe(true);
    expect((await v2.verify()).ok).toBe(true);
    v2.close();
  });

  it('backups do not carry the setup log: a restored vault starts with an empty one', async () => {
    const v = await Vault.create(tempDir(), password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1), activate: true });
    v.claimSetupContext(ctx(1));
    const r = await backedUpAndRestored(v);
    expect(r.setupLogSize()).toBe(0);
    r.close();
  });
});
