/** The Tessera node (in progress): its configuration, identities, request authentication and channels. */

export {
  ChannelError,
  type ChannelMessage,
  type ChannelRejection,
  Channels,
  type ChannelsOptions,
  type InboundMessage,
  MAX_CHANNEL_PAYLOAD_BYTES,
  MAX_SESSION_ID_BYTES,
  verifyBroadcast,
} from './channels/index.js';
export { LocalCluster, type LocalClusterOptions } from './cluster.js';
export { ConfigError, type NodeConfig, parseNodeConfig } from './config.js';
export {
  checkPassphrase,
  createIdentity,
  createSigningKey,
  decryptPrivateKey,
  encryptPrivateKey,
  generatePeers,
  type IdentityFile,
  parsePeers,
  peerEntryProblems,
  privateKeyFromHex,
  readIdentity,
  type SigningKeyFiles,
  signingKeyFromText,
  signWithIdentity,
  verifyWithIdentity,
  writeIdentity,
  writeSigningKey,
} from './identity.js';
export {
  type NodeMetrics,
  noMetrics,
  type RequestOp,
  type SessionOp,
  type SessionRole,
} from './metrics.js';
export { type NodeOptions, TesseraNode } from './node.js';
export {
  type AuthorizationPolicy,
  authenticateRequest,
  parseVerifyingKey,
  type SignatureAlgorithm,
  type VerifyingKey,
  verifySignature,
} from './requests/authenticate.js';
export { MAX_REQUEST_BYTES } from './requests/handle.js';
export { NODE_INBOX_PREFIX } from './requests/reply-to.js';
