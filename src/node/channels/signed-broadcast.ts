/**
 * Signed broadcasts: the sender signs (domain, sessionId, sender, kind, round, SHA-256(payload))
 * with its Ed25519 identity key, so a recipient can show the message to anyone (echo blame becomes
 * evidence). The signature names no recipient and no sequence number: one signed statement per
 * (session, round, kind) is what the sender commits to, so two different payloads under it prove
 * equivocation.
 */

import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { ByteWriter } from '../../common/bytes.js';
import { ed25519PublicKey } from '../crypto/ed25519.js';
import type { InboundMessage } from './types.js';

export const TAG_BROADCAST = 'tessera/node/channels/broadcast/v1';

/** The bytes a broadcast's signature covers. Throws `InvalidArgumentError` on an out-of-range field. */
export function broadcastSignedBytes(
  m: { readonly sessionId: string; readonly kind: number; readonly round: number; readonly payload: Uint8Array },
  sender: string,
): Uint8Array {
  const digest = createHash('sha256').update(m.payload).digest();
  return new ByteWriter().tag(TAG_BROADCAST).str(m.sessionId).str(sender).u8(m.kind).u16(m.round).raw(digest).finish();
}

/** The sender's signature of a broadcast. Throws `InvalidArgumentError` on an out-of-range field. */
export function signBroadcast(
  key: KeyObject,
  m: { readonly sessionId: string; readonly kind: number; readonly round: number; readonly payload: Uint8Array },
  sender: string,
): Uint8Array {
  return new Uint8Array(sign(null, broadcastSignedBytes(m, sender), key));
}

/** True if `signature` is `key`'s Ed25519 signature of `data`. Does not throw. */
export function verifyEd25519(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/**
 * Evidence check by a third party: true if `m` is a broadcast (`to` null) carrying `m.from`'s
 * signature under `peerPublicKey` (32 raw bytes) over its session, sender, kind, round and payload.
 * Does not throw (a malformed key or message is simply not evidence).
 */
export function verifyBroadcast(peerPublicKey: Uint8Array, m: InboundMessage): boolean {
  if (m.to !== null || m.signature === undefined || peerPublicKey.length !== 32) return false;
  try {
    return verifyEd25519(ed25519PublicKey(peerPublicKey), broadcastSignedBytes(m, m.from), m.signature);
  } catch {
    return false;
  }
}
