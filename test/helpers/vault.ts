import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
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

export function share(walletId: string, version: number, fill = version, extra: Partial<PutShareInput> = {}): PutShareInput {
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
