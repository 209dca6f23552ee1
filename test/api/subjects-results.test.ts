import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  isErrorCode,
  keygenResult,
  requestSubject,
  reshareResult,
  resultConsumer,
  resultMessageId,
  resultSubject,
  sanitizeConsumerName,
  signingResult,
  unauthenticatedResultMessageId,
  validateReplySubject,
} from '../../src/api/index.js';

const json = (b: Uint8Array) => new TextDecoder().decode(b);

describe('mpcium subjects and consumers (reference §1.1, §1.4)', () => {
  it('results go to prefix[.clientId].tail, the tail being the wallet id, "complete" or the session id', () => {
    expect(resultSubject('keygen', 'w1')).toBe('mpc.mpc_keygen_result.w1');
    expect(resultSubject('keygen', 'w1', 'svc-a')).toBe('mpc.mpc_keygen_result.svc-a.w1');
    expect(resultSubject('signing', 'tx-1', 'svc-a')).toBe('mpc.mpc_signing_result.svc-a.complete');
    expect(resultSubject('reshare', 's1')).toBe('mpc.mpc_reshare_result.s1');
    expect(requestSubject('signing', 'tx-1')).toBe('mpc.signing_request.tx-1');
    expect(resultMessageId('signing', 'tx-1', 'svc-a')).toBe('mpc.mpc_signing_result.svc-a:tx-1');
  });

  it("a client's result consumer is named and filtered as mpcium's clients expect", () => {
    expect(resultConsumer('signing', 'svc-a')).toEqual({
      durable: 'mpc_signing_result_svc_a',
      filter: 'mpc.mpc_signing_result.svc-a.complete',
    });
    expect(resultConsumer('keygen')).toEqual({ durable: 'mpc_keygen_result', filter: 'mpc.mpc_keygen_result.*' });
    expect(sanitizeConsumerName('mpc-keygen-consumer')).toBe('mpc_keygen_consumer');
    expect(sanitizeConsumerName('9a.b:c>*')).toBe('_9a_b_callany');
  });

  it('ids that would break a subject (whitespace, ".", "*", ">", empty, over 256 bytes) are refused', () => {
    for (const bad of ['', 'a b', 'a.b', 'a*', 'a>', 'x'.repeat(257), 'tab\t']) {
      expect(() => resultSubject('keygen', bad), JSON.stringify(bad)).toThrow();
      expect(() => resultSubject('signing', 'tx', bad || ' '), JSON.stringify(bad)).toThrow();
    }
  });
});

describe('mpcium result events (reference §1.5)', () => {
  it('a keygen result carries the 64-byte X‖Y ECDSA key and the 32-byte Ed25519 key in Go field order', () => {
    const ok = keygenResult('w1', {
      ecdsaPublicKeyXY: new Uint8Array(64).fill(1),
      eddsaPublicKey: new Uint8Array(32).fill(2),
    });
    expect(Object.keys(JSON.parse(json(ok)))).toEqual([
      'wallet_id',
      'ecdsa_pub_key',
      'eddsa_pub_key',
      'result_type',
      'error_reason',
      'error_code',
    ]);
    expect(Buffer.from(JSON.parse(json(ok)).ecdsa_pub_key, 'base64')).toHaveLength(64);
    const err = JSON.parse(
      json(keygenResult('w1', { code: 'ERROR_KEY_ALREADY_EXISTS', reason: 'Key already exists: w1' })),
    );
    expect(err).toEqual({
      wallet_id: 'w1',
      ecdsa_pub_key: null,
      eddsa_pub_key: null,
      result_type: 'error',
      error_reason: 'Key already exists: w1',
      error_code: 'ERROR_KEY_ALREADY_EXISTS',
    });
    expect(() =>
      keygenResult('w', { ecdsaPublicKeyXY: new Uint8Array(65), eddsaPublicKey: new Uint8Array(32) }),
    ).toThrow(/64 bytes/);
  });

  it('a signing result carries r, s and a one-byte recovery id (ECDSA) or a 64-byte signature (EdDSA)', () => {
    const req = { walletId: 'w', txId: 't', networkInternalCode: 'eth' };
    const ecdsa = JSON.parse(
      json(
        signingResult(req, {
          keyType: 'secp256k1',
          r: new Uint8Array(32).fill(3),
          s: new Uint8Array(32).fill(4),
          recoveryId: 1,
        }),
      ),
    );
    expect(Object.keys(ecdsa)).toEqual([
      'result_type',
      'error_code',
      'error_reason',
      'is_timeout',
      'network_internal_code',
      'wallet_id',
      'tx_id',
      'r',
      's',
      'signature_recovery',
      'signature',
    ]);
    expect(ecdsa.signature_recovery).toBe('AQ==');
    expect(ecdsa.signature).toBe(null);
    const eddsa = JSON.parse(json(signingResult(req, { keyType: 'ed25519', signature: new Uint8Array(64).fill(5) })));
    expect([eddsa.r, eddsa.s, Buffer.from(eddsa.signature, 'base64').length]).toEqual([null, null, 64]);
    const timeout = JSON.parse(
      json(signingResult(req, { code: 'ERROR_SESSION_TIMEOUT', reason: 'timed out', isTimeout: true })),
    );
    expect([timeout.result_type, timeout.is_timeout, timeout.error_code]).toEqual([
      'error',
      true,
      'ERROR_SESSION_TIMEOUT',
    ]);
  });

  it("a reshare result carries the key in the encoding of its curve; every error code is one of mpcium's", () => {
    const r = JSON.parse(
      json(reshareResult({ walletId: 'w', newThreshold: 2, keyType: 'ed25519' }, { publicKey: new Uint8Array(32) })),
    );
    expect(Object.keys(r)).toEqual([
      'wallet_id',
      'new_threshold',
      'key_type',
      'pub_key',
      'result_type',
      'error_reason',
      'error_code',
    ]);
    expect(() =>
      reshareResult({ walletId: 'w', newThreshold: 2, keyType: 'secp256k1' }, { publicKey: new Uint8Array(33) }),
    ).toThrow(/64 bytes/);
    expect(ERROR_CODES).toHaveLength(57);
    expect(isErrorCode('ERROR_NOT_MAJORITY')).toBe(true);
    expect(isErrorCode('ERROR_NOPE')).toBe(false);
  });
});

describe('result message ids', () => {
  it('an error result for an unauthenticated request never takes the message id of the operation it names', () => {
    expect(unauthenticatedResultMessageId('signing', 'ab'.repeat(32))).not.toBe(
      resultMessageId('signing', 'tx-1', 'svc-a'),
    );
    expect(unauthenticatedResultMessageId('signing', 'ab'.repeat(32))).toBe(
      `mpc.mpc_signing_result.unauthenticated:${'ab'.repeat(32)}`,
    );
  });

  it('a client id scopes it (JetStream deduplicates across the stream) and keeps the unauthenticated prefix', () => {
    const d = 'ab'.repeat(32);
    const scoped = unauthenticatedResultMessageId('signing', d, 'svc-a');
    expect(scoped).toBe(`mpc.mpc_signing_result.unauthenticated:svc-a:${d}`);
    expect(scoped).not.toBe(unauthenticatedResultMessageId('signing', d, 'svc-b'));
    expect(scoped).not.toBe(unauthenticatedResultMessageId('signing', d));
    expect(unauthenticatedResultMessageId('signing', d, '')).toBe(unauthenticatedResultMessageId('signing', d));
    expect(scoped.startsWith(unauthenticatedResultMessageId('signing', ''))).toBe(true);
  });
});

describe('Mpc-Reply-To subjects', () => {
  it('an inbox-like publish subject up to 256 bytes is answered on', () => {
    for (const ok of ['_INBOX.abc123', '_INBOX.x.y.z', 'replies.svc-a.1', 'a', `_INBOX.${'a'.repeat(249)}`]) {
      expect(validateReplySubject(ok, ['tessera', '_INBOX_tessera'])).toBe(ok);
    }
    // reserved prefixes are whole tokens
    expect(validateReplySubject('tessera2.x', ['tessera'])).toBe('tessera2.x');
    expect(validateReplySubject('_INBOX_tesseract.x', ['_INBOX_tessera'])).toBe('_INBOX_tesseract.x');
  });

  it('wildcards, empty tokens, whitespace, non-ASCII, over 256 bytes, $ service subjects, mpc subjects and own prefixes are refused', () => {
    const refused: unknown[] = [
      undefined,
      null,
      42,
      '',
      '*',
      '>',
      '_INBOX.*',
      '_INBOX.>',
      '_INBOX.a*b',
      '_INBOX..x',
      '.x',
      'x.',
      '_INBOX. x',
      '_INBOX.x\ty',
      '_INBOX.x\r\nPUB y 1',
      '_INBOX.\u0000',
      '_INBOX.é',
      `_INBOX.${'a'.repeat(250)}`,
      '$JS.API.STREAM.DELETE.mpc',
      '$KV.tessera-ready.x',
      '$SYS.REQ.SERVER.PING',
      '$O.x',
      'mpc',
      'mpc.mpc_signing_result.svc.complete',
      'mpc.signing_request.x',
      'mpc:reshare',
      'mpc:sign',
      'tessera',
      'tessera.node.n1.msg',
      '_INBOX_tessera.abc',
    ];
    for (const bad of refused) {
      expect(() => validateReplySubject(bad, ['tessera', '_INBOX_tessera']), String(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });
});
