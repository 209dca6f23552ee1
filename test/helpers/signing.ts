/**
 * Signing requests for the end-to-end tests and their checks: what to sign on each curve, a
 * verdict on an outcome under the wallet keys (noble, independent of the nodes' code), and how a
 * request settled — a verified signature, an error result with an mpcium code, or anything else
 * (a client timeout, a publish failure), which the fault tests count as a defect.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { isErrorCode } from '../../src/api/index.js';
import { type MpcClient, OperationFailedError, type SignOutcome } from '../../src/client/index.js';
import { TimeoutError } from '../../src/common/errors.js';

export type KeyType = 'secp256k1' | 'ed25519';

export interface TestWallet {
  readonly walletId: string;
  readonly ecdsaPublicKey: Uint8Array;
  readonly eddsaPublicKey: Uint8Array;
}

/** noble's verdict on (r, s) over `digest`; the key as 64-byte X‖Y or 33-byte compressed SEC1. */
export function ecdsaOk(r: Uint8Array, s: Uint8Array, digest: Uint8Array, key: Uint8Array): boolean {
  return secp256k1.verify(new Uint8Array([...r, ...s]), digest, key.length === 64 ? Uint8Array.of(4, ...key) : key, {
    prehash: false,
    lowS: true,
  });
}

/** What a request signs: a fresh 32-byte digest (ECDSA) or a fresh message (EdDSA). */
export function txFor(keyType: KeyType, label: string): Uint8Array {
  return keyType === 'secp256k1'
    ? createHash('sha256').update(label).update(randomBytes(16)).digest()
    : Uint8Array.from(Buffer.concat([Buffer.from(label), randomBytes(40)]));
}

/** True if `o` is a valid signature of `tx` under the wallet's `keyType` key (noble). Does not throw. */
export function outcomeVerifies(wallet: TestWallet, keyType: KeyType, tx: Uint8Array, o: SignOutcome): boolean {
  try {
    if (keyType === 'secp256k1') {
      if (o.keyType !== 'secp256k1' || !ecdsaOk(o.r, o.s, tx, wallet.ecdsaPublicKey)) return false;
      // the recovery id must recover the wallet key
      const sig = secp256k1.Signature.fromBytes(new Uint8Array([...o.r, ...o.s]), 'compact').addRecoveryBit(
        o.recoveryId,
      );
      return Buffer.from(sig.recoverPublicKey(tx).toBytes(false)).subarray(1).equals(wallet.ecdsaPublicKey);
    }
    return o.keyType === 'ed25519' && ed25519.verify(o.signature, tx, wallet.eddsaPublicKey);
  } catch {
    return false;
  }
}

export type Settled =
  | { readonly kind: 'signed'; readonly keyType: KeyType; readonly verified: boolean }
  | { readonly kind: 'error-result'; readonly keyType: KeyType; readonly code: string; readonly reason: string }
  | {
      readonly kind: 'other';
      readonly keyType: KeyType;
      readonly error: string;
      /** The client gave up waiting for the result (the request hung). */
      readonly resultTimeout: boolean;
    };

/** Signs `tx` and says how the request settled (never rejects). */
export async function signAndSettle(
  client: MpcClient,
  wallet: TestWallet,
  keyType: KeyType,
  tx: Uint8Array,
  txId?: string,
): Promise<Settled> {
  try {
    const o = await client.sign({ walletId: wallet.walletId, keyType, tx, txId });
    return { kind: 'signed', keyType, verified: outcomeVerifies(wallet, keyType, tx, o) };
  } catch (e) {
    if (e instanceof OperationFailedError)
      return { kind: 'error-result', keyType, code: e.errorCode, reason: e.reason };
    return {
      kind: 'other',
      keyType,
      error: `${(e as Error).name}: ${(e as Error).message}`,
      resultTimeout: e instanceof TimeoutError,
    };
  }
}

/** Signs `tx` and resolves only with a verified signature (throws otherwise, with what happened). */
export async function signVerified(client: MpcClient, wallet: TestWallet, keyType: KeyType, label: string) {
  const tx = txFor(keyType, label);
  const s = await signAndSettle(client, wallet, keyType, tx);
  if (s.kind !== 'signed' || !s.verified)
    throw new Error(`${keyType} signing (${label}) did not verify: ${JSON.stringify(s)}`);
}

/** An error result with a known mpcium code other than ERROR_UNKNOWN. */
export function clearErrorCode(code: string): boolean {
  return isErrorCode(code) && code !== 'ERROR_UNKNOWN';
}

/** Counts by outcome, for assertion messages. */
export function tally(xs: readonly Settled[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k =
      x.kind === 'signed'
        ? `${x.keyType} ${x.verified ? 'verified' : 'NOT VERIFIED'}`
        : x.kind === 'error-result'
          ? `${x.keyType} ${x.code}`
          : `${x.keyType} other`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
