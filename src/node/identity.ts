/**
 * Node identities in mpcium's file layout (reference §3.4), so an operator's existing `peers.json`
 * and `identity/` directory carry over:
 * - `peers.json`: `{"<node name>": "<node id (UUID)>", …}`;
 * - `identity/<name>_identity.json`: `{"node_name","node_id","public_key" (hex Ed25519),"created_at"}`;
 * - `identity/<name>_private.key`: hex of the 64-byte Ed25519 private key (seed ‖ public key), or
 *   `<name>_private.key.age`: the same text age-encrypted with a passphrase (scrypt).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname, platform, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { AlreadyExistsError, InvalidArgumentError, IoError, WrongPasswordError } from '../common/errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../common/fs.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** PKCS#8 DER header of an Ed25519 private key (RFC 8410) before its 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One node's public identity, as `<name>_identity.json` holds it. */
export interface IdentityFile {
  readonly node_name: string;
  readonly node_id: string;
  /** Hex of the 32-byte Ed25519 public key. */
  readonly public_key: string;
  /** RFC 3339, UTC. */
  readonly created_at: string;
}

/** Node names `node0`…`node<n-1>` with fresh UUIDs (mpcium's `generate-peers`). Throws `InvalidArgumentError` for n outside 2..1024. */
export function generatePeers(n: number): Record<string, string> {
  if (!Number.isInteger(n) || n < 2 || n > 1024) throw new InvalidArgumentError('a cluster has 2 to 1024 nodes');
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`node${i}`, randomUUID()]));
}

/** Parses `peers.json`. Throws `InvalidArgumentError` naming the problem (bad JSON, bad name or id, a repeated id). */
export function parsePeers(text: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError('peers.json is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidArgumentError('peers.json must map node names to node ids');
  const out = new Map<string, string>();
  const ids = new Set<string>();
  for (const [name, id] of Object.entries(raw)) {
    if (!NAME_RE.test(name))
      throw new InvalidArgumentError(
        `peers.json: node name '${name.slice(0, 40)}' must be 1-64 letters, digits, '_' or '-'`,
      );
    if (typeof id !== 'string' || !UUID_RE.test(id))
      throw new InvalidArgumentError(`peers.json: the id of ${name} must be a lower-case UUID`);
    if (ids.has(id)) throw new InvalidArgumentError(`peers.json: id ${id} is given to two nodes`);
    ids.add(id);
    out.set(name, id);
  }
  if (out.size < 2) throw new InvalidArgumentError('peers.json must list at least two nodes');
  return out;
}

/** A passphrase for an encrypted key file: at least 12 characters, one of them not a letter or digit. Throws `InvalidArgumentError`. */
export function checkPassphrase(p: string): void {
  if (p.length < 12 || !/[^A-Za-z0-9]/.test(p))
    throw new InvalidArgumentError(
      'a key passphrase needs at least 12 characters, at least one of them not a letter or digit',
    );
}

/** A fresh Ed25519 identity: the identity record and the private key file's text (hex of seed ‖ public key). Does not throw. */
export function createIdentity(
  name: string,
  nodeId: string,
  now = new Date(),
): { identity: IdentityFile; privateKeyHex: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const privateKeyHex = Buffer.concat([seed, pub]).toString('hex');
  seed.fill(0);
  return {
    identity: {
      node_name: name,
      node_id: nodeId,
      public_key: pub.toString('hex'),
      created_at: rfc3339Seconds(now),
    },
    privateKeyHex,
  };
}

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

/** Age-encrypts a private key file's text with a passphrase (scrypt). Throws `InvalidArgumentError` for a weak passphrase. */
export async function encryptPrivateKey(text: string, passphrase: string): Promise<Uint8Array> {
  checkPassphrase(passphrase);
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  return e.encrypt(text);
}

/** Decrypts an age-encrypted private key file. Throws `WrongPasswordError` if the passphrase does not open it. */
export async function decryptPrivateKey(file: Uint8Array, passphrase: string): Promise<string> {
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  try {
    return await d.decrypt(file, 'text');
  } catch {
    throw new WrongPasswordError('the passphrase does not open this identity key file; check --identity-password-file');
  }
}

/** RFC 3339 in UTC to the second, as mpcium's files hold times. Does not throw. */
function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Writes a public record (`idPath`, pretty JSON) and its private key text (`keyPath`, or
 * `keyPath.age` age-encrypted with `passphrase`), both 0600 in a 0700 directory; the key first, so a
 * record never points to a missing key. Returns the two paths. Throws `AlreadyExistsError` unless
 * `overwrite`, `InvalidArgumentError` on a weak passphrase, `IoError`.
 */
async function writeKeyFiles(
  idPath: string,
  keyPath: string,
  record: object,
  privateText: string,
  opts: { passphrase?: string; overwrite?: boolean },
): Promise<string[]> {
  if (opts.passphrase !== undefined) checkPassphrase(opts.passphrase);
  const keyFile = opts.passphrase !== undefined ? `${keyPath}.age` : keyPath;
  for (const p of [idPath, keyFile])
    if (!opts.overwrite && existsSync(p))
      throw new AlreadyExistsError(p, 'pass --overwrite to replace it (the old key is lost)');
  ensurePrivateDir(dirname(idPath));
  const keyBytes =
    opts.passphrase !== undefined
      ? await encryptPrivateKey(privateText, opts.passphrase)
      : new TextEncoder().encode(privateText);
  writeFileAtomic(keyFile, keyBytes);
  writeFileAtomic(idPath, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
  return [idPath, keyFile];
}

/**
 * Writes `<dir>/<name>_identity.json` and the private key file (`.age` with a passphrase), both
 * 0600 in a 0700 directory. Throws `AlreadyExistsError` unless `overwrite`, `InvalidArgumentError`
 * on a bad name or passphrase, `IoError`.
 */
export async function writeIdentity(
  dir: string,
  name: string,
  nodeId: string,
  opts: { passphrase?: string; overwrite?: boolean } = {},
): Promise<IdentityFile> {
  if (!NAME_RE.test(name)) throw new InvalidArgumentError("a node name is 1-64 letters, digits, '_' or '-'");
  const { identity, privateKeyHex } = createIdentity(name, nodeId);
  await writeKeyFiles(
    join(dir, `${name}_identity.json`),
    join(dir, `${name}_private.key`),
    identity,
    privateKeyHex,
    opts,
  );
  return identity;
}

/** Reads `<name>_identity.json`. Throws `IoError` if it cannot be read, `InvalidArgumentError` if it is not an identity. */
export function readIdentity(dir: string, name: string): IdentityFile {
  const path = join(dir, `${name}_identity.json`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IoError(`reading ${path}`, e);
  }
  let raw: Partial<IdentityFile> | null = null;
  try {
    raw = JSON.parse(text) as Partial<IdentityFile> | null;
  } catch {
    // reported below
  }
  if (
    raw === null ||
    typeof raw !== 'object' ||
    raw.node_name !== name ||
    typeof raw.node_id !== 'string' ||
    !/^[0-9a-f]{64}$/.test(raw.public_key ?? '') ||
    typeof raw.created_at !== 'string'
  ) {
    throw new InvalidArgumentError(
      `${path} is not a node identity (node_name, node_id, public_key as 64 hex, created_at)`,
    );
  }
  return raw as IdentityFile;
}

/** True if `signature` is `key`'s Ed25519 signature of `data` under the identity's public key. Does not throw. */
export function verifyWithIdentity(identity: IdentityFile, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const pub = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(identity.public_key, 'hex').toString('base64url') },
      format: 'jwk',
    });
    return verify(null, data, pub, signature);
  } catch {
    return false;
  }
}

/** Ed25519 signature of `data` with a node's private key. Does not throw for a valid key. */
export function signWithIdentity(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, key));
}

/** A request-signing key pair as mpcium's files hold it (initiator or authorizer). */
export interface SigningKeyFiles {
  /** ed25519: hex of the 32-byte key; p256: hex of the PKIX SubjectPublicKeyInfo DER. */
  readonly publicKey: string;
  /** ed25519: hex of the 32-byte seed; p256: hex of the SEC1 EC private key DER. */
  readonly privateKey: string;
}

/** A fresh initiator or authorizer key pair in mpcium's encodings. Does not throw. */
export function createSigningKey(algorithm: 'ed25519' | 'p256'): SigningKeyFiles {
  if (algorithm === 'ed25519') {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    return {
      publicKey: Buffer.from(jwk.x!, 'base64url').toString('hex'),
      privateKey: Buffer.from(jwk.d!, 'base64url').toString('hex'),
    };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('hex'),
    privateKey: privateKey.export({ format: 'der', type: 'sec1' }).toString('hex'),
  };
}

/**
 * The signing key of an initiator or authorizer private key file's text (ed25519: hex seed; p256:
 * hex of SEC1 or PKCS#8 DER). Throws `InvalidArgumentError` if malformed.
 */
export function signingKeyFromText(algorithm: 'ed25519' | 'p256', text: string): KeyObject {
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
 * Writes an initiator (`<name>.identity.json` + `<name>.key[.age]`) or an authorizer
 * (`<name>.authorizer.identity.json` + `<name>.authorizer.key[.age]`) as mpcium's CLI does. Throws
 * `AlreadyExistsError` unless `overwrite`, `InvalidArgumentError` on a bad name or passphrase, `IoError`.
 */
export async function writeSigningKey(
  dir: string,
  kind: 'initiator' | 'authorizer',
  name: string,
  algorithm: 'ed25519' | 'p256',
  opts: { passphrase?: string; overwrite?: boolean; now?: Date } = {},
): Promise<{ publicKey: string; files: string[] }> {
  if (!NAME_RE.test(name)) throw new InvalidArgumentError("a key name is 1-64 letters, digits, '_' or '-'");
  const stem = kind === 'initiator' ? name : `${name}.authorizer`;
  const k = createSigningKey(algorithm);
  const record = {
    [kind === 'initiator' ? 'node_name' : 'name']: name,
    algorithm,
    public_key: k.publicKey,
    created_at: rfc3339Seconds(opts.now ?? new Date()),
    created_by: userInfo().username,
    machine_os: platform(),
    machine_name: hostname(),
  };
  const files = await writeKeyFiles(
    join(dir, `${stem}.identity.json`),
    join(dir, `${stem}.key`),
    record,
    k.privateKey,
    opts,
  );
  return { publicKey: k.publicKey, files };
}
