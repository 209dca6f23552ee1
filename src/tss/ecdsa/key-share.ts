/**
 * Threshold ECDSA (DKLs23) key share: the Shamir share of one party, every party's public share,
 * the group key, and — per peer — the pairwise OT state (both directions) and the zero-sharing
 * seed. Unlike a FROST share it is **mutable**: every signing session advances OT-extension
 * indices, and an abort that names a peer burns the pair. The node must persist `serialize()`
 * after every protocol step that returns messages and before sending them (docs/ecdsa.md).
 *
 * Serialization (all integers big-endian):
 *   tag "tessera/ecdsa/key-share" ‖ u8 format = 1 ‖ str keyType ‖ u32 version ‖ u16 t ‖ u16 n
 *   ‖ n × str participant ‖ str self ‖ 32-byte secret share ‖ n × 33-byte public share
 *   ‖ 33-byte group key ‖ for each peer in participant order:
 *       32-byte zero-sharing seed ‖ 32-byte OT setup id ‖ u8 (1 live | 0 burnt) ‖ [bytes pairwise OT]
 */

import { ByteReader, ByteWriter, constantTimeEqual } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, taggedHash, utf8 } from '../math/hash.js';
import { identifiersOf } from '../math/identifiers.js';
import { lagrangeCoefficient } from '../math/polynomial.js';
import { pairContext } from '../ot/wire.js';
import type { KeyShare } from '../session/key-share.js';
import { PairwiseOt } from './pairwise.js';

export const ECDSA_KEY_TYPE = 'secp256k1';
const TAG = 'tessera/ecdsa/key-share';
const PUBLIC_TAG = 'tessera/ecdsa/key-public';
const FORMAT = 1;
const MAX_PARTIES = 1024;

/** Identifier (Shamir x-coordinate) of a party: H("tessera/ecdsa/id/v1", id) mod q. Same in every committee. */
export function ecdsaIdentifier(group: Group, partyId: string): bigint {
  const x = group.reduceBytes(taggedHash('sha256', 'tessera/ecdsa/id/v1', utf8(partyId)));
  if (x === 0n) throw new InvalidArgumentError('party id hashes to the zero identifier');
  return x;
}

/** Identifiers of a committee. Throws `InvalidArgumentError` on a repeated id, a zero or a colliding identifier. */
export function ecdsaIdentifiers(group: Group, participants: readonly string[]): Map<string, bigint> {
  return identifiersOf(participants, (p) => ecdsaIdentifier(group, p));
}

/** The public part of a key (identical on every member). */
export interface EcdsaKeyPublic {
  readonly keyType: string;
  readonly version: number;
  readonly threshold: number;
  readonly participants: readonly string[];
  /** 33-byte compressed public share of each participant. */
  readonly publicShares: ReadonlyMap<string, Uint8Array>;
  /** 33-byte compressed group public key. */
  readonly groupPublicKey: Uint8Array;
}

/** Canonical bytes of the public package. Does not throw for a valid package. */
export function serializeEcdsaKeyPublic(p: EcdsaKeyPublic): Uint8Array {
  const w = new ByteWriter()
    .tag(PUBLIC_TAG)
    .u8(FORMAT)
    .str(p.keyType)
    .u32(p.version)
    .u16(p.threshold)
    .u16(p.participants.length);
  for (const q of p.participants) w.str(q);
  for (const q of p.participants) w.raw(p.publicShares.get(q)!);
  return w.raw(p.groupPublicKey).finish();
}

/**
 * Parses and validates canonical public-package bytes (as `serializeEcdsaKeyPublic` writes them):
 * every point on the curve, public shares on one degree-t polynomial through the group key.
 * Throws `InvalidArgumentError` for anything else.
 */
export function deserializeEcdsaKeyPublic(bytes: Uint8Array): EcdsaKeyPublic {
  let p: EcdsaKeyPublic;
  try {
    const r = new ByteReader(bytes);
    r.expectTag(PUBLIC_TAG);
    if (r.u8() !== FORMAT) throw new InvalidArgumentError('unsupported key package format');
    const keyType = r.str(64);
    const version = r.u32();
    const threshold = r.u16();
    const n = r.u16();
    if (n < 1 || n > MAX_PARTIES) throw new InvalidArgumentError('key package has an invalid committee size');
    const participants: string[] = [];
    for (let i = 0; i < n; i++) participants.push(r.str());
    const publicShares = new Map<string, Uint8Array>();
    for (const q of participants) publicShares.set(q, r.raw(33));
    const groupPublicKey = r.raw(33);
    r.end();
    p = { keyType, version, threshold, participants, publicShares, groupPublicKey };
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError('key package bytes are malformed');
  }
  validatePublic(p, getGroup('secp256k1'));
  if (!bytesEqual(serializeEcdsaKeyPublic(p), bytes)) throw new InvalidArgumentError('key package is not canonical');
  return p;
}

/** Digest of the public package (bound into every signing context). */
export function ecdsaKeyPublicDigest(p: EcdsaKeyPublic): Uint8Array {
  return taggedHash('sha256', 'tessera/ecdsa/key-public/digest/v1', serializeEcdsaKeyPublic(p));
}

/** What one party holds per peer. */
export interface PeerState {
  /** 32-byte zero-sharing seed shared with the peer (secret). */
  readonly zeroSeed: Uint8Array;
  /** Setup id the pair's OT contexts are bound to (the DKG context, or a re-setup's). */
  readonly otSetupId: Uint8Array;
  /** The pair's OT state; `undefined` once burnt. */
  ot: PairwiseOt | undefined;
}

/** Mpcium's public key format: 64 bytes X ‖ Y. Throws `InvalidArgumentError` on an invalid point. */
export function publicKeyXY(compressed: Uint8Array): Uint8Array {
  const g = getGroup('secp256k1');
  const { x, y } = g.affine(g.decodePoint(compressed));
  const out = new Uint8Array(64);
  const put = (v: bigint, off: number) => {
    for (let i = 31; i >= 0; i--) {
      out[off + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  };
  put(x, 0);
  put(y, 32);
  return out;
}

/** Decoded, validated points of a public package. */
export interface DecodedPublic {
  readonly groupKey: Point;
  readonly shares: Map<string, Point>;
}

/** Validates a public package (as `deserialize` does) and returns its decoded points. Throws `InvalidArgumentError`. */
export function decodeEcdsaKeyPublic(p: EcdsaKeyPublic): DecodedPublic {
  return validatePublic(p, getGroup('secp256k1'));
}

function validatePublic(p: EcdsaKeyPublic, g: Group): DecodedPublic {
  const n = p.participants.length;
  if (p.keyType !== ECDSA_KEY_TYPE) throw new InvalidArgumentError('not a secp256k1 key');
  if (!Number.isInteger(p.version) || p.version < 1 || p.version > 0xffffffff)
    throw new InvalidArgumentError('invalid key version');
  if (n < 2 || n > MAX_PARTIES || new Set(p.participants).size !== n)
    throw new InvalidArgumentError('invalid participant list');
  if (!Number.isInteger(p.threshold) || p.threshold < 1 || p.threshold + 1 > n)
    throw new InvalidArgumentError('invalid threshold');
  const ids = ecdsaIdentifiers(g, p.participants);
  const groupKey = g.decodePoint(p.groupPublicKey);
  const shares = new Map<string, Point>();
  for (const q of p.participants) {
    const b = p.publicShares.get(q);
    if (!b) throw new InvalidArgumentError('missing public share');
    shares.set(q, g.decodePoint(b));
  }
  // The public shares must lie on one polynomial of degree t whose value at 0 is the group key.
  const base = p.participants.slice(0, p.threshold + 1);
  const xs = base.map((q) => ids.get(q)!);
  const interpolate = (at: bigint): Point =>
    g.multiMul(
      base.map((q) => shares.get(q)!),
      xs.map((x) => lagrangeCoefficient(g, xs, x, at)),
    );
  if (!g.equals(interpolate(0n), groupKey))
    throw new InvalidArgumentError('public shares do not interpolate to the group key');
  for (const q of p.participants.slice(p.threshold + 1)) {
    if (!g.equals(interpolate(ids.get(q)!), shares.get(q)!))
      throw new InvalidArgumentError('public shares are not of degree t');
  }
  return { groupKey, shares };
}

/** One party's threshold ECDSA key share. */
export class EcdsaKeyShare implements KeyShare {
  readonly keyType = ECDSA_KEY_TYPE;
  readonly public: EcdsaKeyPublic;
  readonly self: string;
  readonly peers: ReadonlyMap<string, PeerState>;
  readonly #secret: Uint8Array;
  readonly #decoded: DecodedPublic;
  #disposed = false;
  /**
   * Per peer: extension indices this party (as receiver, Bob) started in sessions still waiting for
   * the answer. Memory only.
   */
  readonly #inFlight = new Map<string, Set<number>>();
  /**
   * Peers whose pair was burnt in the last state known to be durable (as loaded, or as last
   * written: `markPersisted`).
   */
  #persistedBurnt: Set<string>;

  private constructor(
    pub: EcdsaKeyPublic,
    self: string,
    secret: Uint8Array,
    peers: Map<string, PeerState>,
    decoded: DecodedPublic,
  ) {
    this.public = pub;
    this.self = self;
    this.#secret = secret;
    this.peers = peers;
    this.#decoded = decoded;
    this.#persistedBurnt = new Set(this.burntPeers());
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
  /** 33-byte compressed group public key. */
  get groupPublicKey(): Uint8Array {
    return Uint8Array.from(this.public.groupPublicKey);
  }
  /** mpcium's 64-byte X ‖ Y form of the group key. */
  get groupPublicKeyXY(): Uint8Array {
    return publicKeyXY(this.public.groupPublicKey);
  }
  /** Validated group key / public shares for protocol use (fast secp256k1 backend points). */
  get decoded(): DecodedPublic {
    return this.#decoded;
  }
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** The secret share as a scalar. Throws `InvalidStateError` after dispose. */
  secretScalar(): bigint {
    this.#assertLive();
    let x = 0n;
    for (const b of this.#secret) x = (x << 8n) | BigInt(b);
    return x;
  }

  /** Peers whose OT pair is burnt (must run a re-setup before they can sign together). */
  burntPeers(): string[] {
    return [...this.peers].filter(([, s]) => s.ot === undefined || s.ot.burned).map(([p]) => p);
  }

  /**
   * Peers whose pair is burnt in this object but not in the last state known to be durable — a burn
   * that exists only in memory [5/R-G]. Non-empty after a signing abort burnt a pair and until a
   * write of `serialize()` succeeded (`shareCheckpoint` calls `markPersisted`). While it is
   * non-empty the node must keep this object and must not reload this version from storage: the
   * stored copy still holds the live pair. Does not throw.
   */
  unpersistedBurns(): string[] {
    return this.burntPeers().filter((p) => !this.#persistedBurnt.has(p));
  }

  /**
   * Records that the current state, as `serialize()` returns it now, was written durably (call
   * right after a successful write, with no protocol step in between; `shareCheckpoint` does).
   * Does not throw.
   */
  markPersisted(): void {
    this.#persistedBurnt = new Set(this.burntPeers());
  }

  /**
   * Burns every OT pair of this share, so that it cannot sign until `EcdsaOtResetupParty` has set
   * up fresh pairs with its co-signers. The node calls it on every ECDSA share after **any
   * restore** of its vault (a backup, a disk or VM snapshot, a copied file) and then writes the
   * share back: a restored share may hold a pair whose burn was lost, or a sender state whose used
   * indices were rolled back — which only the honest receiver would refuse [5/R-G]. Returns the
   * peers whose pair was live. Throws `InvalidStateError` after dispose.
   */
  requireResetup(): string[] {
    this.#assertLive();
    const live = [...this.peers].filter(([, s]) => s.ot !== undefined && !s.ot.burned).map(([p]) => p);
    for (const p of this.peers.keys()) this.burnPair(p);
    return live;
  }

  /** Burns the OT pair with `peer` (both directions). Idempotent. */
  burnPair(peer: string): void {
    const s = this.peers.get(peer);
    if (!s) return;
    s.ot?.burn();
    s.ot = undefined;
    this.#inFlight.delete(peer);
  }

  /**
   * How many extension indices of the pair with `peer` (this party as receiver) lie from the oldest
   * one still in flight — started by a signing session of this share object that has not yet
   * received the peer's answer and not ended — up to the newest allocated; 0 when none is in
   * flight. The peer remembers only the last `INDEX_WINDOW` indices it accepted and refuses older
   * ones (without blame, retryable [5/R-C]), so the node starts a new signing session with `peer`
   * only while `extensionSpan(peer) < INDEX_WINDOW` (docs/ecdsa.md, "What the node must do"); a
   * session that never ends (no timeout) keeps the span growing. Does not throw.
   */
  extensionSpan(peer: string): number {
    const set = this.#inFlight.get(peer);
    const ot = this.peers.get(peer)?.ot;
    if (set === undefined || set.size === 0 || ot === undefined || ot.burned) return 0;
    return ot.in_.nextIndex - Math.min(...set);
  }

  /** @internal A signing session started the extension `index` with `peer` (this party as receiver). */
  extensionStarted(peer: string, index: number): void {
    let set = this.#inFlight.get(peer);
    if (set === undefined) {
      set = new Set();
      this.#inFlight.set(peer, set);
    }
    set.add(index);
  }

  /** @internal The extension `index` with `peer` got its answer, or its session ended. Idempotent. */
  extensionSettled(peer: string, index: number): void {
    this.#inFlight.get(peer)?.delete(index);
  }

  /**
   * Replaces the OT pair with `peer` after a successful re-setup. Throws `InvalidArgumentError` if
   * it does not belong here.
   */
  installPair(peer: string, otSetupId: Uint8Array, ot: PairwiseOt): void {
    this.#assertLive();
    const s = this.peers.get(peer);
    if (!s) throw new InvalidArgumentError('not a peer of this key');
    checkPairBinding(this.self, peer, otSetupId, ot);
    s.ot?.burn();
    this.#inFlight.delete(peer);
    (this.peers as Map<string, PeerState>).set(peer, {
      zeroSeed: s.zeroSeed,
      otSetupId: Uint8Array.from(otSetupId),
      ot,
    });
  }

  #assertLive(): void {
    if (this.#disposed) throw new InvalidStateError('key share was disposed');
  }

  /**
   * Canonical bytes (secret; what the vault stores). A burnt pair is stored as burnt. Throws
   * `InvalidStateError` after dispose.
   */
  serialize(): Uint8Array {
    this.#assertLive();
    const p = this.public;
    const w = new ByteWriter()
      .tag(TAG)
      .u8(FORMAT)
      .str(p.keyType)
      .u32(p.version)
      .u16(p.threshold)
      .u16(p.participants.length);
    for (const q of p.participants) w.str(q);
    w.str(this.self).raw(this.#secret);
    for (const q of p.participants) w.raw(p.publicShares.get(q)!);
    w.raw(p.groupPublicKey);
    for (const q of p.participants) {
      if (q === this.self) continue;
      const s = this.peers.get(q)!;
      w.raw(s.zeroSeed).raw(s.otSetupId);
      if (s.ot === undefined || s.ot.burned) {
        if (s.ot) this.burnPair(q);
        w.u8(0);
      } else {
        const ot = s.ot.serialize();
        w.u8(1).bytes(ot);
        ot.fill(0);
      }
    }
    return w.finish();
  }

  /**
   * Parses and fully validates a serialized share. Throws `InvalidArgumentError` on anything
   * invalid or non-canonical.
   */
  static deserialize(bytes: Uint8Array): EcdsaKeyShare {
    try {
      const r = new ByteReader(bytes);
      r.expectTag(TAG);
      if (r.u8() !== FORMAT) throw new InvalidArgumentError('unsupported key share format');
      const keyType = r.str();
      const version = r.u32();
      const threshold = r.u16();
      const n = r.u16();
      if (n < 2 || n > MAX_PARTIES) throw new InvalidArgumentError('invalid participant count');
      const participants: string[] = [];
      for (let i = 0; i < n; i++) participants.push(r.str());
      const self = r.str();
      const secret = r.raw(32);
      const publicShares = new Map<string, Uint8Array>();
      for (const q of participants) publicShares.set(q, r.raw(33));
      const groupPublicKey = r.raw(33);
      if (!participants.includes(self)) throw new InvalidArgumentError('self is not a participant');
      const peers = new Map<string, PeerState>();
      for (const q of participants) {
        if (q === self) continue;
        const zeroSeed = r.raw(32);
        const otSetupId = r.raw(32);
        const flag = r.u8();
        let ot: PairwiseOt | undefined;
        if (flag === 1) ot = PairwiseOt.deserialize(r.bytes(1 << 16));
        else if (flag !== 0) throw new InvalidArgumentError('invalid pair state flag');
        if (ot) checkPairBinding(self, q, otSetupId, ot);
        peers.set(q, { zeroSeed, otSetupId, ot });
      }
      r.end();
      const share = EcdsaKeyShare.fromParts(
        { keyType, version, threshold, participants, publicShares, groupPublicKey },
        self,
        secret,
        peers,
      );
      secret.fill(0);
      // The bytes hold the secret share: compare in constant time [5/I-2].
      const again = share.serialize();
      const canonical = constantTimeEqual(again, bytes);
      again.fill(0);
      if (!canonical) {
        share.dispose();
        throw new InvalidArgumentError('key share encoding is not canonical');
      }
      return share;
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw e;
      throw new InvalidArgumentError('not a valid ECDSA key share');
    }
  }

  /**
   * Builds a share from its parts and validates it (public package consistent, secret share
   * below q and matching the own public share, a peer state for every other participant).
   * Copies `secret`. Throws `InvalidArgumentError`.
   */
  static fromParts(
    pub: EcdsaKeyPublic,
    self: string,
    secret: Uint8Array,
    peers: Map<string, PeerState>,
  ): EcdsaKeyShare {
    const g = getGroup('secp256k1');
    const frozen: EcdsaKeyPublic = Object.freeze({
      keyType: pub.keyType,
      version: pub.version,
      threshold: pub.threshold,
      participants: Object.freeze([...pub.participants]),
      publicShares: new Map([...pub.publicShares].map(([k, v]) => [k, Uint8Array.from(v)])),
      groupPublicKey: Uint8Array.from(pub.groupPublicKey),
    });
    const decoded = validatePublic(frozen, g);
    if (!frozen.participants.includes(self)) throw new InvalidArgumentError('self is not a participant');
    if (secret.length !== 32) throw new InvalidArgumentError('secret share must be 32 bytes');
    const s = g.decodeScalar(secret);
    if (s === 0n || !g.equals(g.baseMul(s), decoded.shares.get(self)!))
      throw new InvalidArgumentError('secret share does not match its public share');
    for (const q of frozen.participants) {
      if (q === self) continue;
      const st = peers.get(q);
      if (st?.zeroSeed.length !== 32 || st.otSetupId.length !== 32)
        throw new InvalidArgumentError('missing or invalid peer state');
    }
    if (peers.size !== frozen.participants.length - 1)
      throw new InvalidArgumentError('peer states do not match the participants');
    return new EcdsaKeyShare(frozen, self, Uint8Array.from(secret), peers, decoded);
  }

  /**
   * Assembles the share a DKG or reshare produced: secret scalar `secret`, and for every other
   * member its zero-sharing seed and the pairwise OT state set up under `setupId`. Takes ownership
   * of the seeds and pairs (the caller clears its maps); the encoded secret is wiped. Throws
   * `InvalidArgumentError` as {@link EcdsaKeyShare.fromParts}.
   */
  static assemble(
    pub: EcdsaKeyPublic,
    self: string,
    secret: bigint,
    setupId: Uint8Array,
    zeroSeeds: ReadonlyMap<string, Uint8Array>,
    pairs: ReadonlyMap<string, PairwiseOt>,
  ): EcdsaKeyShare {
    const peers = new Map<string, PeerState>();
    for (const [p, ot] of pairs) peers.set(p, { zeroSeed: zeroSeeds.get(p)!, otSetupId: Uint8Array.from(setupId), ot });
    const secretBytes = getGroup('secp256k1').encodeScalar(secret);
    try {
      return EcdsaKeyShare.fromParts(pub, self, secretBytes, peers);
    } finally {
      secretBytes.fill(0);
    }
  }

  /** Zeroes the secret share, the seeds and the OT state. The object is unusable afterwards. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#secret.fill(0);
    for (const s of this.peers.values()) {
      s.zeroSeed.fill(0);
      s.ot?.burn();
      s.ot = undefined;
    }
  }
}

/** Checks that a pairwise OT state belongs to (self, peer) under `setupId`. Throws `InvalidArgumentError`. */
export function checkPairBinding(self: string, peer: string, setupId: Uint8Array, ot: PairwiseOt): void {
  if (ot.selfId !== self || ot.peerId !== peer)
    throw new InvalidArgumentError('pairwise OT state belongs to other parties');
  if (
    !bytesEqual(ot.out.context, pairContext(setupId, self, peer)) ||
    !bytesEqual(ot.in_.context, pairContext(setupId, peer, self))
  ) {
    throw new InvalidArgumentError('pairwise OT state belongs to another setup');
  }
}

/** Lagrange coefficient of `self` over `signers` at 0. */
export function ecdsaLagrange(g: Group, signers: readonly string[], self: string): bigint {
  const ids = ecdsaIdentifiers(g, signers);
  const xs = signers.map((p) => ids.get(p)!);
  return mod(lagrangeCoefficient(g, xs, ids.get(self)!), g.order);
}
