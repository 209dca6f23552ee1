/** mpcium PR #106's protocol fields: what Tessera accepts, what it refuses, and that they never change the signed bytes. */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateKeySignedBytes,
  goBytes,
  goJson,
  parseGenerateKeyRequest,
  parseResharingRequest,
  parseSignTxRequest,
  RequestError,
  resharingSignedBytes,
  signTxSignedBytes,
} from '../../src/api/index.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const digest = Uint8Array.from({ length: 32 }, (_, i) => i);

/** The RequestError a parse throws (or undefined). */
function refusal(f: () => unknown): RequestError | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof RequestError) return e;
    throw e;
  }
  return undefined;
}

const signing = (keyType: 'secp256k1' | 'ed25519', extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    key_type: keyType,
    wallet_id: 'w1',
    network_internal_code: 'eth',
    tx_id: 'tx-1',
    tx: b64(keyType === 'secp256k1' ? digest : Uint8Array.of(0, 1, 2)),
    signature: b64(Uint8Array.of(9)),
    derivation_path: null,
    ...extra,
  });
const keygen = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ wallet_id: 'w1', signature: b64(Uint8Array.of(9)), ...extra });
const reshare = (keyType: 'secp256k1' | 'ed25519', extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    session_id: 's1',
    node_ids: ['n1', 'n2', 'n3'],
    new_threshold: 1,
    key_type: keyType,
    wallet_id: 'w1',
    signature: b64(Uint8Array.of(9)),
    ...extra,
  });

/** Values no request may name, whatever the key type (the other key type's protocol is tested apart). */
const NOT_RUN: unknown[] = [
  'gg18',
  'cggmp21',
  'taproot',
  'GG18',
  'ecdsa',
  'eddsa',
  'dkls',
  ' frost',
  'x'.repeat(10_000),
];
const NOT_A_STRING: unknown[] = [5, 0, true, false, {}, [], ['frost']];

describe('protocol fields (mpcium PR #106)', () => {
  it('signing: absent, null, empty or the protocol Tessera runs for the key type (any case) is accepted', () => {
    for (const p of [undefined, null, '', 'dkls23', 'DKLs23', 'DKLS23']) {
      expect(
        refusal(() => parseSignTxRequest(signing('secp256k1', { protocol: p }))),
        String(p),
      ).toBeUndefined();
    }
    for (const p of [undefined, null, '', 'frost', 'FROST', 'Frost']) {
      expect(
        refusal(() => parseSignTxRequest(signing('ed25519', { protocol: p }))),
        String(p),
      ).toBeUndefined();
    }
  });

  it('signing: a protocol Tessera does not run, or not a string, is ERROR_MSG_VALIDATION naming what Tessera runs', () => {
    for (const keyType of ['secp256k1', 'ed25519'] as const) {
      for (const p of [...NOT_RUN, ...NOT_A_STRING]) {
        const e = refusal(() => parseSignTxRequest(signing(keyType, { protocol: p })));
        expect(e?.errorCode, String(p)).toBe('ERROR_MSG_VALIDATION');
        expect(e!.reason).toMatch(/^validation of the signing request failed: protocol: /);
        expect(e!.reason).toContain('DKLs23 for secp256k1 (ECDSA)');
        expect(e!.reason).toContain('FROST for ed25519 (EdDSA)');
        expect(e!.reason).toContain(`set it to "${keyType === 'secp256k1' ? 'dkls23' : 'frost'}"`);
        expect(e!.reason.length).toBeLessThan(400); // a hostile value is not echoed whole
      }
    }
    expect(refusal(() => parseSignTxRequest(signing('secp256k1', { protocol: 'gg18' })))!.reason).toContain(
      'Tessera does not run "gg18"',
    );
  });

  it('a protocol that contradicts the key type is ERROR_MSG_VALIDATION: frost with secp256k1, dkls23 with ed25519', () => {
    const e1 = refusal(() => parseSignTxRequest(signing('secp256k1', { protocol: 'frost' })));
    expect(e1?.errorCode).toBe('ERROR_MSG_VALIDATION');
    expect(e1!.reason).toContain('"frost" is the protocol of key type ed25519, not secp256k1');
    const e2 = refusal(() => parseSignTxRequest(signing('ed25519', { protocol: 'DKLs23' })));
    expect(e2?.errorCode).toBe('ERROR_MSG_VALIDATION');
    expect(e2!.reason).toContain('"DKLs23" is the protocol of key type secp256k1, not ed25519');
    const e3 = refusal(() => parseResharingRequest(reshare('secp256k1', { protocol: 'frost' })));
    expect(e3?.errorCode).toBe('ERROR_MSG_VALIDATION');
    expect(e3!.reason).toMatch(/^validation of the reshare request failed: protocol: "frost" is the protocol of key/);
  });

  it('keygen: ecdsa_protocol names the secp256k1 protocol (dkls23), eddsa_protocol the ed25519 one (frost)', () => {
    for (const [ecdsa, eddsa] of [
      [undefined, undefined],
      ['dkls23', 'frost'],
      ['', null],
      ['DKLs23', undefined],
      [null, 'FROST'],
    ]) {
      expect(refusal(() => parseGenerateKeyRequest(keygen({ ecdsa_protocol: ecdsa, eddsa_protocol: eddsa })))).toBe(
        undefined,
      );
    }
    for (const p of [...NOT_RUN, ...NOT_A_STRING, 'frost']) {
      const e = refusal(() => parseGenerateKeyRequest(keygen({ ecdsa_protocol: p })));
      expect(e?.errorCode, String(p)).toBe('ERROR_MSG_VALIDATION');
      expect(e!.reason).toMatch(/^validation of the keygen request failed: ecdsa_protocol: /);
    }
    for (const p of [...NOT_RUN, ...NOT_A_STRING, 'dkls23']) {
      const e = refusal(() => parseGenerateKeyRequest(keygen({ eddsa_protocol: p })));
      expect(e?.errorCode, String(p)).toBe('ERROR_MSG_VALIDATION');
      expect(e!.reason).toMatch(/^validation of the keygen request failed: eddsa_protocol: /);
    }
    // keygen has no `protocol` field: like any unknown field it is ignored
    expect(refusal(() => parseGenerateKeyRequest(keygen({ protocol: 'gg18' })))).toBeUndefined();
  });

  it('reshare: protocol as for signing', () => {
    expect(refusal(() => parseResharingRequest(reshare('secp256k1', { protocol: 'dkls23' })))).toBeUndefined();
    expect(refusal(() => parseResharingRequest(reshare('ed25519', { protocol: 'frost' })))).toBeUndefined();
    for (const keyType of ['secp256k1', 'ed25519'] as const) {
      for (const p of [...NOT_RUN, ...NOT_A_STRING]) {
        expect(refusal(() => parseResharingRequest(reshare(keyType, { protocol: p })))?.errorCode, String(p)).toBe(
          'ERROR_MSG_VALIDATION',
        );
      }
    }
  });

  it('the signed bytes do not change with the protocol fields (Go compatibility): a signature over the bytes without them verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const plain = parseSignTxRequest(signing('secp256k1'));
    const withProtocol = parseSignTxRequest(signing('secp256k1', { protocol: 'dkls23' }));
    const expected = goJson({
      key_type: 'secp256k1',
      wallet_id: 'w1',
      network_internal_code: 'eth',
      tx_id: 'tx-1',
      tx: goBytes(digest),
    });
    expect(new TextDecoder().decode(signTxSignedBytes(withProtocol))).toBe(expected);
    expect(signTxSignedBytes(withProtocol)).toEqual(signTxSignedBytes(plain));
    const sig = sign(null, signTxSignedBytes(plain), privateKey);
    expect(verify(null, signTxSignedBytes(withProtocol), publicKey, sig)).toBe(true);
    expect(withProtocol).toEqual(plain); // nothing of the field is kept

    const k = parseGenerateKeyRequest(keygen({ ecdsa_protocol: 'dkls23', eddsa_protocol: 'frost' }));
    expect(new TextDecoder().decode(generateKeySignedBytes(k))).toBe('w1'); // the bare wallet id, not JSON (unlike PR #106)
    expect(k).toEqual(parseGenerateKeyRequest(keygen()));

    const r = parseResharingRequest(reshare('ed25519', { protocol: 'frost' }));
    expect(resharingSignedBytes(r)).toEqual(resharingSignedBytes(parseResharingRequest(reshare('ed25519'))));
    expect(new TextDecoder().decode(resharingSignedBytes(r))).toBe(
      '{"session_id":"s1","node_ids":["n1","n2","n3"],"new_threshold":1,"key_type":"ed25519","wallet_id":"w1"}',
    );
  });
});
