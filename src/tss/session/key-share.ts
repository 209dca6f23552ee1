/**
 * What the node needs from any key share and from any protocol that produces one, whatever the
 * curve: FROST's `FrostKeyShare` and DKLs23's `EcdsaKeyShare` implement {@link KeyShare}; their DKG
 * and reshare parties implement {@link KeygenParty}.
 */
import type { ProtocolParty } from './party.js';

/** One party's share of a threshold key (secret: store it encrypted). */
export interface KeyShare {
  /** The curve: 'ed25519' (FROST) or 'secp256k1' (DKLs23). */
  readonly keyType: string;
  /** The key version (1 after a DKG, +1 per reshare). */
  readonly version: number;
  /** mpcium threshold t: t+1 parties sign. */
  readonly threshold: number;
  /** The committee, in the key's canonical order. */
  readonly participants: readonly string[];
  /** This party's id. */
  readonly self: string;
  /** The group public key (the curve's canonical encoding). */
  readonly groupPublicKey: Uint8Array;
  /** True once `dispose()` ran. */
  readonly isDisposed: boolean;
  /** Canonical encoding (contains the secret share). Throws `InvalidStateError` once disposed. */
  serialize(): Uint8Array;
  /** Zeroes the secret; the share refuses every later use. Does not throw. */
  dispose(): void;
}

/**
 * A party of a protocol that produces key material (DKG, reshare): besides its result it offers the
 * validated result it reached before the confirmation round, which survives an abort of that round
 * — the node stores it as a pending version and activates it once every member confirmed, or
 * disposes of it.
 */
export interface KeygenParty<R> extends ProtocolParty<R> {
  /**
   * The validated result before the confirmation round, or undefined before the party's own checks
   * passed. Does not throw.
   */
  pendingResult(): R | undefined;
}
