/**
 * Creating and opening a vault directory: the lock, the keyring, the database file (the write-ahead
 * log checked before SQLite replays it), the schema and its upgrade, the repair of a damaged
 * keyring copy and the end of an interrupted key rotation. Closing is `VaultStore.close`.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyExistsError, NotFoundError, VaultCorruptedError } from '../common/errors.js';
import { ensurePrivateDir } from '../common/fs.js';
import { secureRandomBytes } from '../common/random.js';
import { sealedGenesisHead } from './audit-log.js';
import {
  createPrivateFile,
  DB_FILE,
  type Db,
  initSchema,
  openDatabase,
  openWithPageKeys,
  removeStaleRekey,
  translateDbError,
  upgradeSchema,
} from './database.js';
import { type DerivedKeys, deriveKeys, kdfFor, SALT_BYTES, wipeDerived } from './kdf.js';
import { type KeyringBody, type KeyringHeader, newKey, VAULT_ID_BYTES, wipeBody } from './keyring-format.js';
import { keyringExists, unlockKeyring, writeKeyring } from './keyring-store.js';
import { acquireLock, type VaultLock } from './lock.js';
import { finishRotation } from './rotation.js';
import { assertSecret, type VaultSecret } from './secret.js';
import { retireStalePending } from './shares.js';
import { VaultStore } from './store.js';
import type { CreateOptions } from './types.js';
import { checkWalFile } from './wal-check.js';

/** See `Vault.create`. */
export async function createStore(dir: string, secret: VaultSecret, options: CreateOptions): Promise<VaultStore> {
  assertSecret(secret);
  ensurePrivateDir(dir);
  if (keyringExists(dir) || existsSync(join(dir, DB_FILE))) {
    throw new AlreadyExistsError(`a vault in ${dir}`, 'choose an empty directory or open the existing vault');
  }
  const lock = acquireLock(dir);
  let db: Db | undefined;
  let keys: { body: KeyringBody; derived: DerivedKeys } | undefined;
  try {
    for (const f of readdirSync(dir)) if (f.startsWith(`${DB_FILE}-`)) rmSync(join(dir, f), { force: true });
    const vaultId = secureRandomBytes(VAULT_ID_BYTES);
    const { kdf, argon2 } = kdfFor(secret, options.argon2);
    const salt = secureRandomBytes(SALT_BYTES);
    const derived = await deriveKeys(secret, kdf, argon2, salt, vaultId);
    const now = Date.now();
    const body: KeyringBody = {
      pageKeys: [{ id: 1, role: 'current', key: newKey() }],
      dataKeys: [{ id: 1, status: 'primary', createdAt: now, key: newKey() }],
    };
    keys = { body, derived };
    const header: KeyringHeader = {
      vaultId,
      kdf,
      argon2,
      salt,
      generation: 1,
      verifier: Uint8Array.from(derived.verifier),
    };
    const path = join(dir, DB_FILE);
    createPrivateFile(path);
    db = openDatabase(path, body.pageKeys[0]!.key, true);
    initSchema(db, vaultId, now, sealedGenesisHead(vaultId, body.dataKeys[0]!));
    // The keyring is written last: until it exists the directory holds no openable vault.
    writeKeyring(dir, header, body, derived.kek);
    return new VaultStore(dir, db, lock, header, body, derived, [], 1);
  } catch (e) {
    throw abandon(e, dir, 'create', lock, db, keys);
  }
}

/** See `Vault.open`. */
export async function openStore(dir: string, secret: VaultSecret): Promise<VaultStore> {
  assertSecret(secret);
  if (!existsSync(dir))
    throw new NotFoundError(`vault directory ${dir}`, 'check --dir or create the vault with `tessera vault init`');
  const lock = acquireLock(dir);
  let unlocked: Awaited<ReturnType<typeof unlockKeyring>> | undefined;
  let db: Db | undefined;
  try {
    unlocked = await unlockKeyring(dir, secret);
    const path = join(dir, DB_FILE);
    if (!existsSync(path)) throw new VaultCorruptedError('database', path, 'the database file is missing');
    removeStaleRekey(path);
    const wal = checkWalFile(`${path}-wal`);
    if (!wal.ok) throw new VaultCorruptedError('wal', `${path}-wal frame ${wal.frame}`, wal.reason);
    const opened = openWithPageKeys(path, unlocked.body);
    db = opened.db;
    const stored = db.prepare("SELECT v FROM meta WHERE k = 'vault_id'").get() as { v: Buffer } | undefined;
    if (!stored || !Buffer.from(stored.v).equals(Buffer.from(unlocked.header.vaultId))) {
      throw new VaultCorruptedError('database', path, 'the database belongs to another vault than the keyring');
    }
    // An upgrade that destroyed records (secrets of versions retired before schema 3) rebuilds the
    // file: pages freed before secure_delete was on may still hold old copies of records.
    const primary = unlocked.body.dataKeys.find((k) => k.status === 'primary')!;
    const upgrade = upgradeSchema(db, path, sealedGenesisHead(unlocked.header.vaultId, primary));
    if (upgrade.destroyed) db.exec('VACUUM');
    // Old log frames may still hold records a destroy deleted if the last process died between
    // its commit and its checkpoint (or the upgrade just destroyed retired secrets): fold the
    // log into the database and truncate it before anything else runs.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const store = new VaultStore(
      dir,
      db,
      lock,
      unlocked.header,
      unlocked.body,
      unlocked.derived,
      unlocked.issues,
      opened.pageKeyId,
    );
    db = undefined;
    const u = unlocked;
    unlocked = undefined;
    try {
      if (u.issues.length > 0) store.rewriteKeyring(store.body);
      if (store.rotationPending()) finishRotation(store);
      // A build before schema 3 activated versions without retiring the pending ones below them;
      // since then activation does it in the same transaction, so only an upgraded vault needs this.
      if (upgrade.from < 3) retireStalePending(store);
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  } catch (e) {
    throw abandon(e, dir, 'open', lock, db, unlocked);
  }
}

/**
 * Undoes a failed create or open: closes the database if it was opened, zeroes the keys if they
 * were made, releases the lock; returns the error to throw.
 */
function abandon(
  e: unknown,
  dir: string,
  where: string,
  lock: VaultLock,
  db: Db | undefined,
  keys: { body: KeyringBody; derived: DerivedKeys } | undefined,
): Error {
  db?.close();
  if (keys) {
    wipeBody(keys.body);
    wipeDerived(keys.derived);
  }
  lock.release();
  return translateDbError(e, dir, where);
}
