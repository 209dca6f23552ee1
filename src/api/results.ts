/**
 * mpcium's result events (reference §1.5) as the bytes a node publishes: fields in Go's struct
 * order, keys and signatures base64 with padding, `null` for what a result does not carry.
 */
import { InvalidArgumentError } from '../common/errors.js';
import type { ErrorCode } from './error-codes.js';
import { goBytes, goJson } from './go-json.js';
import type { KeyType } from './requests.js';

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
