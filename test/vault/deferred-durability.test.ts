import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidStateError, IoError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';

const ctx = (b: number) => new Uint8Array(32).fill(b);

async function vaultWith(dir: string): Promise<Vault> {
  const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
  v.putShare({ ...share('w', 1), activate: true });
  v.putShare({ ...share('w', 1), keyType: 'ecdsa', publicKey: new Uint8Array(33).fill(2), activate: true });
  return v;
}

describe("the vault's deferred writes (group commit)", () => {
  it('flush() returns once the commits made before it are durable, even while deferred writes keep coming (no starvation)', async () => {
    const v = await vaultWith(tempDir());
    const store = (v as unknown as { store: { syncLog(t: number): Promise<void> } }).store;
    const real = store.syncLog.bind(store);
    // a slow disk: every sync takes 20 ms, and a deferred write lands during each
    store.syncLog = async (t: number) => {
      await new Promise((r) => setTimeout(r, 20));
      return real(t);
    };
    let i = 0;
    const unique = () => {
      const c = new Uint8Array(32).fill(0xee);
      new DataView(c.buffer).setUint32(0, i++);
      return c;
    };
    // without a fixed goal, flush() would chase these writes for as long as they come (the test's timeout)
    const writer = setInterval(() => {
      v.claimSigningContext('eddsa', 'w', 1, unique(), { durability: 'deferred' });
    }, 1);
    try {
      v.claimSigningContext('eddsa', 'w', 1, ctx(1), { durability: 'deferred' });
      const goal = v.unflushed.written;
      await v.flush();
      expect(v.unflushed.durable).toBeGreaterThanOrEqual(goal);
    } finally {
      clearInterval(writer);
      await v.flush();
      v.close();
    }
  });

  it('a deferred write is committed at once and counted until flush() makes it durable', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    const before = v.unflushed;
    expect(before.written).toBe(before.durable);
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(1), { durability: 'deferred' })).toBe(true);
    // committed: every later read and claim sees it
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(1), { durability: 'deferred' })).toBe(false);
    expect(v.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(false);
    expect(v.bindSignRequest('w', 'tx', ctx(9), Date.now(), { durability: 'deferred' })).toBe('bound');
    expect(v.signedRequest('w', 'tx')?.digest).toEqual(ctx(9));
    const info = v.updateShare('ecdsa', 'w', 1, new Uint8Array(4096).fill(5), {
      expectSeq: v.listVersions('ecdsa', 'w')[0]!.seq,
      durability: 'deferred',
    });
    expect(new Uint8Array(v.getShare('ecdsa', 'w', 1).share)).toEqual(new Uint8Array(4096).fill(5));
    expect(v.appendAudit({ time: 1, actor: 'a', action: 'sign', outcome: 'ok' }, { durability: 'deferred' }).seq).toBe(
      1,
    );
    const pending = v.unflushed;
    expect(pending.written).toBeGreaterThan(pending.durable);
    // every other write stays fsynced on its own
    const db = (v as unknown as { store: { db: { pragma(s: string, o: object): unknown } } }).store.db;
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    await v.flush();
    expect(v.unflushed.durable).toBe(v.unflushed.written);
    await v.flush(); // nothing waits: resolves at once
    // a compare-and-swap against the deferred write's sequence still works
    v.updateShare('ecdsa', 'w', 1, new Uint8Array(4096).fill(6), { expectSeq: info.seq });
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(false);
    expect(v2.bindSignRequest('w', 'tx', ctx(8))).toBe('conflict');
    expect(new Uint8Array(v2.getShare('ecdsa', 'w', 1).share)).toEqual(new Uint8Array(4096).fill(6));
    expect(v2.verifyAudit().ok).toBe(true);
    v2.close();
  });

  it('concurrent flushes share one sync; writes made while it runs wait for the next', async () => {
    const v = await vaultWith(tempDir());
    v.claimSigningContext('eddsa', 'w', 1, ctx(1), { durability: 'deferred' });
    const first = v.flush();
    const second = v.flush();
    v.claimSigningContext('eddsa', 'w', 1, ctx(2), { durability: 'deferred' });
    const third = v.flush();
    await Promise.all([first, second]);
    await third;
    expect(v.unflushed.durable).toBe(v.unflushed.written);
    v.close();
  });

  it('a deferred write that fails commits nothing and is reported as the fsynced one would be', async () => {
    const v = await vaultWith(tempDir());
    expect(() => v.claimSigningContext('eddsa', 'nope', 1, ctx(1), { durability: 'deferred' })).toThrow(/not found/i);
    expect(() =>
      v.updateShare('ecdsa', 'w', 1, new Uint8Array(4096), { expectSeq: 0, durability: 'deferred' }),
    ).toThrow(InvalidStateError);
    await v.flush();
    v.close();
  });

  it('a log that cannot be synced fails flush() for good, and flush() on a closed vault is refused', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.claimSigningContext('eddsa', 'w', 1, ctx(1), { durability: 'deferred' });
    const log = join(dir, 'vault.db-wal');
    renameSync(log, `${log}.away`);
    await expect(v.flush()).rejects.toThrow(IoError);
    renameSync(`${log}.away`, log);
    // after a failed sync nobody can tell what reached the disk: no later flush claims success
    await expect(v.flush()).rejects.toThrow(IoError);
    v.claimSigningContext('eddsa', 'w', 1, ctx(2), { durability: 'deferred' });
    await expect(v.flush()).rejects.toThrow(IoError);
    v.close();
    await expect(v.flush()).rejects.toThrow(InvalidStateError);
  });

  it('flushes the new log after a key rotation replaced the database file', async () => {
    const dir = tempDir();
    const v = await vaultWith(dir);
    v.claimSigningContext('eddsa', 'w', 1, ctx(1), { durability: 'deferred' });
    await v.flush();
    await v.rotateKey();
    v.claimSigningContext('eddsa', 'w', 1, ctx(2), { durability: 'deferred' });
    await v.flush();
    expect(v.unflushed.durable).toBe(v.unflushed.written);
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(1))).toBe(false);
    expect(v2.claimSigningContext('eddsa', 'w', 1, ctx(2))).toBe(false);
    v2.close();
  });
});
