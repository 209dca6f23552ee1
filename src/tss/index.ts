/**
 * The public face of the `tss` layer for the node and client layers: the two protocol families
 * as namespaces with the same names (`frost.DkgParty`, `ecdsa.DkgParty`, …), the interfaces every
 * key share and key-generating party implements, the session pieces a node wires (messages,
 * aborts, logs, checkpoints), HD paths and the production rng. Test tooling is in `testing.ts`.
 */

export * as ecdsa from './ecdsa/index.js';
export * as frost from './frost/index.js';
export { HARDENED_OFFSET, MAX_PATH_LENGTH, validatePath } from './math/hd.js';
export { type Rng, systemRng } from './math/rng.js';
export { checkpointed } from './session/checkpoint.js';
export { ProtocolAbortedError } from './session/errors.js';
export type { KeygenParty, KeyShare } from './session/key-share.js';
export { decodeMessage, encodeMessage, MAX_PAYLOAD_BYTES, type Message } from './session/message.js';
export type { PartyStatus, ProtocolParty } from './session/party.js';
export {
  SetupContextReusedError,
  type SetupLog,
  SetupStepReplayedError,
  SigningContextReusedError,
  type SigningLog,
  SigningStepReplayedError,
} from './session/signing-log.js';
