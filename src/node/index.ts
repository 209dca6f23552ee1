/** The Tessera node (in progress): its configuration and identities. */

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
  type AuthorizationPolicy,
  authenticateRequest,
  parseVerifyingKey,
  type SignatureAlgorithm,
  type VerifyingKey,
  verifySignature,
} from './requests/authenticate.js';
