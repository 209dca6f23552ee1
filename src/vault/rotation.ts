/**
 * Password and key rotation. `rotatePassword` re-seals the keyring only; `rotateKey` stages new
 * keys in the keyring, re-seals every record in batches (online), re-encrypts the pages by copy,
 * then drops the old keys. Every step is idempotent: an interrupted rotation finishes on open
 * (`finishRotation`). See docs/vault.md, "Rotation".
 */
import { join } from 'node:path';
import sodium from 'sodium-native';
import { VaultCorruptedError } from '../common/errors.js';
import { secureRandomBytes } from '../common/random.js';
import { resealAuditHead } from './audit-log.js';
import { DB_FILE, openWithPageKeys, rekeyByCopy } from './database.js';
import { deriveKeys, kdfFor, SALT_BYTES, wipeDerived } from './kdf.js';
import { type KeyringBody, type KeyringHeader, newKey } from './keyring-format.js';
import { writeKeyring } from './keyring-store.js';
import { sealRecord } from './record-seal.js';
import { decodeKeyType, META_COLS, type ShareRow } from './rows.js';
import { assertSecret, type VaultSecret } from './secret.js';
import type { VaultStore } from './store.js';
import type { CreateOptions, Progress } from './types.js';

export function rotatePassword(store: VaultStore, newSecret: VaultSecret, options: CreateOptions): Promise<void> {
  assertSecret(newSecret);
  return store.exclusive(async () => {
    store.assertOpen();
    const { kdf, argon2 } = kdfFor(newSecret, options.argon2);
    const salt = secureRandomBytes(SALT_BYTES);
    const derived = await deriveKeys(newSecret, kdf, argon2, salt, store.header.vaultId);
    store.assertOpen();
    const header: KeyringHeader = {
      ...store.header,
      kdf,
      argon2,
      salt,
      generation: store.header.generation + 1,
      verifier: Uint8Array.from(derived.verifier),
    };
    try {
      writeKeyring(store.dir, header, store.body, derived.kek);
    } catch (e) {
      wipeDerived(derived);
      throw e;
    }
    wipeDerived(store.derived);
    store.derived = derived;
    store.header = header;
    store.keyringIssues = [];
  });
}

export function rotateKey(
  store: VaultStore,
  options: { onProgress?: Progress; batchSize?: number },
): Promise<{ resealed: number }> {
  return store.exclusive(async () => {
    store.assertOpen();
    store.rotating = true;
    try {
      if (!store.rotationPending()) {
        const now = Date.now();
        const nextPage = Math.max(...store.body.pageKeys.map((k) => k.id)) + 1;
        const nextData = Math.max(...store.body.dataKeys.map((k) => k.id)) + 1;
        const staged: KeyringBody = {
          pageKeys: [...store.body.pageKeys, { id: nextPage, role: 'next', key: newKey() }],
          dataKeys: [
            ...store.body.dataKeys.map((k) => ({ ...k, status: 'decrypt-only' as const })),
            { id: nextData, status: 'primary', createdAt: now, key: newKey() },
          ],
        };
        store.rewriteKeyring(staged);
        store.body = staged;
      }
      const resealed = await resealAll(store, options.onProgress, options.batchSize ?? 256);
      store.assertOpen();
      finishRotation(store);
      return { resealed };
    } finally {
      store.rotating = false;
    }
  });
}

/** Re-seals up to `limit` shares not yet under the primary data key; returns how many. */
function resealBatch(store: VaultStore, limit: number): number {
  const primary = store.primaryKey();
  return store.transaction('reseal shares', () => {
    // Rows that have a record (a retired version has none).
    const rows = store
      .stmt(
        `SELECT ${META_COLS}, sealed FROM shares_full WHERE id IN ` +
          `(SELECT share_id FROM records WHERE data_key_id != ? LIMIT ?)`,
      )
      .all(primary.id, limit) as ShareRow[];
    const update = store.stmt('UPDATE records SET sealed = ?, data_key_id = ? WHERE share_id = ?');
    for (const r of rows) {
      const plain = store.openRow(r);
      const keyType = decodeKeyType(r.key_type, `share row ${r.wallet_id}`);
      update.run(
        sealRecord(primary.key, store.identity(keyType, r.wallet_id, r.version, primary.id), plain),
        primary.id,
        r.id,
      );
      plain.fill(0);
    }
    return rows.length;
  });
}

async function resealAll(store: VaultStore, onProgress: Progress | undefined, batchSize: number): Promise<number> {
  const primary = store.primaryKey();
  const total = store.guard(
    'count shares',
    () => (store.stmt('SELECT count(*) AS n FROM records WHERE data_key_id != ?').get(primary.id) as { n: number }).n,
  );
  let done = 0;
  onProgress?.(0, total);
  for (;;) {
    store.assertOpen();
    const n = resealBatch(store, batchSize);
    if (n === 0) break;
    done += n;
    onProgress?.(Math.min(done, total), total);
    // Other calls on the vault run between batches: the rotation is online.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return done;
}

/**
 * Final steps of a key rotation (also run on open after a crash): re-seal whatever is left (and the
 * audit log's sealed head), move the pages to the next page key unless they are there already, then
 * drop the old keys from the keyring. Each step is idempotent, so a crash anywhere repeats at most one of them.
 */
export function finishRotation(store: VaultStore): void {
  while (resealBatch(store, 256) > 0);
  resealAuditHead(store);
  const primary = store.primaryKey();
  const next = store.body.pageKeys.find((k) => k.role === 'next');
  const keep = next ?? store.body.pageKeys.find((k) => k.role === 'current')!;
  if (store.pageKeyInUse !== keep.id) {
    const path = join(store.dir, DB_FILE);
    store.guard('rekey pages', () => {
      try {
        rekeyByCopy(store.db, path, keep.key);
      } finally {
        if (!store.db.open) {
          // Whether or not the copy replaced the file, reopen with the key that opens it.
          const reopened = openWithPageKeys(path, store.body);
          store.reconnect(reopened.db, reopened.pageKeyId);
        }
      }
    });
    if (store.pageKeyInUse !== keep.id)
      throw new VaultCorruptedError('database', path, 'the re-encrypted copy did not replace the database');
  }
  const finalBody: KeyringBody = { pageKeys: [{ ...keep, role: 'current' }], dataKeys: [primary] };
  const dropped = [
    ...store.body.pageKeys.filter((k) => k.key !== keep.key),
    ...store.body.dataKeys.filter((k) => k.key !== primary.key),
  ];
  store.rewriteKeyring(finalBody);
  store.body = finalBody;
  for (const k of dropped) sodium.sodium_memzero(k.key);
}
