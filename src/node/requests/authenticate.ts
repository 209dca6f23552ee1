/**
 * Request authentication (mpcium §2.2, §2.3): the cluster's initiator key signs each request's
 * signed bytes (`api`'s `*SignedBytes`) — pure Ed25519, or P-256 ECDSA (ASN.1 DER) over SHA-256 —
 * and, when authorization is enabled, authorizers co-sign the initiator's id, raw bytes and
 * signature. Every node checks both itself; it never trusts the coordinator for this. Unlike
 * mpcium, a failure is reported (`RequestError` with mpcium's code) instead of dropped silently.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  type AuthorizerSignature,
  authorizerSignedBytes,
  RequestError,
  type SignatureAlgorithm,
} from '../../api/index.js';
import { InvalidArgumentError } from '../../common/errors.js';

export type { SignatureAlgorithm };

/** A verifying key of the initiator or of an authorizer. */
export interface VerifyingKey {
  readonly algorithm: SignatureAlgorithm;
  readonly key: KeyObject;
}

/**
 * Parses a configured public key: ed25519 = 64 hex digits; p256 = hex (optionally `0x`) or base64
 * of the PKIX SubjectPublicKeyInfo DER of a P-256 key. Throws `InvalidArgumentError`.
 */
export function parseVerifyingKey(algorithm: SignatureAlgorithm, text: string): VerifyingKey {
  if (algorithm === 'ed25519') {
    const h = text.replace(/^0x/, '');
    if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new InvalidArgumentError('an ed25519 public key is 64 hex digits');
    return {
      algorithm,
      key: createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(h, 'hex').toString('base64url') },
        format: 'jwk',
      }),
    };
  }
  const h = text.replace(/^0x/, '');
  const der = /^[0-9a-fA-F]+$/.test(h) && h.length % 2 === 0 ? Buffer.from(h, 'hex') : Buffer.from(text, 'base64');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new InvalidArgumentError('a p256 public key is hex or base64 of its PKIX SubjectPublicKeyInfo DER');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new InvalidArgumentError('a p256 public key must be a P-256 key');
  return { algorithm, key };
}

/** True if `signature` is `k`'s signature of `data` (Ed25519, or P-256 DER over SHA-256). Does not throw. */
export function verifySignature(k: VerifyingKey, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length === 0) return false;
  try {
    return k.algorithm === 'ed25519'
      ? verify(null, data, k.key, signature)
      : verify('sha256', data, { key: k.key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/** The authorization settings of the configuration. */
export interface AuthorizationPolicy {
  readonly enabled: boolean;
  readonly required: readonly string[];
  readonly keys: ReadonlyMap<string, VerifyingKey>;
}

/**
 * Checks a request: the initiator's signature over `signedBytes`, then (if enabled) every required
 * authorizer is present and every provided authorizer signature verifies over
 * (`initiatorId`, `signedBytes`, `signature`). Throws {@link RequestError} with
 * `ERROR_INVALID_INITIATOR_SIGNATURE`, `ERROR_MISSING_AUTHORIZER_SIGNATURE` or
 * `ERROR_INVALID_AUTHORIZER_SIGNATURE`; the reason names the authorizer, never a key or signature.
 */
export function authenticateRequest(
  req: {
    signedBytes: Uint8Array;
    signature: Uint8Array;
    initiatorId: string;
    authorizerSignatures: readonly AuthorizerSignature[];
  },
  initiator: VerifyingKey,
  policy: AuthorizationPolicy,
): void {
  if (!verifySignature(initiator, req.signedBytes, req.signature)) {
    throw new RequestError(
      'ERROR_INVALID_INITIATOR_SIGNATURE',
      'Failed to verify initiator message: invalid signature from initiator',
    );
  }
  if (!policy.enabled) return;
  const given = new Map<string, Uint8Array>();
  for (const a of req.authorizerSignatures) {
    if (given.has(a.authorizerId))
      throw new RequestError('ERROR_INVALID_AUTHORIZER_SIGNATURE', `authorizer ${a.authorizerId} signed twice`);
    given.set(a.authorizerId, a.signature);
  }
  for (const id of policy.required) {
    if (!given.has(id))
      throw new RequestError('ERROR_MISSING_AUTHORIZER_SIGNATURE', `missing required authorizer signature: ${id}`);
  }
  const raw = authorizerSignedBytes(req.initiatorId, req.signedBytes, req.signature);
  for (const [id, sig] of given) {
    const k = policy.keys.get(id);
    if (k === undefined || !verifySignature(k, raw, sig)) {
      throw new RequestError('ERROR_INVALID_AUTHORIZER_SIGNATURE', `authorizer verification failed for ${id}`);
    }
  }
}
