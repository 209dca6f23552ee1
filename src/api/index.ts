/**
 * mpcium's client contract as pure data — subjects, request and result messages, the bytes
 * initiators and authorizers sign, error codes, the key files initiators keep — shared by the node,
 * the SDK and the tests. No transport, no I/O.
 */

export { ERROR_CODES, type ErrorCode, isErrorCode } from './error-codes.js';
export { type GoJsonObject, type GoJsonValue, goBytes, goJson, goJsonString } from './go-json.js';
export { decryptKeyFile, privateKeyFromHex, type SignatureAlgorithm, signingKeyFromText } from './key-files.js';
export { type ProtocolField, protocolProblem, TESSERA_PROTOCOLS } from './protocols.js';
export {
  type AuthorizerSignature,
  authorizerSignedBytes,
  encodeGenerateKeyRequest,
  encodeResharingRequest,
  encodeSignTxRequest,
  type GenerateKeyRequest,
  generateKeySignedBytes,
  initiatorId,
  type KeyType,
  parseGenerateKeyRequest,
  parseResharingRequest,
  parseSignTxRequest,
  RequestError,
  type ResharingRequest,
  resharingSignedBytes,
  type SignTxRequest,
  signTxSignedBytes,
} from './requests.js';
export {
  type KeygenResultEvent,
  keygenResult,
  parseKeygenResult,
  parseReshareResult,
  parseSigningResult,
  type ReshareResultEvent,
  type ResultError,
  reshareResult,
  type SignatureOutcome,
  type SigningResultEvent,
  signingResult,
} from './results.js';
export {
  CLIENT_ID_HEADER,
  KEYGEN_CONSUMER,
  KEYGEN_REQUEST_SUBJECTS,
  KEYGEN_STREAM,
  MAX_REPLY_SUBJECT_BYTES,
  type Operation,
  REPLY_TO_HEADER,
  RESHARE_REQUEST_SUBJECT,
  RESULT_STREAM,
  RESULT_SUBJECTS,
  requestSubject,
  resultConsumer,
  resultMessageId,
  resultSubject,
  SIGNING_CONSUMER,
  SIGNING_REQUEST_SUBJECTS,
  SIGNING_STREAM,
  sanitizeConsumerName,
  unauthenticatedResultMessageId,
  validateReplySubject,
  validateSubjectToken,
} from './subjects.js';
