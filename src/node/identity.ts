/**
 * Node identities in mpcium's file layout (reference §3.4), so an operator's existing `peers.json`
 * and `identity/` directory carry over:
 * - `peers.json`: `{"<node name>": "<node id (UUID)>", …}`;
 * - `identity/<name>_identity.json`: `{"node_name","node_id","public_key" (hex Ed25519),"created_at"}`;
 * - `identity/<name>_private.key`: hex of the 64-byte Ed25519 private key (seed ‖ public key), or
 *   `<name>_private.key.age`: the same text age-encrypted with a passphrase (scrypt).
 * Reading key file text is `api`'s (`privateKeyFromHex`, `signingKeyFromText`), shared with the SDK.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname, platform, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Encrypter } from 'age-encryption';
import { decryptKeyFile } from '../api/index.js';
import { AlreadyExistsError, InvalidArgumentError, IoError } from '../common/errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../common/fs.js';

export { privateKeyFromHex, signingKeyFromText } from '../api/index.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
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

/**
 * What is wrong with each entry of a peers map (a name that is not 1–64 of `A-Z a-z 0-9 _ -`, an id
 * that is not a lower-case UUID, an id given to two names), one line per bad entry; empty when all
 * are good. Does not throw.
 */
export function peerEntryProblems(peers: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  const owner = new Map<string, string>();
  for (const [name, id] of Object.entries(peers)) {
    const shown = JSON.stringify(name.slice(0, 64));
    if (!NAME_RE.test(name)) out.push(`${shown}: not a node name (1-64 letters, digits, '_' or '-')`);
    else if (typeof id !== 'string' || !UUID_RE.test(id)) out.push(`${shown}: its id is not a lower-case UUID`);
    else if (owner.has(id)) out.push(`${shown}: its id is also given to ${JSON.stringify(owner.get(id))}`);
    else owner.set(id, name);
  }
  return out;
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

/** Age-encrypts a private key file's text with a passphrase (scrypt). Throws `InvalidArgumentError` for a weak passphrase. */
export async function encryptPrivateKey(text: string, passphrase: string): Promise<Uint8Array> {
  checkPassphrase(passphrase);
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  return e.encrypt(text);
}

/** Decrypts an age-encrypted private key file. Throws `WrongPasswordError` if the passphrase does not open it. */
export async function decryptPrivateKey(file: Uint8Array, passphrase: string): Promise<string> {
  return decryptKeyFile(
    file,
    passphrase,
    'the passphrase does not open this identity key file; check --identity-password-file',
  );
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
  // the other form of the key (plain or `.age`) is the key being replaced: left behind, it would be used instead
  const other = opts.passphrase !== undefined ? keyPath : `${keyPath}.age`;
  for (const p of [idPath, keyFile, other])
    if (!opts.overwrite && existsSync(p))
      throw new AlreadyExistsError(p, 'pass --overwrite to replace it (the old key is lost)');
  ensurePrivateDir(dirname(idPath));
  const keyBytes =
    opts.passphrase !== undefined
      ? await encryptPrivateKey(privateText, opts.passphrase)
      : new TextEncoder().encode(privateText);
  writeFileAtomic(keyFile, keyBytes);
  writeFileAtomic(idPath, new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`));
  if (opts.overwrite) rmSync(other, { force: true });
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
