import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openDatabase } from '../../src/vault/database.js';
import { unlockKeyring } from '../../src/vault/keyring-store.js';
import type { VaultSecret } from '../../src/vault/secret.js';
import type { PutShareInput } from '../../src/vault/types.js';
import { Vault } from '../../src/vault/vault.js';

/** Cheap Argon2id parameters for tests (the default costs ~150 ms per derivation). */
export const FAST_ARGON2 = { opsLimit: 1, memLimit: 8192 };

export function password(s: string): VaultSecret {
  return { kind: 'password', password: new TextEncoder().encode(s) };
}

const dirs: string[] = [];
/** A fresh temporary directory removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function share(
  walletId: string,
  version: number,
  fill = version,
  extra: Partial<PutShareInput> = {},
): PutShareInput {
  return {
    keyType: 'eddsa',
    walletId,
    version,
    threshold: 1,
    participants: ['node0', 'node1', 'node2'],
    publicKey: new Uint8Array(32).fill(7),
    share: new Uint8Array(4096).fill(fill),
    ...extra,
  };
}

/**
 * Runs SQL on a closed vault's database behind the vault's back, with the page key from its
 * keyring (as an older build, or an attacker holding the password, could). SELECT returns rows.
 */
export async function rawSql(dir: string, pw: string, sql: string): Promise<unknown[]> {
  const k = await unlockKeyring(dir, password(pw));
  const db = openDatabase(join(dir, 'vault.db'), k.body.pageKeys[0]!.key, true);
  try {
    if (/^\s*(SELECT|PRAGMA)/i.test(sql)) return db.prepare(sql).all();
    db.exec(sql);
    return [];
  } finally {
    db.close();
  }
}

/**
 * Everything observable about a vault's content, for equality: wallets, their versions and every
 * readable secret. `timestamps: false` leaves out the versions' createdAt and updatedAt.
 */
export function snapshot(v: Vault, opts: { timestamps?: boolean } = {}) {
  const timestamps = opts.timestamps ?? true;
  return v.listWallets().map((w) => ({
    ...w,
    seq: 0,
    publicKey: Buffer.from(w.publicKey).toString('hex'),
    versions: v.listVersions(w.keyType, w.walletId).map((s) => ({
      version: s.version,
      status: s.status,
      threshold: s.threshold,
      participants: s.participants,
      ...(timestamps ? { createdAt: s.createdAt, updatedAt: s.updatedAt } : {}),
      // a retired version has no secret to read (getShare refuses it)
      share:
        s.status === 'retired' ? null : Buffer.from(v.getShare(w.keyType, w.walletId, s.version).share).toString('hex'),
    })),
  }));
}

/** Snapshot of the vault in `dir`, opened and closed. */
export async function snapshotOf(dir: string, pw: string) {
  const v = await Vault.open(dir, password(pw));
  try {
    return snapshot(v);
  } finally {
    v.close();
  }
}
