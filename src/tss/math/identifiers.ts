/**
 * Party ids (node id strings) → Shamir identifiers (non-zero scalars), for every protocol: each
 * curve hashes a party id to a scalar in its own way (`toScalar`), and the committee's map is
 * built here once, refusing a repeated party id and two ids with the same identifier (negligible
 * probability, but a collision would make two parties share an evaluation point).
 */
import { InvalidArgumentError } from '../../common/errors.js';

/**
 * Identifiers of a list of party ids, by id. `toScalar` throws `InvalidArgumentError` for an id
 * that maps to zero. Throws `InvalidArgumentError` on a repeated party id or a collision.
 */
export function identifiersOf(partyIds: readonly string[], toScalar: (partyId: string) => bigint): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const seen = new Set<bigint>();
  for (const p of partyIds) {
    if (out.has(p)) throw new InvalidArgumentError('duplicate party id');
    const id = toScalar(p);
    if (seen.has(id)) throw new InvalidArgumentError('two party ids map to the same identifier');
    seen.add(id);
    out.set(p, id);
  }
  return out;
}
