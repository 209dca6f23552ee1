/**
 * mpcium's request-signing and node key files as text (reference §2.2, §3.4): an Ed25519 key is
 * hex of its 32-byte seed (initiators, authorizers) or of seed ‖ public key (node identities); a
 * P-256 key is hex of its SEC1 DER (PKCS#8 DER is accepted too); a `.age` file holds the same
 * text encrypted with a passphrase (scrypt). Shared by the node (its identity, the CLI) and the
 * SDK (its initiator and authorizers). No file I/O: callers read the bytes.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Decrypter } from 'age-encryption';
import { InvalidArgumentError, WrongPasswordError } from '../common/errors.js';

/** PKCS#8 DER header of an Ed25519 private key (RFC 8410) before its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The algorithms of initiator and authorizer keys. */
export type SignatureAlgorithm = 'ed25519' | 'p256';

/**
 * The signing key of a private key file's text (hex of the 64-byte seed ‖ public key, or of the
 * 32-byte seed). Throws `InvalidArgumentError` if malformed or if the public half does not belong
 * to the seed.
 */
export function privateKeyFromHex(text: string): KeyObject {
  const h = text.trim().replace(/^0x/, '');
  if (!/^[0-9a-fA-F]+$/.test(h) || (h.length !== 128 && h.length !== 64))
    throw new InvalidArgumentError('an Ed25519 private key file holds 64 (or 32) bytes as hex');
  const b = Buffer.from(h, 'hex');
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, b.subarray(0, 32)]);
  try {
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const pub = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
    if (h.length === 128 && !pub.equals(b.subarray(32))) {
      throw new InvalidArgumentError('the private key file is damaged: its public half does not match its seed');
    }
    return key;
  } finally {
    pkcs8.fill(0);
    b.fill(0);
  }
}

/**
 * The signing key of an initiator or authorizer private key file's text (ed25519: hex seed; p256:
 * hex of SEC1 or PKCS#8 DER). Throws `InvalidArgumentError` if malformed.
 */
export function signingKeyFromText(algorithm: SignatureAlgorithm, text: string): KeyObject {
  const h = text.trim().replace(/^0x/, '');
  if (!/^[0-9a-fA-F]+$/.test(h) || h.length % 2 !== 0) throw new InvalidArgumentError('a private key file holds hex');
  const b = Buffer.from(h, 'hex');
  let pkcs8: Buffer | undefined;
  try {
    if (algorithm === 'ed25519') {
      if (b.length === 64) return privateKeyFromHex(h); // seed ‖ public key: the public half is checked
      if (b.length !== 32) throw new Error('length');
      pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, b]);
      return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    }
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: b, format: 'der', type: 'sec1' });
    } catch {
      key = createPrivateKey({ key: b, format: 'der', type: 'pkcs8' });
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new Error('curve');
    return key;
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError(
      `not a ${algorithm} private key (ed25519: 32-byte seed hex; p256: SEC1 or PKCS#8 DER hex of a P-256 key)`,
    );
  } finally {
    pkcs8?.fill(0);
    b.fill(0);
  }
}

/**
 * Decrypts an age-encrypted (passphrase) key file to its text. Throws `WrongPasswordError` with
 * `wrongPassphrase` as its message if the passphrase does not open it.
 */
export async function decryptKeyFile(file: Uint8Array, passphrase: string, wrongPassphrase: string): Promise<string> {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  try {
    return await d.decrypt(file, 'text');
  } catch {
    throw new WrongPasswordError(wrongPassphrase);
  }
}
