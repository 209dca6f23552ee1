/**
 * The FROST(Ed25519, SHA-512) ciphersuite of RFC 9591 §6.1: context string and hash functions
 * H1…H5, plus the DKG proof-of-knowledge hash and identifier derivation hash (named as in noble's
 * ed25519_FROST, which is this code's oracle).
 */
import type { Group } from '../group/index.js';
import { concat, sha512, utf8 } from '../math/hash.js';

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

/** Concatenation helper re-exported for the FROST modules. */
export { concat };
