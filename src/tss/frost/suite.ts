/**
 * FROST ciphersuites of RFC 9591: FROST(Ed25519, SHA-512) (§6.1, the one Tessera's EdDSA uses)
 * and FROST(secp256k1, SHA-256) (§6.5, used to check the secp256k1 group backends against the
 * RFC vectors). Context string and hash functions H1…H5, plus the DKG proof-of-knowledge hash and
 * identifier derivation hash (named as in noble's FROST, which is this code's oracle).
 */
import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import type { Group } from '../group/index.js';
import { concat, sha256, sha512, utf8 } from '../math/hash.js';

/** RFC 9591 context string. */
export const CONTEXT = 'FROST-ED25519-SHA512-v1';
const P_RHO = utf8(`${CONTEXT}rho`);
const P_NONCE = utf8(`${CONTEXT}nonce`);
const P_MSG = utf8(`${CONTEXT}msg`);
const P_COM = utf8(`${CONTEXT}com`);
const P_DKG = utf8(`${CONTEXT}dkg`);
const P_ID = utf8(`${CONTEXT}id`);

/** Hash functions of the suite, bound to a group backend for the scalar reduction. */
export interface Suite {
  readonly group: Group;
  H1(m: Uint8Array): bigint;
  H2(m: Uint8Array): bigint;
  H3(m: Uint8Array): bigint;
  H4(m: Uint8Array): Uint8Array;
  H5(m: Uint8Array): Uint8Array;
  HDKG(m: Uint8Array): bigint;
  HID(m: Uint8Array): bigint;
}

/** The Ed25519/SHA-512 suite over `group` (which must be an ed25519 backend). */
export function ed25519Suite(group: Group): Suite {
  if (group.curve !== 'ed25519') throw new TypeError('the FROST(Ed25519, SHA-512) suite needs an ed25519 group');
  const toScalar = (h: Uint8Array) => group.reduceBytes(h);
  return {
    group,
    H1: (m) => toScalar(sha512(P_RHO, m)),
    // RFC 9591: H2 is undecorated so signatures are plain RFC 8032 signatures.
    H2: (m) => toScalar(sha512(m)),
    H3: (m) => toScalar(sha512(P_NONCE, m)),
    H4: (m) => sha512(P_MSG, m),
    H5: (m) => sha512(P_COM, m),
    HDKG: (m) => toScalar(sha512(P_DKG, m)),
    HID: (m) => toScalar(sha512(P_ID, m)),
  };
}

/** RFC 9591 context string of FROST(secp256k1, SHA-256). */
export const SECP256K1_CONTEXT = 'FROST-secp256k1-SHA256-v1';

/**
 * The FROST(secp256k1, SHA-256) suite over `group` (a secp256k1 backend): H1, H2, H3, HDKG, HID
 * are hash_to_field (RFC 9380 expand_message_xmd with SHA-256, L = 48) with DST = context ‖ label;
 * H4, H5 are SHA-256(context ‖ label ‖ m).
 */
export function secp256k1Suite(group: Group): Suite {
  if (group.curve !== 'secp256k1') throw new TypeError('the FROST(secp256k1, SHA-256) suite needs a secp256k1 group');
  const h2f = (label: string) => (m: Uint8Array) =>
    hash_to_field(m, 1, {
      DST: `${SECP256K1_CONTEXT}${label}`,
      p: group.order,
      m: 1,
      k: 128,
      expand: 'xmd',
      hash: nobleSha256,
    })[0]![0]!;
  const msgP = utf8(`${SECP256K1_CONTEXT}msg`);
  const comP = utf8(`${SECP256K1_CONTEXT}com`);
  return {
    group,
    H1: h2f('rho'),
    H2: h2f('chal'),
    H3: h2f('nonce'),
    H4: (m) => sha256(msgP, m),
    H5: (m) => sha256(comP, m),
    HDKG: h2f('dkg'),
    HID: h2f('id'),
  };
}

/** Concatenation helper re-exported for the FROST modules. */
export { concat };
