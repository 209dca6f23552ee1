/**
 * mpcium's result events (reference §1.5) as the bytes a node publishes — fields in Go's struct
 * order, keys and signatures base64 with padding, `null` for what a result does not carry — and as
 * a client reads them back (`parse*Result`, lenient as Go's `json.Unmarshal`).
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../common/errors.js';
import type { ErrorCode } from './error-codes.js';
import { goBytes, goJson } from './go-json.js';
import { goBase64, type KeyType } from './requests.js';

/** Why an operation failed, as a result reports it. */
export interface ResultError {
  readonly code: ErrorCode;
  readonly reason: string;
  /** Signing only: the failure was a timeout. */
  readonly isTimeout?: boolean;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

function checkLength(what: string, b: Uint8Array, n: number): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new InvalidArgumentError(`${what} must be ${n} bytes`);
  return b;
}

/**
 * A keygen result: `ecdsa_pub_key` is the 64-byte X‖Y of the secp256k1 key (no 0x04 prefix),
 * `eddsa_pub_key` the 32-byte Ed25519 key. Throws `InvalidArgumentError` on a key of the wrong length.
 */
export function keygenResult(
  walletId: string,
  outcome: { ecdsaPublicKeyXY: Uint8Array; eddsaPublicKey: Uint8Array } | ResultError,
): Uint8Array {
  if ('code' in outcome) {
    return utf8(
      goJson({
        wallet_id: walletId,
        ecdsa_pub_key: null,
        eddsa_pub_key: null,
        result_type: 'error',
        error_reason: outcome.reason,
        error_code: outcome.code,
      }),
    );
  }
  return utf8(
    goJson({
      wallet_id: walletId,
      ecdsa_pub_key: goBytes(checkLength('ecdsa_pub_key', outcome.ecdsaPublicKeyXY, 64)),
      eddsa_pub_key: goBytes(checkLength('eddsa_pub_key', outcome.eddsaPublicKey, 32)),
      result_type: 'success',
      error_reason: '',
      error_code: '',
    }),
  );
}

/** A signature as a signing result carries it. */
export type SignatureOutcome =
  | { readonly keyType: 'secp256k1'; readonly r: Uint8Array; readonly s: Uint8Array; readonly recoveryId: number }
  | { readonly keyType: 'ed25519'; readonly signature: Uint8Array };

/**
 * A signing result: ECDSA `r`, `s` (32 bytes each, low-S) and `signature_recovery` (one byte);
 * EdDSA `signature` (64 bytes). Throws `InvalidArgumentError` on a value of the wrong length.
 */
export function signingResult(
  req: { walletId: string; txId: string; networkInternalCode: string },
  outcome: SignatureOutcome | ResultError,
): Uint8Array {
  const head = (ok: boolean, e?: ResultError) => ({
    result_type: ok ? 'success' : 'error',
    error_code: e?.code ?? '',
    error_reason: e?.reason ?? '',
    is_timeout: e?.isTimeout === true,
    network_internal_code: req.networkInternalCode,
    wallet_id: req.walletId,
    tx_id: req.txId,
  });
  if ('code' in outcome)
    return utf8(goJson({ ...head(false, outcome), r: null, s: null, signature_recovery: null, signature: null }));
  if (outcome.keyType === 'secp256k1') {
    if (!Number.isInteger(outcome.recoveryId) || outcome.recoveryId < 0 || outcome.recoveryId > 3)
      throw new InvalidArgumentError('recovery id must be 0..3');
    return utf8(
      goJson({
        ...head(true),
        r: goBytes(checkLength('r', outcome.r, 32)),
        s: goBytes(checkLength('s', outcome.s, 32)),
        signature_recovery: goBytes(Uint8Array.of(outcome.recoveryId)),
        signature: null,
      }),
    );
  }
  return utf8(
    goJson({
      ...head(true),
      r: null,
      s: null,
      signature_recovery: null,
      signature: goBytes(checkLength('signature', outcome.signature, 64)),
    }),
  );
}

/**
 * A reshare result: `pub_key` is the 64-byte X‖Y (secp256k1) or the 32-byte key (ed25519). Throws
 * `InvalidArgumentError` on a key of the wrong length.
 */
export function reshareResult(
  req: { walletId: string; newThreshold: number; keyType: KeyType },
  outcome: { publicKey: Uint8Array } | ResultError,
): Uint8Array {
  const base = { wallet_id: req.walletId, new_threshold: req.newThreshold, key_type: req.keyType };
  if ('code' in outcome)
    return utf8(
      goJson({ ...base, pub_key: null, result_type: 'error', error_reason: outcome.reason, error_code: outcome.code }),
    );
  const key = checkLength('pub_key', outcome.publicKey, req.keyType === 'secp256k1' ? 64 : 32);
  return utf8(goJson({ ...base, pub_key: goBytes(key), result_type: 'success', error_reason: '', error_code: '' }));
}

/** A keygen result as a client reads it (mpcium's `KeygenResultEvent`). */
export interface KeygenResultEvent {
  readonly walletId: string;
  /** Success: the 64-byte X‖Y of the secp256k1 key. */
  readonly ecdsaPubKey: Uint8Array | null;
  /** Success: the 32-byte Ed25519 key. */
  readonly eddsaPubKey: Uint8Array | null;
  /** `success` or `error`. */
  readonly resultType: string;
  readonly errorReason: string;
  /** One of {@link ErrorCode} on an error (a newer node may send one this version does not know). */
  readonly errorCode: string;
}

/** A signing result as a client reads it (mpcium's `SigningResultEvent`). */
export interface SigningResultEvent {
  readonly resultType: string;
  readonly errorCode: string;
  readonly errorReason: string;
  readonly isTimeout: boolean;
  readonly networkInternalCode: string;
  readonly walletId: string;
  readonly txId: string;
  readonly r: Uint8Array | null;
  readonly s: Uint8Array | null;
  readonly signatureRecovery: Uint8Array | null;
  readonly signature: Uint8Array | null;
}

/** A reshare result as a client reads it (mpcium's `ResharingResultEvent`; the session id is the subject's last token). */
export interface ReshareResultEvent {
  readonly walletId: string;
  readonly newThreshold: number;
  readonly keyType: string;
  readonly pubKey: Uint8Array | null;
  readonly resultType: string;
  readonly errorReason: string;
  readonly errorCode: string;
}

// Go's json.Unmarshal into a struct: unknown fields are ignored, a missing field or a null keeps
// the zero value ("" / false / 0 / nil slice).
const str = z
  .string()
  .nullish()
  .transform((s) => s ?? '');
const optBytes = z
  .union([goBase64, z.null()])
  .optional()
  .transform((b) => b ?? null);
const keygenResultSchema = z.object({
  wallet_id: str,
  ecdsa_pub_key: optBytes,
  eddsa_pub_key: optBytes,
  result_type: str,
  error_reason: str,
  error_code: str,
});
const signingResultSchema = z.object({
  result_type: str,
  error_code: str,
  error_reason: str,
  is_timeout: z
    .boolean()
    .nullish()
    .transform((b) => b === true),
  network_internal_code: str,
  wallet_id: str,
  tx_id: str,
  r: optBytes,
  s: optBytes,
  signature_recovery: optBytes,
  signature: optBytes,
});
const reshareResultSchema = z.object({
  wallet_id: str,
  new_threshold: z
    .number()
    .int()
    .nullish()
    .transform((n) => n ?? 0),
  key_type: str,
  pub_key: optBytes,
  result_type: str,
  error_reason: str,
  error_code: str,
});

function parseResult<T>(schema: z.ZodType<T>, data: Uint8Array, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new InvalidArgumentError(`the ${what} is not JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InvalidArgumentError(`the ${what} is malformed: ${i.path.join('.') || '(message)'}: ${i.message}`);
  }
  return r.data;
}

/** Reads a keygen result as Go's client unmarshals it. Throws `InvalidArgumentError` if it is not JSON or a field has the wrong type. */
export function parseKeygenResult(data: Uint8Array): KeygenResultEvent {
  const m = parseResult(keygenResultSchema, data, 'keygen result');
  return {
    walletId: m.wallet_id,
    ecdsaPubKey: m.ecdsa_pub_key,
    eddsaPubKey: m.eddsa_pub_key,
    resultType: m.result_type,
    errorReason: m.error_reason,
    errorCode: m.error_code,
  };
}

/** Reads a signing result as Go's client unmarshals it. Throws `InvalidArgumentError` if it is not JSON or a field has the wrong type. */
export function parseSigningResult(data: Uint8Array): SigningResultEvent {
  const m = parseResult(signingResultSchema, data, 'signing result');
  return {
    resultType: m.result_type,
    errorCode: m.error_code,
    errorReason: m.error_reason,
    isTimeout: m.is_timeout,
    networkInternalCode: m.network_internal_code,
    walletId: m.wallet_id,
    txId: m.tx_id,
    r: m.r,
    s: m.s,
    signatureRecovery: m.signature_recovery,
    signature: m.signature,
  };
}

/** Reads a reshare result as Go's client unmarshals it. Throws `InvalidArgumentError` if it is not JSON or a field has the wrong type. */
export function parseReshareResult(data: Uint8Array): ReshareResultEvent {
  const m = parseResult(reshareResultSchema, data, 'reshare result');
  return {
    walletId: m.wallet_id,
    newThreshold: m.new_threshold,
    keyType: m.key_type,
    pubKey: m.pub_key,
    resultType: m.result_type,
    errorReason: m.error_reason,
    errorCode: m.error_code,
  };
}
