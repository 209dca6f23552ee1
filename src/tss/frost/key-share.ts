/**
 * A party's FROST key share and the public key package, with their canonical serialization.
 *
 * Share format v1 (what the vault stores as opaque bytes; integers big-endian, strings u32-length
 * prefixed UTF-8):
 *   tag "tessera/frost/key-share" ‖ u8 format=1 ‖ str keyType ("ed25519") ‖ u32 version
 *   ‖ u16 threshold t ‖ u16 n ‖ n × str participant ‖ str self ‖ 32-byte secret share (LE scalar)
 *   ‖ n × 32-byte verifying share (participant order) ‖ 32-byte group public key
 * The public package has the same layout with tag "tessera/frost/key-public", without self and
 * the secret.
 *
 * The secret share lives in a Uint8Array that {@link FrostKeyShare.dispose} zeroes. Arithmetic
 * needs it as a bigint for the duration of one call; BigInt values cannot be wiped (docs/tss.md).
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, taggedHash, utf8 } from '../math/hash.js';
import { lagrangeCoefficient } from '../math/polynomial.js';
import type { KeyShare } from '../session/key-share.js';
import { partyIdentifiers } from './identifiers.js';
import { ed25519Suite } from './suite.js';

const SHARE_TAG = 'tessera/frost/key-share';
const PUBLIC_TAG = 'tessera/frost/key-public';
const FORMAT = 1;
/** Key type of FROST(Ed25519) shares. */
export const KEY_TYPE = 'ed25519';
const MAX_PARTIES = 1024;

/** The public key package: everything about a key that is not secret. */
export interface FrostKeyPublic {
  readonly keyType: typeof KEY_TYPE;
  /** Share version: 1 after DKG, v+1 after each reshare. */
  readonly version: number;
  /** mpcium threshold t: t+1 parties sign. */
  readonly threshold: number;
  readonly participants: readonly string[];
  /** Verifying share Y_i = s_i·G of every participant (32-byte encodings). */
  readonly verifyingShares: ReadonlyMap<string, Uint8Array>;
  readonly groupPublicKey: Uint8Array;
}

/** Decoded, validated points of a public package for one group backend. */
export interface DecodedKey {
  readonly groupPublicKey: Point;
  readonly verifyingShares: ReadonlyMap<string, Point>;
  readonly identifiers: ReadonlyMap<string, bigint>;
  /** keyPublicDigest of the package content these points were decoded from (do not mutate). */
  readonly digest: Uint8Array;
}

/**
 * Decoded packages, keyed by backend and by the digest of the package's canonical bytes (so a
 * share loaded again from the vault is not re-validated, and a mutated package is never served a
 * stale entry). Bounded: the oldest entries are evicted first.
 */
const decodedCache = new Map<Group, Map<string, DecodedKey>>();
const DECODED_CACHE_MAX = 1024;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function cachePut(group: Group, key: string, dec: DecodedKey): void {
  let m = decodedCache.get(group);
  if (!m) {
    m = new Map();
    decodedCache.set(group, m);
  }
  m.delete(key);
  m.set(key, dec);
  if (m.size > DECODED_CACHE_MAX) m.delete(m.keys().next().value!);
}

/**
 * Validates a public package and decodes its points with `group` (cached per package and backend,
 * so points are validated once). Throws `InvalidArgumentError`.
 */
export function decodeKeyPublic(pub: FrostKeyPublic, group: Group = getGroup('ed25519')): DecodedKey {
  validatePublicShape(pub);
  // Keyed by content (the digest of the canonical bytes), never by object identity: a package
  // mutated in place gets a fresh, validated entry and a digest of its current content.
  const digest = keyPublicDigest(pub);
  const key = hex(digest);
  const hit = decodedCache.get(group)?.get(key);
  if (hit) return hit;
  const suite = ed25519Suite(group);
  const identifiers = partyIdentifiers(suite, pub.participants);
  const groupPublicKey = group.decodePoint(pub.groupPublicKey);
  const verifyingShares = new Map<string, Point>();
  for (const p of pub.participants) verifyingShares.set(p, group.decodePoint(pub.verifyingShares.get(p)!));
  // The verifying shares must lie on one polynomial of degree t whose value at 0 is the group key.
  const basis = pub.participants.slice(0, pub.threshold + 1);
  const xs = basis.map((p) => identifiers.get(p)!);
  const interpolate = (at: bigint) =>
    group.multiMul(
      basis.map((p) => verifyingShares.get(p)!),
      xs.map((x) => lagrangeCoefficient(group, xs, x, at)),
    );
  if (!group.equals(interpolate(0n), groupPublicKey))
    throw new InvalidArgumentError('verifying shares do not interpolate to the group public key');
  for (const p of pub.participants.slice(pub.threshold + 1)) {
    if (!group.equals(interpolate(identifiers.get(p)!), verifyingShares.get(p)!)) {
      throw new InvalidArgumentError('verifying shares are not consistent with the threshold');
    }
  }
  const out: DecodedKey = { groupPublicKey, verifyingShares, identifiers, digest };
  cachePut(group, key, out);
  return out;
}

function validatePublicShape(pub: FrostKeyPublic): void {
  if (pub.keyType !== KEY_TYPE) throw new InvalidArgumentError('key type must be ed25519');
  if (!Number.isInteger(pub.version) || pub.version < 1 || pub.version > 0xffffffff)
    throw new InvalidArgumentError('version must be a positive 32-bit integer');
  const n = pub.participants.length;
  if (n < 2 || n > MAX_PARTIES) throw new InvalidArgumentError('a key needs 2 to 1024 participants');
  if (!Number.isInteger(pub.threshold) || pub.threshold < 1 || pub.threshold + 1 > n)
    throw new InvalidArgumentError('threshold t must satisfy 1 ≤ t and t+1 ≤ n');
  if (new Set(pub.participants).size !== n) throw new InvalidArgumentError('participant list has duplicates');
  for (const p of pub.participants) {
    if (typeof p !== 'string' || p.length === 0 || !p.isWellFormed() || utf8(p).length > 256) {
      throw new InvalidArgumentError('party ids must be non-empty well-formed strings of at most 256 bytes');
    }
    const y = pub.verifyingShares.get(p);
    if (!(y instanceof Uint8Array) || y.length !== 32)
      throw new InvalidArgumentError('every participant needs a 32-byte verifying share');
  }
  if (pub.verifyingShares.size !== n)
    throw new InvalidArgumentError('verifying shares must cover exactly the participants');
  if (!(pub.groupPublicKey instanceof Uint8Array) || pub.groupPublicKey.length !== 32)
    throw new InvalidArgumentError('group public key must be 32 bytes');
}

function writePublicBody(w: ByteWriter, pub: FrostKeyPublic, self?: string, secret?: Uint8Array): void {
  w.str(pub.keyType).u32(pub.version).u16(pub.threshold).u16(pub.participants.length);
  for (const p of pub.participants) w.str(p);
  if (self !== undefined && secret) w.str(self).raw(secret);
  for (const p of pub.participants) w.raw(pub.verifyingShares.get(p)!);
  w.raw(pub.groupPublicKey);
}

function readPublicBody(
  r: ByteReader,
  withSecret: boolean,
): { pub: FrostKeyPublic; self?: string; secret?: Uint8Array } {
  const keyType = r.str(16);
  if (keyType !== KEY_TYPE) throw new InvalidArgumentError('key type must be ed25519');
  const version = r.u32();
  const threshold = r.u16();
  const n = r.u16();
  if (n < 2 || n > MAX_PARTIES) throw new InvalidArgumentError('a key needs 2 to 1024 participants');
  const participants: string[] = [];
  for (let i = 0; i < n; i++) participants.push(r.str(256));
  let self: string | undefined;
  let secret: Uint8Array | undefined;
  if (withSecret) {
    self = r.str(256);
    secret = r.raw(32);
  }
  const verifyingShares = new Map<string, Uint8Array>();
  for (const p of participants) verifyingShares.set(p, r.raw(32));
  const groupPublicKey = r.raw(32);
  r.end();
  return { pub: { keyType, version, threshold, participants, verifyingShares, groupPublicKey }, self, secret };
}

function freezePublic(pub: FrostKeyPublic): FrostKeyPublic {
  return Object.freeze({
    keyType: pub.keyType,
    version: pub.version,
    threshold: pub.threshold,
    participants: Object.freeze([...pub.participants]),
    verifyingShares: new Map([...pub.verifyingShares].map(([k, v]) => [k, Uint8Array.from(v)])),
    groupPublicKey: Uint8Array.from(pub.groupPublicKey),
  });
}

/** Canonical encoding of a public package. Throws `InvalidArgumentError` if its shape is invalid. */
export function serializeKeyPublic(pub: FrostKeyPublic): Uint8Array {
  validatePublicShape(pub);
  const w = new ByteWriter().tag(PUBLIC_TAG).u8(FORMAT);
  writePublicBody(w, pub);
  return w.finish();
}

/** Parses and validates a public package. Throws `InvalidArgumentError`. */
export function deserializeKeyPublic(bytes: Uint8Array, group?: Group): FrostKeyPublic {
  let pub: FrostKeyPublic;
  try {
    const r = new ByteReader(bytes);
    r.expectTag(PUBLIC_TAG);
    if (r.u8() !== FORMAT) throw new InvalidArgumentError('unsupported key package format');
    pub = readPublicBody(r, false).pub;
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError('key package bytes are malformed');
  }
  decodeKeyPublic(pub, group);
  return pub;
}

/**
 * Digest binding a public package (key, version, committee, threshold, every verifying share).
 * Throws `InvalidArgumentError` if its shape is invalid.
 */
export function keyPublicDigest(pub: FrostKeyPublic): Uint8Array {
  return taggedHash('sha256', 'tessera/frost/key-digest/v1', serializeKeyPublic(pub));
}

type ComputedFactory = (
  pub: FrostKeyPublic,
  points: { groupPublicKey: Point; verifyingShares: ReadonlyMap<string, Point> },
  self: string,
  secret: Uint8Array,
  group: Group,
) => FrostKeyShare;
let computedFactory: ComputedFactory;

/**
 * For DKG and reshare only (module-internal to the tss layer, not exported from `src/tss/index.ts`):
 * builds a share from a package whose points this party computed itself from validated commitments.
 * Checks that `points` encode exactly to the package's bytes, the shape, and s·G = Y_self, then
 * seeds the decoded-point cache instead of re-decoding and re-interpolating.
 * Throws `InvalidArgumentError`.
 */
export function shareFromComputed(...args: Parameters<ComputedFactory>): FrostKeyShare {
  return computedFactory(...args);
}

/** One party's FROST key share. */
export class FrostKeyShare implements KeyShare {
  readonly public: FrostKeyPublic;
  readonly self: string;
  private readonly secret: Uint8Array;
  private disposed = false;

  private constructor(pub: FrostKeyPublic, self: string, secret: Uint8Array) {
    this.public = pub;
    this.self = self;
    this.secret = secret;
  }

  /**
   * Builds a key share after checking it: public package consistent, self a participant, secret a
   * non-zero reduced scalar with secret·G equal to self's verifying share. Copies `secret`.
   * Throws `InvalidArgumentError`.
   */
  static create(
    pub: FrostKeyPublic,
    self: string,
    secret: Uint8Array,
    group: Group = getGroup('ed25519'),
  ): FrostKeyShare {
    const frozen = freezePublic(pub);
    return FrostKeyShare.finish(frozen, decodeKeyPublic(frozen, group), self, secret, group);
  }

  static {
    computedFactory = (pub, points, self, secret, group) => {
      const frozen = freezePublic(pub);
      validatePublicShape(frozen);
      // The points must be exactly the package's encodings, so the cache entry matches its key.
      if (!bytesEqual(group.encodePoint(points.groupPublicKey), frozen.groupPublicKey))
        throw new InvalidArgumentError('computed points do not match the package');
      if (points.verifyingShares.size !== frozen.participants.length)
        throw new InvalidArgumentError('computed points do not match the package');
      for (const p of frozen.participants) {
        const y = points.verifyingShares.get(p);
        if (y === undefined || !bytesEqual(group.encodePoint(y), frozen.verifyingShares.get(p)!))
          throw new InvalidArgumentError('computed points do not match the package');
      }
      const digest = keyPublicDigest(frozen);
      const dec: DecodedKey = {
        ...points,
        identifiers: partyIdentifiers(ed25519Suite(group), frozen.participants),
        digest,
      };
      const share = FrostKeyShare.finish(frozen, dec, self, secret, group);
      cachePut(group, hex(digest), dec);
      return share;
    };
  }

  private static finish(
    frozen: FrostKeyPublic,
    dec: DecodedKey,
    self: string,
    secret: Uint8Array,
    group: Group,
  ): FrostKeyShare {
    if (!frozen.participants.includes(self))
      throw new InvalidArgumentError('the share owner is not a participant of the key');
    const s = group.decodeScalar(secret);
    if (s === 0n) throw new InvalidArgumentError('secret share is zero');
    if (!group.equals(group.baseMul(s), dec.verifyingShares.get(self)!))
      throw new InvalidArgumentError('secret share does not match its verifying share');
    return new FrostKeyShare(frozen, self, Uint8Array.from(secret));
  }

  /** Parses and validates a serialized share. Throws `InvalidArgumentError`. */
  static deserialize(bytes: Uint8Array, group?: Group): FrostKeyShare {
    let parsed: ReturnType<typeof readPublicBody>;
    try {
      const r = new ByteReader(bytes);
      r.expectTag(SHARE_TAG);
      if (r.u8() !== FORMAT) throw new InvalidArgumentError('unsupported key share format');
      parsed = readPublicBody(r, true);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw e;
      throw new InvalidArgumentError('key share bytes are malformed');
    }
    try {
      return FrostKeyShare.create(parsed.pub, parsed.self!, parsed.secret!, group);
    } finally {
      parsed.secret!.fill(0);
    }
  }

  /** Canonical encoding (contains the secret share). Throws `InvalidStateError` once disposed. */
  serialize(): Uint8Array {
    this.assertLive();
    const w = new ByteWriter().tag(SHARE_TAG).u8(FORMAT);
    writePublicBody(w, this.public, this.self, this.secret);
    return w.finish();
  }

  get keyType(): typeof KEY_TYPE {
    return this.public.keyType;
  }
  get version(): number {
    return this.public.version;
  }
  get threshold(): number {
    return this.public.threshold;
  }
  get participants(): readonly string[] {
    return this.public.participants;
  }
  get groupPublicKey(): Uint8Array {
    return Uint8Array.from(this.public.groupPublicKey);
  }
  /** This party's FROST identifier. */
  get identifier(): bigint {
    return decodeKeyPublic(this.public, getGroup('ed25519')).identifiers.get(this.self)!;
  }
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The secret share as a scalar. Throws `InvalidStateError` once disposed. */
  secretScalar(group: Group): bigint {
    this.assertLive();
    return group.decodeScalar(this.secret);
  }

  /** Constant-time comparison of two shares' secret bytes (for tests and refresh checks). */
  sameSecretAs(other: FrostKeyShare): boolean {
    this.assertLive();
    other.assertLive();
    let d = 0;
    for (let i = 0; i < 32; i++) d |= this.secret[i]! ^ other.secret[i]!;
    return d === 0;
  }

  /** Zeroes the secret share. Idempotent. */
  dispose(): void {
    this.secret.fill(0);
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new InvalidStateError('key share was disposed');
  }
}

/** True if two public packages are the same key package. Throws `InvalidArgumentError` if either shape is invalid. */
export function sameKeyPublic(a: FrostKeyPublic, b: FrostKeyPublic): boolean {
  return bytesEqual(serializeKeyPublic(a), serializeKeyPublic(b));
}
