import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { restoreChain, runBackup } from '../../src/backup/index.js';
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

/**
 * Backs `v` up (a full backup into a new directory, to new age keys), closes it, and restores the
 * backup into a new vault (password 'new'), which it returns open.
 */
export async function backedUpAndRestored(v: Vault): Promise<Vault> {
  const keys = await newKeys();
  const out = tempDir();
  await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
  v.close();
  const to = join(tempDir(), 'r');
  await restoreChain(out, to, { identities: [keys.identity] }, password('new'), { argon2: FAST_ARGON2 });
  return Vault.open(to, password('new'));
}
