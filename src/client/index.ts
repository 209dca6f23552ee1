/**
 * The TypeScript SDK of a Tessera (or mpcium) cluster: create wallets, sign, reshare, with
 * results as promises or as an async iterator; request signing with Ed25519 or P-256 initiator and
 * authorizer keys (mpcium's key files); client-side child public keys. See docs/client.md.
 */

export { base58, ethereumAddress, solanaAddress } from './addresses.js';
export {
  type BenchmarkOperation,
  type BenchmarkOptions,
  type BenchmarkReport,
  runBenchmark,
} from './benchmark.js';
export { type ClientOptions, MpcClient, type ReshareRequest, type SignRequest } from './client.js';
export { compressSecp256k1PublicKey, deriveChildPublicKey, verifySignOutcome } from './derive.js';
export {
  type AuthorizerSigner,
  type InitiatorSigner,
  type LocalSigner,
  loadAuthorizer,
  loadInitiator,
  localAuthorizer,
  localSigner,
  type RequestSigner,
  readSigningKey,
  type SignatureAlgorithm,
} from './initiator.js';
export {
  type KeygenOutcome,
  keygenOutcome,
  OperationFailedError,
  type ReshareOutcome,
  type ResultEvent,
  reshareOutcome,
  SignatureInvalidError,
  type SignOutcome,
  signOutcome,
} from './outcomes.js';
export {
  type BenchmarkSample,
  type BenchmarkStats,
  type LatencySummary,
  percentile,
  summarize,
  UNFINISHED,
} from './stats.js';
