/**
 * Per-record envelope encryption. Every share is sealed with AES-256-GCM under a data key, with a
 * fresh random 96-bit nonce and associated data that binds the record to its identity:
 *
 * ```
 * AAD = "tessera/record/v1" ‖ vault id (16) ‖ u8 kind ‖ u8 key type ‖ u32 len ‖ wallet id (UTF-8)
 *       ‖ u64 version ‖ u32 data key id
 * envelope = u8 format (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
 * ```
 * A record copied under another vault, kind, key type, wallet, version or data key fails to open.
 *
 * The audit log's authenticated head (`audit-log.ts`) is sealed the same way, as record kind 2,
 * with its own associated data: `"tessera/record/v1" ‖ vault id (16) ‖ u8 kind (2) ‖ u32 data key id`
 * (the kind byte sits at the same offset in both, so the two can never be confused).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { secureRandomBytes } from '../common/random.js';
import { KEY_TYPE_CODE } from './rows.js';
import type { KeyType } from './types.js';

const DOMAIN = new TextEncoder().encode('tessera/record/v1');
export const ENVELOPE_FORMAT = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/** Record kinds; the numeric codes are part of the on-disk format. */
export const RECORD_KIND = { share: 1, auditHead: 2 } as const;

/** The key type codes bound into the associated data (defined with the row codes, `rows.ts`). */
export { KEY_TYPE_CODE };

/** The identity a sealed record is bound to. */
export interface RecordIdentity {
  vaultId: Uint8Array;
  kind: 'share';
  keyType: KeyType;
  walletId: string;
  version: number;
  dataKeyId: number;
}

/** Canonical, injective encoding of a record identity (the AEAD associated data). */
export function encodeAad(id: RecordIdentity): Uint8Array {
  // Written straight into one buffer: this runs on every read and write of a share.
  const walletLen = Buffer.byteLength(id.walletId, 'utf8');
  const out = Buffer.allocUnsafe(DOMAIN.length + id.vaultId.length + 2 + 4 + walletLen + 8 + 4);
  let o = 0;
  out.set(DOMAIN, o);
  o += DOMAIN.length;
  out.set(id.vaultId, o);
  o += id.vaultId.length;
  o = out.writeUInt8(RECORD_KIND[id.kind], o);
  o = out.writeUInt8(KEY_TYPE_CODE[id.keyType], o);
  o = out.writeUInt32BE(walletLen, o);
  o += out.write(id.walletId, o, 'utf8');
  o = out.writeBigUInt64BE(BigInt(id.version), o);
  out.writeUInt32BE(id.dataKeyId, o);
  return out;
}

/** Associated data of the audit log's sealed head: bound to the vault, its kind and its data key. */
export function encodeAuditHeadAad(vaultId: Uint8Array, dataKeyId: number): Uint8Array {
  const out = Buffer.allocUnsafe(DOMAIN.length + vaultId.length + 1 + 4);
  out.set(DOMAIN, 0);
  out.set(vaultId, DOMAIN.length);
  out.writeUInt8(RECORD_KIND.auditHead, DOMAIN.length + vaultId.length);
  out.writeUInt32BE(dataKeyId, DOMAIN.length + vaultId.length + 1);
  return out;
}

/** Seals `plaintext` under `key` bound to `id`. */
export function sealRecord(key: Uint8Array, id: RecordIdentity, plaintext: Uint8Array): Uint8Array {
  return sealWithAad(key, encodeAad(id), plaintext);
}

/**
 * Opens an envelope sealed for `id`. Returns null (never throws) when the envelope is malformed or
 * does not authenticate, so that the caller reports corruption with its own context.
 */
export function openRecord(key: Uint8Array, id: RecordIdentity, envelope: Uint8Array): Buffer | null {
  return openWithAad(key, encodeAad(id), envelope);
}

/** Seals `plaintext` under `key` with the associated data `aad` (an `encode…Aad` of this module). */
export function sealWithAad(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const nonce = secureRandomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const out = Buffer.allocUnsafe(ENVELOPE_OVERHEAD + plaintext.length);
  out[0] = ENVELOPE_FORMAT;
  nonce.copy(out, 1);
  const n = c.update(plaintext).copy(out, 1 + NONCE_BYTES);
  c.final();
  c.getAuthTag().copy(out, 1 + NONCE_BYTES + n);
  return out;
}

/** Opens an envelope sealed with `aad`; null (never throws) if it is malformed or does not authenticate. */
export function openWithAad(key: Uint8Array, aad: Uint8Array, envelope: Uint8Array): Buffer | null {
  if (envelope.length < ENVELOPE_OVERHEAD || envelope[0] !== ENVELOPE_FORMAT) return null;
  const nonce = envelope.subarray(1, 1 + NONCE_BYTES);
  const ct = envelope.subarray(1 + NONCE_BYTES, envelope.length - TAG_BYTES);
  const tag = envelope.subarray(envelope.length - TAG_BYTES);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(aad);
    d.setAuthTag(tag);
    const out = d.update(ct);
    try {
      d.final();
    } catch {
      out.fill(0);
      return null;
    }
    return out;
  } catch {
    return null;
  }
}
