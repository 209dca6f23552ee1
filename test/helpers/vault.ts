import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openDatabase } from '../../src/vault/database.js';
import { unlockKeyring } from '../../src/vault/keyring-store.js';
import type { VaultSecret } from '../../src/vault/secret.js';
import type { PutShareInput } from '../../src/vault/types.js';

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
