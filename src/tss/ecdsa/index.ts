/**
 * Threshold ECDSA (DKLs23, secp256k1) for the node and client layers, under the same names as
 * `frost/index.ts` plus what only DKLs23 has (the OT re-setup of a burnt pair, the share
 * checkpoint, the OT window); `src/tss/index.ts` re-exports it as the namespace `ecdsa`.
 */

export { OtWindowExceededError } from '../ot/errors.js';
export { INDEX_WINDOW as OT_INDEX_WINDOW } from '../ot/kos.js';
export { isOtEvidence, OtEvidenceAbortError } from './abort.js';
export { type EcdsaDkgOptions as DkgOptions, EcdsaDkgParty as DkgParty } from './dkg.js';
export { BurnNotPersistedError } from './errors.js';
export { deriveEcdsaChildPublicKey as deriveChildPublicKey, type EcdsaDerivation as Derivation } from './hd.js';
export {
  decodeEcdsaKeyPublic as decodeKeyPublic,
  deserializeEcdsaKeyPublic as deserializeKeyPublic,
  ECDSA_KEY_TYPE as KEY_TYPE,
  type EcdsaKeyPublic as KeyPublic,
  EcdsaKeyShare as KeyShare,
  ecdsaKeyPublicDigest as keyPublicDigest,
  publicKeyXY,
  serializeEcdsaKeyPublic as serializeKeyPublic,
} from './key-share.js';
export {
  type EcdsaOtResetupOptions as OtResetupOptions,
  EcdsaOtResetupParty as OtResetupParty,
  type EcdsaOtResetupResult as OtResetupResult,
} from './ot-resetup.js';
export {
  type EcdsaReshareOptions as ReshareOptions,
  EcdsaReshareParty as ReshareParty,
  type EcdsaReshareResult as ReshareResult,
} from './reshare.js';
export { type ShareCheckpointOptions, shareCheckpoint } from './share-checkpoint.js';
export {
  type EcdsaSignOptions as SignOptions,
  EcdsaSignParty as SignParty,
  type EcdsaSignResult as SignResult,
} from './sign.js';
