/**
 * Public surface of threshold ECDSA (DKLs23) for the node and client layers; re-exported by
 * `src/tss/index.ts`.
 */

export { OtWindowExceededError } from '../ot/errors.js';
export { INDEX_WINDOW as OT_INDEX_WINDOW } from '../ot/kos.js';
export { isOtEvidence, OtEvidenceAbortError } from './abort.js';
export { type EcdsaDkgOptions, EcdsaDkgParty } from './dkg.js';
export { BurnNotPersistedError } from './errors.js';
export { deriveEcdsaChildPublicKey, type EcdsaDerivation } from './hd.js';
export {
  decodeEcdsaKeyPublic,
  ECDSA_KEY_TYPE,
  type EcdsaKeyPublic,
  EcdsaKeyShare,
  ecdsaKeyPublicDigest,
  publicKeyXY,
  serializeEcdsaKeyPublic,
} from './key-share.js';
export { type EcdsaOtResetupOptions, EcdsaOtResetupParty, type EcdsaOtResetupResult } from './ot-resetup.js';
export {
  type EcdsaReshareOptions,
  EcdsaReshareParty,
  type EcdsaReshareResult,
  ecdsaReshareContext,
} from './reshare.js';
export { type ShareCheckpointOptions, shareCheckpoint } from './share-checkpoint.js';
export { type EcdsaSignOptions, EcdsaSignParty, type EcdsaSignResult } from './sign.js';
