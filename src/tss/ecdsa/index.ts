/**
 * Public surface of threshold ECDSA (DKLs23) for the node and client layers; re-exported by
 * `src/tss/index.ts`.
 */
export { INDEX_WINDOW as OT_INDEX_WINDOW } from '../ot/kos.js';
export { isOtEvidence, OtEvidenceAbortError } from './abort.js';
export { EcdsaDkgParty, type EcdsaDkgOptions } from './dkg.js';
export { deriveEcdsaChildPublicKey, type EcdsaDerivation } from './hd.js';
export { ECDSA_KEY_TYPE, EcdsaKeyShare, type EcdsaKeyPublic, decodeEcdsaKeyPublic, ecdsaKeyPublicDigest, publicKeyXY, serializeEcdsaKeyPublic } from './key-share.js';
export { EcdsaOtResetupParty, type EcdsaOtResetupOptions, type EcdsaOtResetupResult } from './ot-resetup.js';
export { EcdsaReshareParty, type EcdsaReshareOptions, type EcdsaReshareResult, ecdsaReshareContext } from './reshare.js';
export { EcdsaSignParty, type EcdsaSignOptions, type EcdsaSignResult } from './sign.js';
export { OtWindowExceededError } from '../ot/errors.js';
export { BurnNotPersistedError } from './errors.js';
export { type ShareCheckpointOptions, shareCheckpoint } from './share-checkpoint.js';
