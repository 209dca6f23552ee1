/**
 * Party ids (node id strings) → FROST identifiers (non-zero scalars).
 *
 * identifier = H_ID(utf8(partyId)) = SHA-512("FROST-ED25519-SHA512-v1id" ‖ partyId) mod L, the
 * same derivation as noble's `ed25519_FROST.Identifier.derive` and frost-rs. Every node computes
 * the same identifier for the same id, independent of the committee, so a party keeps its
 * identifier across reshares. A zero identifier or two ids with the same identifier (both with
 * negligible probability) are refused.
 */
import { InvalidArgumentError } from '../../common/errors.js';
import { utf8 } from '../math/hash.js';
import { identifiersOf } from '../math/identifiers.js';
import type { Suite } from './suite.js';

/** Identifier of one party id. Throws `InvalidArgumentError` if it is zero. */
export function partyIdentifier(suite: Suite, partyId: string): bigint {
  const id = suite.HID(utf8(partyId));
  if (id === 0n) throw new InvalidArgumentError('party id maps to the zero identifier');
  return id;
}

/** Identifiers of a list of parties, by id. Throws `InvalidArgumentError` on duplicates or collisions. */
export function partyIdentifiers(suite: Suite, partyIds: readonly string[]): Map<string, bigint> {
  return identifiersOf(partyIds, (p) => partyIdentifier(suite, p));
}
