/**
 * Threshold EdDSA (FROST, RFC 9591, Ed25519) for the node and client layers, under the same names
 * as `ecdsa/index.ts`; `src/tss/index.ts` re-exports it as the namespace `frost`.
 */

export { type DkgOptions, FrostDkgParty as DkgParty } from './dkg.js';
export { deriveChildPublicKey } from './hd.js';
export {
  decodeKeyPublic,
  deserializeKeyPublic,
  type FrostKeyPublic as KeyPublic,
  FrostKeyShare as KeyShare,
  KEY_TYPE,
  keyPublicDigest,
  serializeKeyPublic,
} from './key-share.js';
export { FrostReshareParty as ReshareParty, type ReshareOptions, type ReshareResult } from './reshare.js';
export { type Derivation, FrostSignParty as SignParty, type SignOptions, type SignResult } from './sign.js';
