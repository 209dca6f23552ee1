/** FROST-only test helpers; the protocol runs for both curves are in test/helpers/protocol-runs.ts. */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

/** Verifies an Ed25519 signature with noble AND node:crypto. */
export function verifiesEverywhere(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  const noble = ed25519.verify(sig, msg, publicKey);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const node = nodeVerify(null, msg, key, sig);
  return noble && node;
}
