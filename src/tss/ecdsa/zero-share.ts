/**
 * Pairwise zero-sharing (DKLs23, ePrint 2023/765, Functionality 3.4 "zero-sharing sampling", with
 * the commitment-based seed agreement the paper suggests).
 *
 * Setup (once per pair, e.g. inside the DKG), for parties i and j:
 *   1. each sends a commitment H(ctx, seed_i, salt_i) to a random 32-byte seed;
 *   2. after receiving the peer's commitment, each opens its seed (over the private channel);
 *   3. each verifies the opening; the pair seed is s_ij = H(ctx, seed_lo, seed_hi), where lo/hi
 *      order the two parties by the UTF-8 bytes of their ids. Neither party alone controls s_ij.
 *
 * Use (every signing session with participant set P and session id sid): party i computes
 *   ζ_i = Σ_{j ∈ P, j ≠ i} ε_ij · H(s_ij, sid, P)   with ε_ij = +1 if i < j, −1 otherwise,
 * so Σ_{i∈P} ζ_i = 0 and fresh sids give fresh, independent-looking sharings of zero. DKLs23's
 * signing adds ζ_i to party i's Lagrange-weighted key share to re-randomise the additive sharing
 * of the key per session (`rerandomize`).
 *
 * NOT CONSTANT-TIME: the share sum is computed with BigInt (see docs/ecdsa.md).
 */

import { constantTimeEqual } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { taggedHash } from '../math/hash.js';
import { type Rng, systemRng } from '../math/rng.js';
import { OtAbortedError } from '../ot/errors.js';
import { bytesToBigInt, decodeScalar, encodeScalar, mod, Q } from '../ot/scalar.js';
import { messageWriter, readMessage, wipe } from '../ot/wire.js';

const T_COMMIT = 0x41;
const T_OPEN = 0x42;
const enc = new TextEncoder();

/** Total order on party ids: by their UTF-8 bytes. */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(enc.encode(a)), Buffer.from(enc.encode(b)));
}

function pairCtx(sessionId: Uint8Array, a: string, b: string): Uint8Array {
  const [lo, hi] = compareIds(a, b) < 0 ? [a, b] : [b, a];
  return taggedHash('sha256', 'tessera/zero/pair', sessionId, enc.encode(lo), enc.encode(hi));
}

/** Parameters of one pair's seed agreement. */
export interface ZeroSeedParams {
  /** Session id of the setup (e.g. the DKG session id). */
  sessionId: Uint8Array;
  selfId: string;
  peerId: string;
}

/**
 * One party's side of the seed agreement with one peer. Order: `commitMessage()` → send;
 * `onPeerCommitment(peer's)`; `openingMessage()` → send privately; `finish(peer's opening)`
 * (after producing the own opening; it wipes this party's seed contribution).
 */
export class ZeroSeedPairSetup {
  readonly #ctx: Uint8Array;
  readonly #params: ZeroSeedParams;
  #seed: Uint8Array;
  #salt: Uint8Array;
  #peerCommitment: Uint8Array | undefined;
  #opened = false;
  #done = false;

  /** Throws `InvalidArgumentError` on bad parameters. */
  constructor(params: ZeroSeedParams, random: Rng = systemRng) {
    if (params.selfId === params.peerId) throw new InvalidArgumentError('zero-sharing seeds need two distinct parties');
    if (params.sessionId.length === 0)
      throw new InvalidArgumentError('zero-sharing setup needs a non-empty session id');
    this.#params = { ...params };
    this.#ctx = pairCtx(params.sessionId, params.selfId, params.peerId);
    this.#seed = random(32).slice();
    this.#salt = random(32).slice();
  }

  /**
   * Wipes this party's seed contribution and salt of a setup that will not be finished (its DKG or
   * reshare aborted) [5/R-F]. Every later call throws `InvalidStateError`. Idempotent; does not
   * throw.
   */
  abandon(): void {
    this.#done = true;
    this.#opened = true;
    wipe(this.#seed, this.#salt);
  }

  #commitmentOf(owner: string, seed: Uint8Array, salt: Uint8Array): Uint8Array {
    return taggedHash('sha256', 'tessera/zero/commit', this.#ctx, enc.encode(owner), seed, salt);
  }

  /** The commitment to this party's seed contribution (public). */
  commitMessage(): Uint8Array {
    if (this.#done) throw new InvalidStateError('zero-sharing setup already finished or abandoned');
    return messageWriter(T_COMMIT)
      .raw(this.#commitmentOf(this.#params.selfId, this.#seed, this.#salt))
      .finish();
  }

  /**
   * Records the peer's commitment. Throws `MalformedMessageError` blaming the peer,
   * `InvalidStateError` if called twice.
   */
  onPeerCommitment(message: Uint8Array): void {
    if (this.#peerCommitment !== undefined) throw new InvalidStateError('peer commitment already received');
    this.#peerCommitment = readMessage(message, T_COMMIT, this.#params.peerId, 'zero-sharing commitment', (r) => {
      const c = r.raw(32);
      r.end();
      return c;
    });
  }

  /**
   * The opening (seed and salt; secret, send over the private channel). Throws `InvalidStateError`
   * before the peer's commitment arrived.
   */
  openingMessage(): Uint8Array {
    if (this.#peerCommitment === undefined)
      throw new InvalidStateError('open the seed only after the peer committed to its own');
    if (this.#done) throw new InvalidStateError('zero-sharing setup already finished');
    this.#opened = true;
    return messageWriter(T_OPEN).raw(this.#seed).raw(this.#salt).finish();
  }

  /**
   * Verifies the peer's opening and returns the pair seed (32 bytes, secret). Throws
   * `MalformedMessageError` or `OtAbortedError` (reason `commitment-mismatch`), both
   * blaming the peer, and `InvalidStateError` if out of order (before this party's own opening
   * was produced) or repeated.
   */
  finish(message: Uint8Array): Uint8Array {
    if (this.#peerCommitment === undefined || !this.#opened || this.#done)
      throw new InvalidStateError('zero-sharing setup: finish called out of order');
    const { peerId, selfId } = this.#params;
    const { seed, salt } = readMessage(message, T_OPEN, peerId, 'zero-sharing opening', (r) => {
      const opening = { seed: r.raw(32), salt: r.raw(32) };
      r.end();
      return opening;
    });
    if (!constantTimeEqual(this.#commitmentOf(peerId, seed, salt), this.#peerCommitment)) {
      throw new OtAbortedError(
        'commitment-mismatch',
        peerId,
        'zero-sharing seed opening does not match its commitment',
      );
    }
    this.#done = true;
    const [lo, hi] = compareIds(selfId, peerId) < 0 ? [this.#seed, seed] : [seed, this.#seed];
    const out = taggedHash('sha256', 'tessera/zero/seed', this.#ctx, lo, hi);
    wipe(this.#seed, this.#salt, seed, salt);
    return out;
  }
}

/**
 * Party `selfId`'s share of zero for session `sessionId` among `participants` (which must contain
 * `selfId` and no duplicates); `seeds` maps every other participant to the pair seed. Returns a
 * 32-byte scalar; the shares of all participants sum to 0 mod q. Throws `InvalidArgumentError` if
 * the participant list is invalid or a seed is missing.
 */
export function zeroShare(
  selfId: string,
  seeds: ReadonlyMap<string, Uint8Array>,
  participants: readonly string[],
  sessionId: Uint8Array,
): Uint8Array {
  if (sessionId.length === 0) throw new InvalidArgumentError('zero share needs a non-empty session id');
  const sorted = [...participants].sort(compareIds);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i] === sorted[i - 1]) throw new InvalidArgumentError('duplicate participant');
  if (!sorted.includes(selfId)) throw new InvalidArgumentError('participants must include this party');
  const setHash = taggedHash('sha256', 'tessera/zero/participants', ...sorted.map((p) => enc.encode(p)));
  let z = 0n;
  for (const peer of sorted) {
    if (peer === selfId) continue;
    const seed = seeds.get(peer);
    if (seed === undefined || seed.length !== 32)
      throw new InvalidArgumentError(`no zero-sharing seed for participant ${peer}`);
    const v = bytesToBigInt(taggedHash('sha512', 'tessera/zero/share', seed, sessionId, setHash)) % Q;
    z += compareIds(selfId, peer) < 0 ? v : -v;
  }
  return encodeScalar(mod(z));
}

/**
 * Adds a zero share to an additive key share: (share + ζ) mod q, 32 bytes. Throws
 * `InvalidArgumentError` on a value not below q.
 */
export function rerandomize(additiveShare: Uint8Array, zero: Uint8Array): Uint8Array {
  const a = decodeScalar(additiveShare);
  const z = decodeScalar(zero);
  if (a === undefined || z === undefined)
    throw new InvalidArgumentError('shares must be 32-byte scalars below the group order');
  return encodeScalar(mod(a + z));
}
