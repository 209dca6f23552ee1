/**
 * Public surface of threshold ECDSA (DKLs23) for the node and client layers; re-exported by
 * `src/tss/index.ts`.
 */
export { EcdsaDkgParty, type EcdsaDkgOptions } from './dkg.js';
export { deriveEcdsaChildPublicKey, type EcdsaDerivation } from './hd.js';
export { ECDSA_KEY_TYPE, EcdsaKeyShare, type EcdsaKeyPublic, decodeEcdsaKeyPublic, ecdsaKeyPublicDigest, publicKeyXY, serializeEcdsaKeyPublic } from './key-share.js';
export { EcdsaOtResetupParty, type EcdsaOtResetupOptions, type EcdsaOtResetupResult } from './ot-resetup.js';
export { EcdsaReshareParty, type EcdsaReshareOptions, type EcdsaReshareResult, ecdsaReshareContext } from './reshare.js';
export { EcdsaSignParty, type EcdsaSignOptions, type EcdsaSignResult } from './sign.js';
export { shareCheckpoint } from './share-checkpoint.js';
