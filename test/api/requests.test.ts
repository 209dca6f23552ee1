import { describe, expect, it } from 'vitest';
import {
  authorizerSignedBytes,
  generateKeySignedBytes,
  initiatorId,
  parseGenerateKeyRequest,
  parseResharingRequest,
  parseSignTxRequest,
  RequestError,
  resharingSignedBytes,
  signTxSignedBytes,
} from '../../src/api/index.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const digest = Uint8Array.from({ length: 32 }, (_, i) => i);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RequestError) return e.errorCode;
    throw e;
  }
  return 'none';
}

describe('mpcium requests: parsing and validation', () => {
  it('a signing request parses field by field; unknown fields are ignored; a null derivation path is null', () => {
    const r = parseSignTxRequest(
      JSON.stringify({
        key_type: 'secp256k1',
        wallet_id: 'w1',
        network_internal_code: 'eth-mainnet',
        tx_id: 'tx-1',
        tx: b64(digest),
        signature: b64(Uint8Array.of(9, 9)),
        derivation_path: null,
        protocol_hint: 'ignored',
      }),
    );
    expect(r).toEqual({
      keyType: 'secp256k1',
      walletId: 'w1',
      networkInternalCode: 'eth-mainnet',
      txId: 'tx-1',
      tx: digest,
      signature: Uint8Array.of(9, 9),
      derivationPath: null,
      authorizerSignatures: [],
    });
  });

  it('an ed25519 tx keeps its leading zero bytes (the exact message is signed)', () => {
    const msg = Uint8Array.of(0, 0, 7);
    const r = parseSignTxRequest(
      JSON.stringify({
        key_type: 'ed25519',
        wallet_id: 'w',
        network_internal_code: '',
        tx_id: 't',
        tx: b64(msg),
        signature: 'AA==',
        derivation_path: [44, 501],
      }),
    );
    expect(r.tx).toEqual(msg);
    expect(r.derivationPath).toEqual([44, 501]);
  });

  it('what Go’s json.Unmarshal refuses is ERROR_UNMARSHAL_FAILURE (as mpcium answers it); wrong field values are ERROR_MSG_VALIDATION naming the field', () => {
    expect(codeOf(() => parseSignTxRequest('{not json'))).toBe('ERROR_UNMARSHAL_FAILURE');
    expect(codeOf(() => parseSignTxRequest(Uint8Array.of(0xff, 0xfe)))).toBe('ERROR_UNMARSHAL_FAILURE');
    const base = {
      key_type: 'secp256k1',
      wallet_id: 'w',
      network_internal_code: '',
      tx_id: 't',
      tx: b64(digest),
      signature: 'AA==',
    };
    expect(codeOf(() => parseSignTxRequest(JSON.stringify({ ...base, key_type: 'rsa' })))).toBe('ERROR_MSG_VALIDATION');
    expect(codeOf(() => parseSignTxRequest(JSON.stringify({ ...base, tx: b64(digest.subarray(1)) })))).toBe(
      'ERROR_MSG_VALIDATION',
    );
    expect(codeOf(() => parseSignTxRequest(JSON.stringify({ ...base, wallet_id: 'a.b' })))).toBe(
      'ERROR_MSG_VALIDATION',
    );
    // Go's json.Unmarshal refuses these: mpcium answers ERROR_UNMARSHAL_FAILURE
    for (const bad of [
      { ...base, tx: 'not base64!' },
      { ...base, tx: 'AAA' },
      { ...base, tx: 5 },
      { ...base, wallet_id: 7 },
      { ...base, wallet_id: { a: 1 } },
      { ...base, network_internal_code: ['x'] },
      { ...base, derivation_path: [2 ** 32] },
      { ...base, derivation_path: [-1] },
      { ...base, derivation_path: [1.5] },
      { ...base, derivation_path: '44/60' },
      { ...base, authorizer_signatures: [{ authorizer_id: 1, signature: 'AA==' }] },
      { ...base, authorizer_signatures: {} },
    ])
      expect(
        codeOf(() => parseSignTxRequest(JSON.stringify(bad))),
        JSON.stringify(bad),
      ).toBe('ERROR_UNMARSHAL_FAILURE');
    for (const notObject of ['[]', '"x"', '42', 'true'])
      expect(
        codeOf(() => parseSignTxRequest(notObject)),
        notObject,
      ).toBe('ERROR_UNMARSHAL_FAILURE');
    expect(codeOf(() => parseResharingRequest(JSON.stringify({ new_threshold: 1.5 })))).toBe('ERROR_UNMARSHAL_FAILURE');
    expect(codeOf(() => parseResharingRequest(JSON.stringify({ node_ids: 'a,b' })))).toBe('ERROR_UNMARSHAL_FAILURE');
    expect(codeOf(() => parseGenerateKeyRequest(JSON.stringify({ wallet_id: 'w', signature: false })))).toBe(
      'ERROR_UNMARSHAL_FAILURE',
    );
    // a missing field or null is Go's zero value: decoded, then judged
    expect(codeOf(() => parseSignTxRequest('null'))).toBe('ERROR_MSG_VALIDATION');
    expect(codeOf(() => parseSignTxRequest('{}'))).toBe('ERROR_MSG_VALIDATION');
    const { network_internal_code: _, ...noCode } = base;
    expect(parseSignTxRequest(JSON.stringify(noCode)).networkInternalCode).toBe('');
    expect(parseSignTxRequest(JSON.stringify({ ...base, network_internal_code: null })).networkInternalCode).toBe('');
    expect(parseSignTxRequest(JSON.stringify({ ...base, signature: null })).signature).toEqual(new Uint8Array(0));
    const { signature: __, ...unsigned } = base;
    expect(parseSignTxRequest(JSON.stringify(unsigned)).signature).toEqual(new Uint8Array(0));
    // Go decodes a lone surrogate escape to U+FFFD: the request holds (and signs) what a Go node holds
    const lone = parseSignTxRequest(
      JSON.stringify({ ...base, network_internal_code: 'x' }).replace('"x"', '"a\\ud800b"'),
    );
    expect(lone.networkInternalCode).toBe('a\ufffdb');
    expect(new TextDecoder().decode(signTxSignedBytes(lone))).toContain('"network_internal_code":"a\ufffdb"');
    // Go's base64 decoder skips line breaks
    expect(
      parseSignTxRequest(JSON.stringify({ ...base, tx: `${b64(digest).slice(0, 8)}\r\n${b64(digest).slice(8)}` })).tx,
    ).toEqual(digest);
    try {
      parseSignTxRequest(JSON.stringify({ ...base, key_type: 'rsa' }));
    } catch (e) {
      expect((e as RequestError).reason).toMatch(/key_type: unsupported key type/);
    }
  });

  it('a keygen request needs a wallet id usable as a subject token; a reshare needs t+1 distinct new members', () => {
    expect(parseGenerateKeyRequest(JSON.stringify({ wallet_id: 'w-7', signature: 'AAE=' })).walletId).toBe('w-7');
    expect(codeOf(() => parseGenerateKeyRequest(JSON.stringify({ wallet_id: 'bad id', signature: 'AA==' })))).toBe(
      'ERROR_MSG_VALIDATION',
    );
    const reshare = {
      session_id: 's1',
      node_ids: ['n1', 'n2', 'n3'],
      new_threshold: 1,
      key_type: 'ed25519',
      wallet_id: 'w',
    };
    expect(parseResharingRequest(JSON.stringify(reshare)).newThreshold).toBe(1);
    expect(codeOf(() => parseResharingRequest(JSON.stringify({ ...reshare, new_threshold: 3 })))).toBe(
      'ERROR_INVALID_THRESHOLD',
    );
    expect(codeOf(() => parseResharingRequest(JSON.stringify({ ...reshare, node_ids: ['n1', 'n1', 'n2'] })))).toBe(
      'ERROR_INVALID_THRESHOLD',
    );
  });
});

describe('the bytes an initiator and an authorizer sign (mpcium §2.1, §2.3)', () => {
  it('keygen signs the wallet id; signing signs Go JSON of five fields in struct order; reshare Go JSON without the signatures', () => {
    expect(text(generateKeySignedBytes({ walletId: 'wallet-é' }))).toBe('wallet-é');
    expect(
      text(
        signTxSignedBytes({
          keyType: 'secp256k1',
          walletId: 'w1',
          networkInternalCode: 'eth',
          txId: 'tx<1>',
          tx: Uint8Array.of(0, 1, 2),
        }),
      ),
    ).toBe(
      '{"key_type":"secp256k1","wallet_id":"w1","network_internal_code":"eth","tx_id":"tx\\u003c1\\u003e","tx":"AAEC"}',
    );
    expect(
      text(
        resharingSignedBytes({
          sessionId: 's',
          nodeIds: ['a', 'b'],
          newThreshold: 1,
          keyType: 'ed25519',
          walletId: 'w',
        }),
      ),
    ).toBe('{"session_id":"s","node_ids":["a","b"],"new_threshold":1,"key_type":"ed25519","wallet_id":"w"}');
  });

  it('an authorizer signs Go JSON of the initiator id (tx id for signing, wallet id otherwise), its raw bytes and its signature', () => {
    const sign = parseSignTxRequest(
      JSON.stringify({
        key_type: 'ed25519',
        wallet_id: 'w',
        network_internal_code: '',
        tx_id: 'tx9',
        tx: 'AQ==',
        signature: 'AgM=',
      }),
    );
    expect(initiatorId(sign)).toBe('tx9');
    expect(initiatorId(parseGenerateKeyRequest(JSON.stringify({ wallet_id: 'w', signature: 'AA==' })))).toBe('w');
    expect(text(authorizerSignedBytes('tx9', signTxSignedBytes(sign), sign.signature))).toBe(
      `{"initiator_id":"tx9","initiator_raw":"${b64(signTxSignedBytes(sign))}","initiator_sig":"AgM="}`,
    );
  });
});

describe('request-type confusion and result hijacking are closed (review of this layer)', () => {
  it("a keygen request whose wallet id is a signing request's signed JSON is refused: ids hold no JSON structure characters", () => {
    const signed = new TextDecoder().decode(
      signTxSignedBytes({ keyType: 'secp256k1', walletId: 'w1', networkInternalCode: 'eth', txId: 't1', tx: digest }),
    );
    expect(codeOf(() => parseGenerateKeyRequest(JSON.stringify({ wallet_id: signed, signature: 'AA==' })))).toBe(
      'ERROR_MSG_VALIDATION',
    );
    for (const bad of ['a"b', 'a{b', 'a}b', 'a[b', 'a]b', 'a\\b']) {
      expect(
        codeOf(() => parseGenerateKeyRequest(JSON.stringify({ wallet_id: bad, signature: 'AA==' }))),
        bad,
      ).toBe('ERROR_MSG_VALIDATION');
    }
  });

  it('a hardened derivation index is refused when the request is parsed', () => {
    const base = {
      key_type: 'ed25519',
      wallet_id: 'w',
      network_internal_code: '',
      tx_id: 't',
      tx: 'AQ==',
      signature: 'AA==',
    };
    expect(codeOf(() => parseSignTxRequest(JSON.stringify({ ...base, derivation_path: [2 ** 31] })))).toBe(
      'ERROR_MSG_VALIDATION',
    );
    expect(parseSignTxRequest(JSON.stringify({ ...base, derivation_path: [2 ** 31 - 1] })).derivationPath).toEqual([
      2 ** 31 - 1,
    ]);
  });
});
