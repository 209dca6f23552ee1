/**
 * Public surface of the `tss` layer for the node and client layers.
 */

export * from './ecdsa/index.js';
export { type DkgOptions, FrostDkgParty } from './frost/dkg.js';
export { deriveChild, deriveChildPublicKey, HARDENED_OFFSET, validatePath } from './frost/hd.js';
export { partyIdentifier, partyIdentifiers } from './frost/identifiers.js';
export {
  decodeKeyPublic,
  deserializeKeyPublic,
  type FrostKeyPublic,
  FrostKeyShare,
  KEY_TYPE as FROST_KEY_TYPE,
  keyPublicDigest,
  serializeKeyPublic,
} from './frost/key-share.js';
export { FrostReshareParty, type ReshareOptions, type ReshareResult } from './frost/reshare.js';
export { type Derivation, FrostSignParty, type SignOptions, type SignResult } from './frost/sign.js';
export { type BackendName, type CurveName, type Group, getGroup, type Point } from './group/index.js';
// seededRng (deterministic, test-only) is deliberately not part of the public surface: tests import it from math/rng.js.
export { type Rng, systemRng } from './math/rng.js';
export { checkpointed } from './session/checkpoint.js';
export { ProtocolAbortedError } from './session/errors.js';
export { decodeMessage, encodeMessage, MAX_PAYLOAD_BYTES, type Message } from './session/message.js';
export type { PartyStatus, ProtocolParty } from './session/party.js';
export { type Delivery, type FaultAction, type FaultInjector, type RunReport, runParties } from './session/runner.js';
export {
  MemorySigningLog,
  SetupContextReusedError,
  type SetupLog,
  SetupStepReplayedError,
  SigningContextReusedError,
  type SigningLog,
  SigningStepReplayedError,
} from './session/signing-log.js';
