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
