import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compressSecp256k1PublicKey,
  deriveChildPublicKey,
  type SignOutcome,
  verifySignOutcome,
} from '../../src/client/index.js';
import { ecdsa, frost } from '../../src/tss/index.js';

const head = { walletId: 'w', txId: 't', networkInternalCode: '' };
const path = fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 5 });
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const secpSecret = bytes32.filter((b) => {
  const k = BigInt(`0x${Buffer.from(b).toString('hex')}`);
  return k > 0n && k < secp256k1.Point.Fn.ORDER;
});

describe('client-side child public keys equal what the nodes derive', () => {
  it('secp256k1: the same child as tss and as @scure/bip32 (BIP32 CKDpub), from the X‖Y, uncompressed or compressed master', () => {
    fc.assert(
      fc.property(secpSecret, bytes32, path, (sk, chainCode, p) => {
        const compressed = secp256k1.getPublicKey(sk, true);
        const uncompressed = secp256k1.getPublicKey(sk, false);
        const child = deriveChildPublicKey('secp256k1', uncompressed.subarray(1), chainCode, p);
        expect(child).toEqual(ecdsa.deriveChildPublicKey(compressed, chainCode, p));
        let hd = new HDKey({ publicKey: compressed, chainCode });
        for (const i of p) hd = hd.deriveChild(i);
        expect(child).toEqual(hd.publicKey);
        expect(deriveChildPublicKey('secp256k1', uncompressed, chainCode, p)).toEqual(child);
        expect(deriveChildPublicKey('secp256k1', compressed, chainCode, p)).toEqual(child);
      }),
      { numRuns: 40 },
    );
  });

  it('ed25519: the same child as tss (mpcium’s ser33 over Edwards coordinates)', () => {
    fc.assert(
      fc.property(bytes32, bytes32, path, (seed, chainCode, p) => {
        const master = ed25519.getPublicKey(seed);
        expect(deriveChildPublicKey('ed25519', master, chainCode, p)).toEqual(
          frost.deriveChildPublicKey(master, chainCode, p),
        );
      }),
      { numRuns: 40 },
    );
    const master = ed25519.getPublicKey(new Uint8Array(32).fill(1));
    expect(deriveChildPublicKey('ed25519', master, new Uint8Array(32), [1])).not.toEqual(master);
  });

  it('hardened or malformed indices, a short chain code, a bad key or key type are refused with InvalidArgumentError', () => {
    const master = secp256k1.getPublicKey(new Uint8Array(32).fill(1), true);
    const cc = new Uint8Array(32);
    for (const p of [[0x80000000], [-1], [1.5], [2 ** 32]])
      expect(() => deriveChildPublicKey('secp256k1', master, cc, p), String(p)).toThrow(/hardened/);
    expect(() => deriveChildPublicKey('secp256k1', master, new Uint8Array(31), [1])).toThrow(/chain code/);
    expect(() => deriveChildPublicKey('secp256k1', master.subarray(1), cc, [])).toThrow(/X‖Y/);
    expect(() => deriveChildPublicKey('secp256k1', new Uint8Array(64).fill(1), cc, [])).toThrow(/not a point/);
    expect(() => deriveChildPublicKey('ed25519', master, cc, [])).toThrow(/ed25519 point/);
    expect(() => deriveChildPublicKey('rsa' as 'ed25519', master, cc, [])).toThrow(/key type/);
  });
});

describe('verifySignOutcome checks a signature with @noble/curves, independently of tss', () => {
  it('a secp256k1 (r, s, recovery id) over the digest and an ed25519 signature over the message verify; any change does not', () => {
    const sk = new Uint8Array(32).fill(7);
    const digest = new Uint8Array(32).fill(9);
    const sig = secp256k1.Signature.fromBytes(
      secp256k1.sign(digest, sk, { prehash: false, lowS: true, format: 'recovered' }),
      'recovered',
    );
    const rs = sig.toBytes('compact');
    const outcome: SignOutcome = {
      ...head,
      keyType: 'secp256k1',
      r: rs.subarray(0, 32),
      s: rs.subarray(32),
      recoveryId: sig.recovery!,
    };
    const pub = secp256k1.getPublicKey(sk, false);
    expect(verifySignOutcome(outcome, pub.subarray(1), digest)).toBe(true);
    expect(verifySignOutcome(outcome, compressSecp256k1PublicKey(pub), digest)).toBe(true);
    expect(verifySignOutcome({ ...outcome, recoveryId: sig.recovery! ^ 1 }, pub, digest)).toBe(false);
    expect(verifySignOutcome(outcome, pub, new Uint8Array(32).fill(8))).toBe(false);
    const highS = secp256k1.Point.Fn.ORDER - BigInt(`0x${Buffer.from(outcome.s).toString('hex')}`);
    const sHigh = Buffer.from(highS.toString(16).padStart(64, '0'), 'hex');
    expect(verifySignOutcome({ ...outcome, s: sHigh, recoveryId: sig.recovery! ^ 1 }, pub, digest)).toBe(false);

    const seed = new Uint8Array(32).fill(3);
    const msg = Uint8Array.of(0, 0, 1, 2); // leading zero bytes are part of the message
    const edOutcome: SignOutcome = { ...head, keyType: 'ed25519', signature: ed25519.sign(msg, seed) };
    expect(verifySignOutcome(edOutcome, ed25519.getPublicKey(seed), msg)).toBe(true);
    expect(verifySignOutcome(edOutcome, ed25519.getPublicKey(seed), msg.subarray(2))).toBe(false);
    expect(verifySignOutcome(edOutcome, new Uint8Array(5), msg)).toBe(false);
  });
});
