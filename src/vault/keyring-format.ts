/**
 * The keyring file format (pure encode/decode; no I/O).
 *
 * ```
 * offset size  field
 * 0      8     magic "TESSKRNG"
 * 8      2     format version (1)
 * 10     16    vault id
 * 26     1     kdf: 1 = Argon2id, 2 = raw 32-byte key
 * 27     4     Argon2id iterations (0 for raw key)
 * 31     4     Argon2id memory in KiB (0 for raw key)
 * 35     16    salt
 * 51     8     generation (incremented on every rewrite)
 * 59     32    verifier (HKDF of the secret; tells a wrong secret from damage)
 * 91     12    AES-256-GCM nonce
 * 103    4     sealed body length L
 * 107    L     AES-256-GCM(KEK, nonce, body, aad = bytes 0..107) ciphertext ‖ tag
 * 107+L  32    SHA-256 of bytes 0..107+L (detects accidental damage before any key is tried)
 * ```
 * Body (plaintext): u16 body version (1); u8 page key count, each {u32 id, u8 role (1 current,
 * 2 next), 32-byte key}; u8 data key count, each {u32 id, u8 status (1 primary, 2 decrypt-only),
 * u64 created ms, 32-byte key}.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import sodium from 'sodium-native';
import { ByteReader, ByteWriter, MalformedError } from '../common/bytes.js';
import { secureRandomBytes } from '../common/random.js';
import type { Argon2Params } from './types.js';

export const KEYRING_MAGIC = Buffer.from('TESSKRNG', 'latin1');
export const KEYRING_FORMAT = 1;
export const VAULT_ID_BYTES = 16;
const HEADER_BYTES = 107;
const TAG_BYTES = 16;
const DIGEST_BYTES = 32;
const KEY_BYTES = 32;
const MAX_BODY = 64 * 1024;

export type PageKeyRole = 'current' | 'next';
export type DataKeyStatus = 'primary' | 'decrypt-only';

export interface PageKey {
  id: number;
  role: PageKeyRole;
  key: Buffer;
}

export interface DataKey {
  id: number;
  status: DataKeyStatus;
  createdAt: number;
  key: Buffer;
}

/** The secret content of the keyring. */
export interface KeyringBody {
  pageKeys: PageKey[];
  dataKeys: DataKey[];
}

/** The public, authenticated header of a keyring file. */
export interface KeyringHeader {
  vaultId: Uint8Array;
  kdf: number;
  argon2: Argon2Params;
  salt: Uint8Array;
  generation: number;
  verifier: Uint8Array;
}

/** A parsed but still sealed keyring file. */
export interface SealedKeyring {
  header: KeyringHeader;
  aad: Uint8Array;
  nonce: Uint8Array;
  sealedBody: Uint8Array;
}

/** Why a file is not a keyring; the caller reports it as corruption of that copy. */
export class KeyringFormatError extends Error {}

function secureCopy(src: Uint8Array): Buffer {
  const out = sodium.sodium_malloc(src.length);
  out.set(src);
  return out;
}

/** Encodes the body; the returned bytes are secret (zero them). */
export function encodeBody(body: KeyringBody): Uint8Array {
  const w = new ByteWriter(512);
  w.u16(1);
  w.u8(body.pageKeys.length);
  for (const k of body.pageKeys)
    w.u32(k.id)
      .u8(k.role === 'current' ? 1 : 2)
      .raw(k.key);
  w.u8(body.dataKeys.length);
  for (const k of body.dataKeys)
    w.u32(k.id)
      .u8(k.status === 'primary' ? 1 : 2)
      .u64(k.createdAt)
      .raw(k.key);
  return w.finish();
}

/**
 * Decodes and checks a body: exactly one current page key, at most one next, exactly one primary
 * data key, ids unique.
 * @throws KeyringFormatError on any violation.
 */
export function decodeBody(bytes: Uint8Array): KeyringBody {
  try {
    const r = new ByteReader(bytes);
    if (r.u16() !== 1) throw new KeyringFormatError('unknown keyring body version');
    const pageKeys: PageKey[] = [];
    const np = r.u8();
    for (let i = 0; i < np; i++) {
      const id = r.u32();
      const role = r.u8();
      if (role !== 1 && role !== 2) throw new KeyringFormatError('bad page key role');
      pageKeys.push({ id, role: role === 1 ? 'current' : 'next', key: secureCopy(r.view(KEY_BYTES)) });
    }
    const dataKeys: DataKey[] = [];
    const nd = r.u8();
    for (let i = 0; i < nd; i++) {
      const id = r.u32();
      const status = r.u8();
      if (status !== 1 && status !== 2) throw new KeyringFormatError('bad data key status');
      const createdAt = r.u64();
      dataKeys.push({
        id,
        status: status === 1 ? 'primary' : 'decrypt-only',
        createdAt,
        key: secureCopy(r.view(KEY_BYTES)),
      });
    }
    r.end();
    const body = { pageKeys, dataKeys };
    checkBody(body);
    return body;
  } catch (e) {
    if (e instanceof MalformedError) throw new KeyringFormatError(e.message);
    throw e;
  }
}

/** @throws KeyringFormatError if the body's invariants do not hold. */
export function checkBody(body: KeyringBody): void {
  const current = body.pageKeys.filter((k) => k.role === 'current').length;
  const next = body.pageKeys.filter((k) => k.role === 'next').length;
  const primary = body.dataKeys.filter((k) => k.status === 'primary').length;
  if (current !== 1 || next > 1)
    throw new KeyringFormatError('keyring must hold one current page key and at most one next');
  if (primary !== 1) throw new KeyringFormatError('keyring must hold exactly one primary data key');
  if (new Set(body.pageKeys.map((k) => k.id)).size !== body.pageKeys.length)
    throw new KeyringFormatError('duplicate page key id');
  if (new Set(body.dataKeys.map((k) => k.id)).size !== body.dataKeys.length)
    throw new KeyringFormatError('duplicate data key id');
}

/** A fresh random 256-bit page or data key, in guarded memory (`sodium_malloc`). */
export function newKey(): Buffer {
  const k = sodium.sodium_malloc(32);
  sodium.randombytes_buf(k);
  return k;
}

/** Zeroes every key of a body. */
export function wipeBody(body: KeyringBody): void {
  for (const k of body.pageKeys) sodium.sodium_memzero(k.key);
  for (const k of body.dataKeys) sodium.sodium_memzero(k.key);
}

function encodeHeader(h: KeyringHeader, nonce: Uint8Array, sealedLen: number): Uint8Array {
  const w = new ByteWriter(HEADER_BYTES);
  w.raw(KEYRING_MAGIC).u16(KEYRING_FORMAT).raw(h.vaultId).u8(h.kdf);
  w.u32(h.argon2.opsLimit)
    .u32(h.argon2.memLimit / 1024)
    .raw(h.salt)
    .u64(h.generation)
    .raw(h.verifier);
  w.raw(nonce).u32(sealedLen);
  const out = w.finish();
  if (out.length !== HEADER_BYTES) throw new Error('keyring header size mismatch');
  return out;
}

/** Seals a body under `kek` and returns the complete file bytes. */
export function sealKeyring(header: KeyringHeader, body: KeyringBody, kek: Uint8Array): Uint8Array {
  if (header.vaultId.length !== VAULT_ID_BYTES || header.salt.length !== 16 || header.verifier.length !== 32) {
    throw new KeyringFormatError('bad keyring header field size');
  }
  checkBody(body);
  const plain = encodeBody(body);
  try {
    const nonce = secureRandomBytes(12);
    const aad = encodeHeader(header, nonce, plain.length + TAG_BYTES);
    const c = createCipheriv('aes-256-gcm', kek, nonce);
    c.setAAD(aad);
    const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    const digest = createHash('sha256').update(aad).update(ct).digest();
    return Buffer.concat([aad, ct, digest]);
  } finally {
    plain.fill(0);
  }
}

/**
 * Parses a keyring file and checks its SHA-256 digest, without any key.
 * @throws KeyringFormatError if the file is truncated, damaged or not a keyring.
 */
export function parseKeyring(file: Uint8Array): SealedKeyring {
  if (file.length < HEADER_BYTES + TAG_BYTES + DIGEST_BYTES)
    throw new KeyringFormatError('file too short to be a keyring');
  const end = file.length - DIGEST_BYTES;
  const digest = createHash('sha256').update(file.subarray(0, end)).digest();
  if (!digest.equals(file.subarray(end))) throw new KeyringFormatError('checksum mismatch');
  try {
    const r = new ByteReader(file.subarray(0, end));
    if (!Buffer.from(r.raw(8)).equals(KEYRING_MAGIC)) throw new KeyringFormatError('not a Tessera keyring (bad magic)');
    if (r.u16() !== KEYRING_FORMAT) throw new KeyringFormatError('unsupported keyring format version; upgrade Tessera');
    const vaultId = r.raw(VAULT_ID_BYTES);
    const kdf = r.u8();
    const opsLimit = r.u32();
    const memLimit = r.u32() * 1024;
    const salt = r.raw(16);
    const generation = r.u64();
    const verifier = r.raw(32);
    const nonce = r.raw(12);
    const len = r.u32();
    if (len < TAG_BYTES || len > MAX_BODY) throw new KeyringFormatError('bad sealed body length');
    const sealedBody = r.raw(len);
    r.end();
    return {
      header: { vaultId, kdf, argon2: { opsLimit, memLimit }, salt, generation, verifier },
      aad: file.subarray(0, HEADER_BYTES),
      nonce,
      sealedBody,
    };
  } catch (e) {
    if (e instanceof MalformedError) throw new KeyringFormatError(e.message);
    throw e;
  }
}

/**
 * Opens the sealed body with the KEK.
 * @throws KeyringFormatError if authentication fails or the body is malformed.
 */
export function openKeyring(sealed: SealedKeyring, kek: Uint8Array): KeyringBody {
  const ct = sealed.sealedBody.subarray(0, sealed.sealedBody.length - TAG_BYTES);
  const tag = sealed.sealedBody.subarray(sealed.sealedBody.length - TAG_BYTES);
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', kek, sealed.nonce);
    d.setAAD(sealed.aad);
    d.setAuthTag(tag);
    plain = Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw new KeyringFormatError('authentication failed');
  }
  try {
    return decodeBody(plain);
  } finally {
    plain.fill(0);
  }
}
