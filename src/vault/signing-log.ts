/**
 * The durable logs that keep protocol randomness from being drawn twice: the signing log (one
 * entry per signing context and step marker, per share version; deleted with the version or its
 * secret) and the node-wide setup log (DKG, reshare, OT re-setup; never deleted). Neither is part
 * of the change stream (docs/vault.md, "Signing log", "Setup log").
 */
import { InvalidArgumentError, NotFoundError } from '../common/errors.js';
import { destroyedError } from './reads.js';
import { KEY_TYPE_CODE, label, STATUS_CODE } from './rows.js';
import type { VaultStore } from './store.js';
import type { Durability, KeyType } from './types.js';
import { validateKeyType, validateVersion, validateWalletId } from './validate.js';

export function claimSigningContext(
  store: VaultStore,
  keyType: KeyType,
  walletId: string,
  version: number,
  context: Uint8Array,
  durability: Durability = 'sync',
): boolean {
  validateKeyType(keyType);
  validateWalletId(walletId);
  validateVersion(version);
  if (!(context instanceof Uint8Array) || context.length !== 32)
    throw new InvalidArgumentError('a signing context is 32 bytes');
  const ctx = Buffer.from(context);
  return store.writeWith(durability, `claim signing context for ${label(keyType, walletId, version)}`, () => {
    const kt = KEY_TYPE_CODE[keyType];
    const row = store.shareRow(kt, walletId, version);
    if (!row) throw new NotFoundError(label(keyType, walletId, version));
    if (row.status === STATUS_CODE.retired) throw destroyedError(store, row);
    const r = store
      .stmt(
        'INSERT OR IGNORE INTO signing_log (key_type, wallet_id, version, context, started_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(kt, walletId, version, ctx, Date.now());
    return r.changes === 1;
  });
}

export function signingLogSize(store: VaultStore, keyType: KeyType, walletId: string, version: number): number {
  validateKeyType(keyType);
  validateWalletId(walletId);
  validateVersion(version);
  return store.guard('signing log size', () => {
    const r = store
      .stmt('SELECT count(*) AS n FROM signing_log WHERE key_type = ? AND wallet_id = ? AND version = ?')
      .get(KEY_TYPE_CODE[keyType], walletId, version) as { n: number };
    return r.n;
  });
}

export function claimSetupContext(store: VaultStore, context: Uint8Array): boolean {
  if (!(context instanceof Uint8Array) || context.length !== 32)
    throw new InvalidArgumentError('a setup context is 32 bytes');
  const ctx = Buffer.from(context);
  return store.write(
    'claim setup context',
    () =>
      store.stmt('INSERT OR IGNORE INTO setup_log (context, started_at) VALUES (?, ?)').run(ctx, Date.now()).changes ===
      1,
  );
}

export function setupLogSize(store: VaultStore): number {
  return store.guard(
    'setup log size',
    () => (store.stmt('SELECT count(*) AS n FROM setup_log').get() as { n: number }).n,
  );
}
