import { generateKeyPairSync } from 'node:crypto';
import { Encrypter } from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decryptKeyFile,
  encodeGenerateKeyRequest,
  encodeResharingRequest,
  encodeSignTxRequest,
  keygenResult,
  parseGenerateKeyRequest,
  parseKeygenResult,
  parseReshareResult,
  parseResharingRequest,
  parseSigningResult,
  parseSignTxRequest,
  reshareResult,
  signingKeyFromText,
  signingResult,
} from '../../src/api/index.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (...xs: number[]) => Uint8Array.from(xs);

describe("requests as mpcium's Go client marshals them (reference §1.3)", () => {
  it('a keygen request is wallet_id, signature and (only when present) authorizer_signatures, escaped as Go escapes', () => {
    expect(text(encodeGenerateKeyRequest({ walletId: 'w<&>', signature: bytes(1, 2), authorizerSignatures: [] }))).toBe(
      '{"wallet_id":"w\\u003c\\u0026\\u003e","signature":"AQI="}',
    );
    expect(
      text(
        encodeGenerateKeyRequest({
          walletId: 'w',
          signature: bytes(1),
          authorizerSignatures: [{ authorizerId: 'ops', signature: bytes(2) }],
        }),
      ),
    ).toBe('{"wallet_id":"w","signature":"AQ==","authorizer_signatures":[{"authorizer_id":"ops","signature":"Ag=="}]}');
  });

  it('a signing request keeps struct order, writes an absent derivation path as null and an empty one as []', () => {
    const r = {
      keyType: 'ed25519' as const,
      walletId: 'w',
      networkInternalCode: 'sol\u2028',
      txId: 't',
      tx: bytes(0, 1),
      signature: bytes(9),
      derivationPath: null,
      authorizerSignatures: [],
    };
    expect(text(encodeSignTxRequest(r))).toBe(
      '{"key_type":"ed25519","wallet_id":"w","network_internal_code":"sol\\u2028","tx_id":"t","tx":"AAE=",' +
        '"signature":"CQ==","derivation_path":null}',
    );
    expect(text(encodeSignTxRequest({ ...r, derivationPath: [] }))).toContain('"derivation_path":[]');
    expect(text(encodeSignTxRequest({ ...r, derivationPath: [44, 501] }))).toContain('"derivation_path":[44,501]}');
  });

  it('a reshare request leaves out an empty signature (omitempty) and keeps node_ids in order', () => {
    const r = {
      sessionId: 's',
      nodeIds: ['b', 'a'],
      newThreshold: 1,
      keyType: 'secp256k1' as const,
      walletId: 'w',
      signature: new Uint8Array(0),
      authorizerSignatures: [],
    };
    expect(text(encodeResharingRequest(r))).toBe(
      '{"session_id":"s","node_ids":["b","a"],"new_threshold":1,"key_type":"secp256k1","wallet_id":"w"}',
    );
    expect(text(encodeResharingRequest({ ...r, signature: bytes(7) }))).toMatch(/"wallet_id":"w","signature":"Bw=="}$/);
  });

  it('every encoded request parses back to itself (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_:<&é-]{1,20}$/);
    const sig = fc.uint8Array({ minLength: 1, maxLength: 72 });
    const auth = fc.array(fc.record({ authorizerId: id, signature: sig }), { maxLength: 3 });
    fc.assert(
      fc.property(
        id,
        id,
        fc.string({ maxLength: 10 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        sig,
        fc.option(fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 5 })),
        auth,
        (walletId, txId, networkInternalCode, tx, signature, derivationPath, authorizerSignatures) => {
          const req = {
            keyType: 'secp256k1' as const,
            walletId,
            networkInternalCode,
            txId,
            tx,
            signature,
            derivationPath,
            authorizerSignatures,
          };
          expect(parseSignTxRequest(encodeSignTxRequest(req))).toEqual(req);
          const kg = { walletId, signature, authorizerSignatures };
          expect(parseGenerateKeyRequest(encodeGenerateKeyRequest(kg))).toEqual(kg);
          const rs = { sessionId: txId, nodeIds: ['n1', 'n2'], newThreshold: 1, keyType: 'ed25519' as const, walletId };
          expect(parseResharingRequest(encodeResharingRequest({ ...rs, signature, authorizerSignatures }))).toEqual({
            ...rs,
            signature,
            authorizerSignatures,
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('results as a client reads them (reference §1.5)', () => {
  it('what the result builders write parses back field by field', () => {
    const xy = new Uint8Array(64).fill(3);
    const ed = new Uint8Array(32).fill(4);
    expect(parseKeygenResult(keygenResult('w', { ecdsaPublicKeyXY: xy, eddsaPublicKey: ed }))).toEqual({
      walletId: 'w',
      ecdsaPubKey: xy,
      eddsaPubKey: ed,
      resultType: 'success',
      errorReason: '',
      errorCode: '',
    });
    const req = { walletId: 'w', txId: 't', networkInternalCode: 'eth' };
    const r = new Uint8Array(32).fill(1);
    const s = new Uint8Array(32).fill(2);
    expect(parseSigningResult(signingResult(req, { keyType: 'secp256k1', r, s, recoveryId: 1 }))).toMatchObject({
      resultType: 'success',
      txId: 't',
      r,
      s,
      signatureRecovery: bytes(1),
      signature: null,
      isTimeout: false,
    });
    const err = parseSigningResult(
      signingResult(req, { code: 'ERROR_MAX_DELIVERY_ATTEMPTS', reason: 'gave up', isTimeout: true }),
    );
    expect(err).toMatchObject({
      resultType: 'error',
      errorCode: 'ERROR_MAX_DELIVERY_ATTEMPTS',
      isTimeout: true,
      r: null,
    });
    expect(
      parseReshareResult(reshareResult({ walletId: 'w', newThreshold: 2, keyType: 'ed25519' }, { publicKey: ed })),
    ).toEqual({
      walletId: 'w',
      newThreshold: 2,
      keyType: 'ed25519',
      pubKey: ed,
      resultType: 'success',
      errorReason: '',
      errorCode: '',
    });
  });

  it("missing fields and nulls read as Go's zero values, unknown fields are ignored; non-JSON or a mistyped field is refused", () => {
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(parseSigningResult(enc({ tx_id: 't', extra: 1, error_code: null }))).toMatchObject({
      txId: 't',
      resultType: '',
      errorCode: '',
      isTimeout: false,
      signature: null,
    });
    expect(() => parseSigningResult(enc({ tx_id: 5 }))).toThrow(/tx_id/);
    expect(() => parseKeygenResult(enc({ ecdsa_pub_key: 'not base64!' }))).toThrow(/ecdsa_pub_key/);
    expect(() => parseReshareResult(bytes(0xff))).toThrow(/not JSON/);
  });
});

describe("mpcium's request-signing key files (reference §2.2)", () => {
  it('an age-encrypted key file opens with its passphrase only; a wrong one is WrongPasswordError with the given message', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const hex = privateKey.export({ format: 'der', type: 'sec1' }).toString('hex');
    const e = new Encrypter();
    e.setPassphrase('correct horse!');
    const file = await e.encrypt(hex);
    const key = signingKeyFromText('p256', await decryptKeyFile(file, 'correct horse!', 'unused'));
    expect(key.export({ format: 'der', type: 'sec1' }).toString('hex')).toBe(hex);
    await expect(decryptKeyFile(file, 'wrong horse!!', 'try the other passphrase')).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
      message: 'try the other passphrase',
    });
  });
});
