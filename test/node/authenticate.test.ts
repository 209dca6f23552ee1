import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizerSignedBytes, parseSignTxRequest, RequestError, signTxSignedBytes } from '../../src/api/index.js';
import {
  type AuthorizationPolicy,
  authenticateRequest,
  parseVerifyingKey,
  type VerifyingKey,
} from '../../src/node/index.js';

function ed() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const hex = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  return { key: parseVerifyingKey('ed25519', hex), sign: (d: Uint8Array) => new Uint8Array(sign(null, d, privateKey)) };
}
function p256() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = publicKey.export({ format: 'der', type: 'spki' });
  const signer = (k: KeyObject) => (d: Uint8Array) => new Uint8Array(sign('sha256', d, { key: k, dsaEncoding: 'der' }));
  return { key: parseVerifyingKey('p256', der.toString('hex')), sign: signer(privateKey) };
}

const off: AuthorizationPolicy = { enabled: false, required: [], keys: new Map() };
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function request(
  signer: (d: Uint8Array) => Uint8Array,
  authorizers: { id: string; sign: (d: Uint8Array) => Uint8Array }[] = [],
  tamper?: (r: Record<string, unknown>) => void,
  txId = 'tx-1',
) {
  const body = {
    key_type: 'ed25519',
    wallet_id: 'w1',
    network_internal_code: 'sol',
    tx_id: txId,
    tx: b64(Uint8Array.of(0, 1, 2)),
  };
  const signedBytes = signTxSignedBytes({
    keyType: 'ed25519',
    walletId: 'w1',
    networkInternalCode: 'sol',
    txId,
    tx: Uint8Array.of(0, 1, 2),
  });
  const signature = signer(signedBytes);
  const raw = authorizerSignedBytes(txId, signedBytes, signature);
  const json: Record<string, unknown> = {
    ...body,
    signature: b64(signature),
    derivation_path: null,
    authorizer_signatures: authorizers.map((a) => ({ authorizer_id: a.id, signature: b64(a.sign(raw)) })),
  };
  tamper?.(json);
  const r = parseSignTxRequest(JSON.stringify(json));
  return {
    signedBytes: signTxSignedBytes(r),
    signature: r.signature,
    initiatorId: r.txId,
    authorizerSignatures: r.authorizerSignatures,
  };
}

function codeOf(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RequestError) return e.errorCode;
    throw e;
  }
  return 'ok';
}

describe('request authentication: initiator and authorizers (mpcium §2.2, §2.3)', () => {
  it('an Ed25519 or a P-256 (DER over SHA-256) initiator signature over the signed bytes is accepted; any change to a signed field is refused', () => {
    for (const init of [ed(), p256()]) {
      expect(codeOf(() => authenticateRequest(request(init.sign), init.key, off))).toBe('ok');
      expect(
        codeOf(() =>
          authenticateRequest(
            request(init.sign, [], (j) => (j.tx_id = 'tx-2')),
            init.key,
            off,
          ),
        ),
      ).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');
      expect(
        codeOf(() =>
          authenticateRequest(
            request(init.sign, [], (j) => (j.signature = '')),
            init.key,
            off,
          ),
        ),
      ).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');
    }
    const other = ed();
    expect(codeOf(() => authenticateRequest(request(other.sign), ed().key, off))).toBe(
      'ERROR_INVALID_INITIATOR_SIGNATURE',
    );
  });

  it('the derivation path is not covered by the initiator signature (as in mpcium)', () => {
    const init = ed();
    expect(
      codeOf(() =>
        authenticateRequest(
          request(init.sign, [], (j) => (j.derivation_path = [44, 501])),
          init.key,
          off,
        ),
      ),
    ).toBe('ok');
  });

  it('with authorization on, every required authorizer must sign, every provided signature must verify, unknown or repeated authorizers are refused', () => {
    const init = ed();
    const ops = ed();
    const risk = p256();
    const policy: AuthorizationPolicy = {
      enabled: true,
      required: ['ops'],
      keys: new Map<string, VerifyingKey>([
        ['ops', ops.key],
        ['risk', risk.key],
      ]),
    };
    expect(
      codeOf(() =>
        authenticateRequest(
          request(init.sign, [
            { id: 'ops', sign: ops.sign },
            { id: 'risk', sign: risk.sign },
          ]),
          init.key,
          policy,
        ),
      ),
    ).toBe('ok');
    expect(
      codeOf(() => authenticateRequest(request(init.sign, [{ id: 'risk', sign: risk.sign }]), init.key, policy)),
    ).toBe('ERROR_MISSING_AUTHORIZER_SIGNATURE');
    expect(
      codeOf(() => authenticateRequest(request(init.sign, [{ id: 'ops', sign: risk.sign }]), init.key, policy)),
    ).toBe('ERROR_INVALID_AUTHORIZER_SIGNATURE');
    expect(
      codeOf(() =>
        authenticateRequest(
          request(init.sign, [
            { id: 'ops', sign: ops.sign },
            { id: 'mallory', sign: ops.sign },
          ]),
          init.key,
          policy,
        ),
      ),
    ).toBe('ERROR_INVALID_AUTHORIZER_SIGNATURE');
    expect(
      codeOf(() =>
        authenticateRequest(
          request(init.sign, [
            { id: 'ops', sign: ops.sign },
            { id: 'ops', sign: ops.sign },
          ]),
          init.key,
          policy,
        ),
      ),
    ).toBe('ERROR_INVALID_AUTHORIZER_SIGNATURE');
    // an authorizer signature is bound to this initiator signature: one made for another request fails
    const elsewhere = request(init.sign, [{ id: 'ops', sign: ops.sign }], undefined, 'tx-9');
    const here = request(init.sign);
    expect(
      codeOf(() =>
        authenticateRequest({ ...here, authorizerSignatures: elsewhere.authorizerSignatures }, init.key, policy),
      ),
    ).toBe('ERROR_INVALID_AUTHORIZER_SIGNATURE');
  });

  it('configured keys are parsed strictly: ed25519 as 64 hex digits, p256 as a P-256 SubjectPublicKeyInfo', () => {
    expect(() => parseVerifyingKey('ed25519', 'abcd')).toThrow(/64 hex digits/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'der', type: 'spki' });
    expect(() => parseVerifyingKey('p256', k1.toString('hex'))).toThrow(/P-256/);
    expect(() => parseVerifyingKey('p256', 'not a key')).toThrow(/SubjectPublicKeyInfo/);
  });
});
