import { generateIdentity, identityToRecipient } from 'age-encryption';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, tempDir } from '../helpers/vault.js';

export interface Keys {
  identity: string;
  recipient: string;
}

export async function newKeys(): Promise<Keys> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function newVault(pw = 'source'): Promise<Vault> {
  return Vault.create(tempDir(), password(pw), { argon2: FAST_ARGON2 });
}

/** Everything observable about a vault's content (as in test/vault/apply-changes.test.ts). */
export function snapshot(v: Vault) {
  return v.listWallets().map((w) => ({
    ...w,
    seq: 0,
    publicKey: Buffer.from(w.publicKey).toString('hex'),
    versions: v.listVersions(w.keyType, w.walletId).map((s) => ({
      version: s.version,
      status: s.status,
      threshold: s.threshold,
      participants: s.participants,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
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
