/**
 * What a request comes to: the outcome of a success result, or an {@link OperationFailedError}
 * carrying the result's `ERROR_*` code — and the result events as `results()` yields them.
 */
import type {
  KeygenResultEvent,
  KeyType,
  Operation,
  ReshareResultEvent,
  ResultError,
  SigningResultEvent,
} from '../api/index.js';
import { TesseraError } from '../common/errors.js';

/** A new wallet's public keys. */
export interface KeygenOutcome {
  readonly walletId: string;
  /** The secp256k1 key as the result carries it: 64 bytes X‖Y (`compressSecp256k1PublicKey` gives 33 bytes). */
  readonly ecdsaPublicKey: Uint8Array;
  /** The 32-byte Ed25519 key. */
  readonly eddsaPublicKey: Uint8Array;
}

/** A signature and the request it answers. */
export type SignOutcome = {
  readonly walletId: string;
  readonly txId: string;
  readonly networkInternalCode: string;
} & (
  | { readonly keyType: 'secp256k1'; readonly r: Uint8Array; readonly s: Uint8Array; readonly recoveryId: number }
  | { readonly keyType: 'ed25519'; readonly signature: Uint8Array }
);

/** A reshared wallet key. */
export interface ReshareOutcome {
  readonly walletId: string;
  readonly sessionId: string;
  readonly keyType: KeyType;
  readonly newThreshold: number;
  /** 64 bytes X‖Y (secp256k1) or 32 bytes (ed25519). */
  readonly publicKey: Uint8Array;
}

/** One result as `results()` yields it: the operation, where it came from, and the parsed event. */
export type ResultEvent = { readonly subject: string; readonly seq: number } & (
  | { readonly operation: 'keygen'; readonly result: KeygenResultEvent }
  | { readonly operation: 'signing'; readonly result: SigningResultEvent }
  | { readonly operation: 'reshare'; readonly sessionId: string; readonly result: ReshareResultEvent }
);

/**
 * The cluster answered a request with an error result (or with a success result that is
 * malformed: `ERROR_MESSAGE_FORMAT`). `errorCode` is mpcium's `ERROR_*` code as sent.
 */
export class OperationFailedError extends TesseraError {
  constructor(
    readonly operation: Operation,
    /** The wallet id (keygen), tx id (signing) or session id (reshare). */
    readonly id: string,
    readonly errorCode: ResultError['code'] | (string & {}),
    readonly reason: string,
    /** Signing: the cluster gave up waiting (e.g. `ERROR_MAX_DELIVERY_ATTEMPTS`). */
    readonly isTimeout = false,
  ) {
    super('OPERATION_FAILED', `${operation} ${id} failed with ${errorCode}: ${reason || '(no reason given)'}`);
  }
}

/**
 * A signature the cluster returned does not verify under the public key it was checked against
 * (`verifySignOutcome`): a wrong public key or chain code given, or a cluster (or result channel)
 * that cannot be trusted.
 */
export class SignatureInvalidError extends TesseraError {
  constructor(
    readonly walletId: string,
    readonly txId: string,
    what: string,
  ) {
    super(
      'SIGNATURE_INVALID',
      `the signature of tx ${txId} (wallet ${walletId}) does not verify under ${what}; check the public key ` +
        '(and the chain code for a derived path) — if they are right, do not use this signature',
    );
  }
}

function failure(op: Operation, id: string, e: { errorCode: string; errorReason: string }, isTimeout = false) {
  return new OperationFailedError(op, id, e.errorCode || 'ERROR_UNKNOWN', e.errorReason, isTimeout);
}

function malformed(op: Operation, id: string, what: string): OperationFailedError {
  return new OperationFailedError(op, id, 'ERROR_MESSAGE_FORMAT', `the success result is malformed: ${what}`);
}

const len = (b: Uint8Array | null, n: number): b is Uint8Array => b !== null && b.length === n;

/** The outcome of a keygen result. Throws {@link OperationFailedError} for an error or a malformed success. */
export function keygenOutcome(e: KeygenResultEvent): KeygenOutcome {
  if (e.resultType !== 'success') throw failure('keygen', e.walletId, e);
  if (!len(e.ecdsaPubKey, 64) || !len(e.eddsaPubKey, 32))
    throw malformed('keygen', e.walletId, 'ecdsa_pub_key must be 64 bytes and eddsa_pub_key 32');
  return { walletId: e.walletId, ecdsaPublicKey: e.ecdsaPubKey, eddsaPublicKey: e.eddsaPubKey };
}

/** The outcome of a signing result for a `keyType` request. Throws {@link OperationFailedError} for an error or a malformed success. */
export function signOutcome(keyType: KeyType, e: SigningResultEvent): SignOutcome {
  if (e.resultType !== 'success') throw failure('signing', e.txId, e, e.isTimeout);
  const head = { walletId: e.walletId, txId: e.txId, networkInternalCode: e.networkInternalCode };
  if (keyType === 'ed25519') {
    if (!len(e.signature, 64)) throw malformed('signing', e.txId, 'an ed25519 signature is 64 bytes');
    return { ...head, keyType, signature: e.signature };
  }
  if (!len(e.r, 32) || !len(e.s, 32) || !len(e.signatureRecovery, 1) || e.signatureRecovery[0]! > 3)
    throw malformed('signing', e.txId, 'r and s are 32 bytes and signature_recovery one byte 0..3');
  return { ...head, keyType, r: e.r, s: e.s, recoveryId: e.signatureRecovery[0]! };
}

/** The outcome of a reshare result. Throws {@link OperationFailedError} for an error or a malformed success. */
export function reshareOutcome(sessionId: string, keyType: KeyType, e: ReshareResultEvent): ReshareOutcome {
  if (e.resultType !== 'success') throw failure('reshare', sessionId, e);
  if (!len(e.pubKey, keyType === 'secp256k1' ? 64 : 32))
    throw malformed('reshare', sessionId, `pub_key must be ${keyType === 'secp256k1' ? 64 : 32} bytes`);
  return { walletId: e.walletId, sessionId, keyType, newThreshold: e.newThreshold, publicKey: e.pubKey };
}
