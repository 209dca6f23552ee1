/**
 * The keys that sign requests (reference §2.2, §2.3): one initiator for the cluster, and the
 * authorizers a node's policy may require. Ed25519 signs the bytes (raw 64-byte signature); P-256
 * signs SHA-256 of them (ASN.1 DER signature) — what mpcium's Go signers produce and Tessera's and
 * mpcium's nodes verify. Keys load from mpcium's files (`generate-initiator`,
 * `generate-authorizer`): hex seed or SEC1 DER, optionally age-encrypted with a passphrase.
 */
import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decryptKeyFile, type SignatureAlgorithm, signingKeyFromText } from '../api/index.js';
import { InvalidArgumentError, IoError } from '../common/errors.js';

export type { SignatureAlgorithm };

/** Signs request bytes. Implement it to sign elsewhere (a KMS, an HSM) with the same signature encoding. */
export interface RequestSigner {
  readonly algorithm: SignatureAlgorithm;
  /** Ed25519: the 64-byte signature of `data`; p256: the ASN.1 DER ECDSA signature of SHA-256(`data`). */
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** The cluster's initiator: the node's `event_initiator_pubkey` (and `event_initiator_algorithm`) is its public key. */
export type InitiatorSigner = RequestSigner;

/** An authorizer: the node's `authorization.authorizer_public_keys.<id>` holds its public key. */
export interface AuthorizerSigner extends RequestSigner {
  readonly id: string;
}

/** A signer whose private key is in this process. */
export interface LocalSigner extends RequestSigner {
  /** The public key as a node's config takes it: ed25519 64 hex; p256 hex of the PKIX SubjectPublicKeyInfo DER. */
  readonly publicKey: string;
}

/** The algorithm of a private key. Throws `InvalidArgumentError` for a key that is neither Ed25519 nor P-256. */
function algorithmOf(key: KeyObject): SignatureAlgorithm {
  if (key.type !== 'private') throw new InvalidArgumentError('a request signer needs a private key');
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'p256';
  throw new InvalidArgumentError('a request signer key is Ed25519 or P-256');
}

/**
 * A signer over a private `KeyObject` (Ed25519 or P-256). Throws `InvalidArgumentError` for a
 * public key or another algorithm.
 */
export function localSigner(key: KeyObject): LocalSigner {
  const algorithm = algorithmOf(key);
  const pub = createPublicKey(key);
  const publicKey =
    algorithm === 'ed25519'
      ? Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url').toString('hex')
      : pub.export({ format: 'der', type: 'spki' }).toString('hex');
  return {
    algorithm,
    publicKey,
    sign: (data) =>
      new Uint8Array(
        algorithm === 'ed25519' ? sign(null, data, key) : sign('sha256', data, { key, dsaEncoding: 'der' }),
      ),
  };
}

/** An authorizer over a private `KeyObject`. Throws `InvalidArgumentError` for a bad id or key. */
export function localAuthorizer(id: string, key: KeyObject): AuthorizerSigner & LocalSigner {
  if (typeof id !== 'string' || id.length === 0 || id.length > 256)
    throw new InvalidArgumentError('an authorizer id is 1 to 256 characters');
  return { ...localSigner(key), id };
}

/** mpcium files do not name the algorithm: 32 (or 64) bytes of hex is an Ed25519 seed, anything else P-256 DER. */
function guessAlgorithm(text: string): SignatureAlgorithm {
  const n = text.trim().replace(/^0x/, '').length;
  return n === 64 || n === 128 ? 'ed25519' : 'p256';
}

/**
 * The private key of an mpcium initiator or authorizer key file: `<name>.key` (hex) or
 * `<name>.key.age` (age, passphrase). The algorithm is guessed from the text unless given. Throws
 * `IoError` if the file cannot be read, `InvalidArgumentError` if it holds no such key or an `.age`
 * file comes without a passphrase, `WrongPasswordError` if the passphrase does not open it.
 */
export async function readSigningKey(
  path: string,
  opts: { algorithm?: SignatureAlgorithm; passphrase?: string } = {},
): Promise<KeyObject> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (e) {
    throw new IoError(`reading ${path}`, e);
  }
  let text: string;
  if (path.endsWith('.age')) {
    if (opts.passphrase === undefined)
      throw new InvalidArgumentError(`${path} is age-encrypted: give the passphrase it was written with`);
    text = await decryptKeyFile(file, opts.passphrase, `the passphrase does not open ${path}; check the passphrase`);
  } else {
    text = file.toString('utf8');
  }
  return signingKeyFromText(opts.algorithm ?? guessAlgorithm(text), text);
}

/** {@link readSigningKey} as an initiator. Throws as {@link readSigningKey}. */
export async function loadInitiator(
  path: string,
  opts: { algorithm?: SignatureAlgorithm; passphrase?: string } = {},
): Promise<LocalSigner> {
  return localSigner(await readSigningKey(path, opts));
}

/** {@link readSigningKey} as the authorizer `id`. Throws as {@link readSigningKey}, and `InvalidArgumentError` for a bad id. */
export async function loadAuthorizer(
  id: string,
  path: string,
  opts: { algorithm?: SignatureAlgorithm; passphrase?: string } = {},
): Promise<AuthorizerSigner & LocalSigner> {
  return localAuthorizer(id, await readSigningKey(path, opts));
}
