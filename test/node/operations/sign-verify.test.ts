/**
 * The coordinator's check of a signer's outcome before it answers the client (`verifyOutcome`):
 * Ed25519 through OpenSSL (node:crypto), secp256k1 through noble — both independent of the
 * signing code. Every outcome that is not a valid signature of the request under the key is
 * refused without throwing.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import type { SignatureOutcome, SignTxRequest } from '../../../src/api/index.js';
import { verifyOutcome } from '../../../src/node/operations/sign.js';

const request = (keyType: SignTxRequest['keyType'], tx: Uint8Array): SignTxRequest => ({
  keyType,
  walletId: 'w',
  networkInternalCode: '',
  txId: 't',
  tx,
  signature: new Uint8Array(64),
  derivationPath: null,
  authorizerSignatures: [],
});

/** ed25519's group order L, little-endian bytes added to s for a non-canonical signature. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function leAdd(s: Uint8Array, x: bigint): Uint8Array {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(s[i]!);
  v += x;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('verifyOutcome: Ed25519 (OpenSSL)', () => {
  const sk = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(sk);
  const msg = Uint8Array.of(0, 0, ...randomBytes(100));
  const sig = ed25519.sign(msg, sk);
  const req = request('ed25519', msg);
  const outcome = (signature: Uint8Array): SignatureOutcome => ({ keyType: 'ed25519', signature });

  it('accepts a valid signature of the exact message bytes', () => {
    expect(verifyOutcome(req, outcome(sig), pub)).toBe(true);
  });

  it('refuses a changed signature, another message, another key, a key-type mismatch', () => {
    for (let i = 0; i < 64; i += 9) {
      const bad = sig.slice();
      bad[i]! ^= 1;
      expect(verifyOutcome(req, outcome(bad), pub)).toBe(false);
    }
    expect(verifyOutcome(request('ed25519', msg.subarray(1)), outcome(sig), pub)).toBe(false);
    expect(verifyOutcome(req, outcome(sig), ed25519.getPublicKey(ed25519.utils.randomSecretKey()))).toBe(false);
    expect(verifyOutcome(request('secp256k1', msg), outcome(sig), pub)).toBe(false);
  });

  it('refuses a non-canonical s (s + L), which the same equation would otherwise accept', () => {
    const bad = Uint8Array.from([...sig.subarray(0, 32), ...leAdd(sig.subarray(32), L)]);
    expect(verifyOutcome(req, outcome(bad), pub)).toBe(false);
  });

  it('refuses, without throwing, a signature of the wrong length and a key that is not 32 bytes or not a point', () => {
    expect(verifyOutcome(req, outcome(sig.subarray(0, 63)), pub)).toBe(false);
    expect(verifyOutcome(req, outcome(sig), pub.subarray(0, 31))).toBe(false);
    expect(verifyOutcome(req, outcome(sig), new Uint8Array(32).fill(0xff))).toBe(false);
  });
});

describe('verifyOutcome: secp256k1 (noble)', () => {
  const sk = secp256k1.utils.randomSecretKey();
  const pub = secp256k1.getPublicKey(sk, false);
  const digest = randomBytes(32);
  const sig = secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' });
  const r = sig.subarray(1, 33);
  const s = sig.subarray(33, 65);
  const req = request('secp256k1', digest);
  const outcome = (o: Partial<{ r: Uint8Array; s: Uint8Array; recoveryId: number }> = {}): SignatureOutcome => ({
    keyType: 'secp256k1',
    r: o.r ?? r,
    s: o.s ?? s,
    recoveryId: o.recoveryId ?? sig[0]!,
  });

  it('accepts a valid low-S signature of the digest', () => {
    expect(verifyOutcome(req, outcome(), pub)).toBe(true);
  });

  it('refuses a high-S twin, a recovery id above 1, another digest, a key-type mismatch', () => {
    const n = secp256k1.Point.CURVE().n;
    const high = secp256k1.Point.Fn.toBytes(n - secp256k1.Point.Fn.fromBytes(s));
    expect(verifyOutcome(req, outcome({ s: high }), pub)).toBe(false);
    expect(verifyOutcome(req, outcome({ recoveryId: 2 }), pub)).toBe(false);
    expect(verifyOutcome(request('secp256k1', randomBytes(32)), outcome(), pub)).toBe(false);
    expect(verifyOutcome(request('ed25519', digest), outcome(), pub)).toBe(false);
  });

  it('refuses the other recovery id: it would recover another key (review 7, finding 12)', () => {
    expect(verifyOutcome(req, outcome({ recoveryId: 1 - sig[0]! }), pub)).toBe(false);
  });

  it('answers as verification followed by recovery would, for the key compressed or not', () => {
    const before = (o: SignatureOutcome & { keyType: 'secp256k1' }, tx: Uint8Array, key: Uint8Array) => {
      if (o.recoveryId > 1) return false;
      const compact = Uint8Array.from([...o.r, ...o.s]);
      if (!secp256k1.verify(compact, tx, key, { prehash: false, lowS: true })) return false;
      const q = secp256k1.Signature.fromBytes(compact, 'compact').addRecoveryBit(o.recoveryId).recoverPublicKey(tx);
      return q.equals(secp256k1.Point.fromBytes(key));
    };
    for (let i = 0; i < 40; i++) {
      const k = secp256k1.utils.randomSecretKey();
      const d = randomBytes(32);
      const full = secp256k1.sign(d, k, { prehash: false, format: 'recovered' });
      const o = {
        keyType: 'secp256k1' as const,
        r: full.subarray(1, 33),
        s: full.subarray(33),
        recoveryId: i % 4 === 0 ? 1 - full[0]! : full[0]!,
      };
      const tx = i % 5 === 0 ? randomBytes(32) : d;
      for (const key of [secp256k1.getPublicKey(k, true), secp256k1.getPublicKey(k, false)]) {
        const expected = before(o, tx, key);
        expect(verifyOutcome(request('secp256k1', tx), o, key)).toBe(expected);
        expect(expected).toBe(i % 4 !== 0 && i % 5 !== 0);
      }
    }
  });
});
