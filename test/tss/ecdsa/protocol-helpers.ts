/** ECDSA-only test helpers; the protocol runs for both curves are in test/helpers/protocol-runs.ts. */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { EcdsaKeyShare } from '../../../src/tss/ecdsa/key-share.js';

/** Independent copies of a set of shares (serialize/deserialize), so a test can consume OT state without affecting others. */
export function clone(shares: Map<string, EcdsaKeyShare>): Map<string, EcdsaKeyShare> {
  return new Map([...shares].map(([k, v]) => [k, EcdsaKeyShare.deserialize(v.serialize())]));
}

export const sha256 = (m: Uint8Array) => new Uint8Array(createHash('sha256').update(m).digest());

/** Verifies (r ‖ s) over a digest with noble (prehash: false, lowS). */
export function nobleVerifies(sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  return secp256k1.verify(sig, digest, publicKey, { prehash: false, lowS: true });
}

/** Verifies (r ‖ s) over the SHA-256 of `msg` with node:crypto. */
export function nodeVerifies(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  const spki = Buffer.concat([
    Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'),
    Buffer.from(publicKey),
  ]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return nodeVerify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig);
}
