/**
 * Injectable randomness. Every protocol takes an {@link Rng}; production uses the kernel's CSPRNG,
 * tests and benchmarks may pass a seeded deterministic one so that runs are reproducible (and so
 * the two group backends can be compared byte for byte).
 */
import { createHash } from 'node:crypto';
import { secureRandomBytes } from '../../common/random.js';
import { mod } from '../group/group.js';
import type { Group } from '../group/index.js';
import { taggedHash, utf8 } from './hash.js';

/** Returns n fresh random bytes. */
export type Rng = (n: number) => Uint8Array;

/**
 * The kernel's CSPRNG, read on every call (`secureRandomBytes`: no user-space generator state that
 * a memory snapshot could replay; threshold signing depends on this [2/F2]). Throws `RangeError`
 * for a negative or non-integer `n`.
 */
export const systemRng: Rng = (n) => {
  const b = secureRandomBytes(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/**
 * Deterministic byte stream SHA-512(seed ‖ counter) — for tests and benchmarks only; never use it
 * for real keys. Does not throw; the returned `Rng` throws `RangeError` for a negative `n`.
 */
export function seededRng(seed: string | Uint8Array): Rng {
  const s = typeof seed === 'string' ? new TextEncoder().encode(seed) : Uint8Array.from(seed);
  let counter = 0;
  let buf = new Uint8Array(0);
  return (n: number) => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      if (buf.length === 0) {
        const c = new Uint8Array(8);
        new DataView(c.buffer).setBigUint64(0, BigInt(counter++));
        buf = new Uint8Array(createHash('sha512').update(s).update(c).digest());
      }
      const take = Math.min(buf.length, n - off);
      out.set(buf.subarray(0, take), off);
      buf = buf.subarray(take);
      off += take;
    }
    return out;
  };
}

/**
 * A uniformly random non-zero scalar: 48 random bytes (little- or big-endian as the curve encodes
 * scalars) reduced into [1, order−1] — the same construction as noble's FROST, so both give the
 * same scalars from the same bytes. Throws only what `rng` throws.
 */
export function randomScalar(group: Group, rng: Rng): bigint {
  const bytes = rng(group.scalarLength + group.scalarLength / 2);
  const n = bytesToInt(group, bytes);
  bytes.fill(0);
  return mod(n, group.order - 1n) + 1n;
}

function bytesToInt(group: Group, bytes: Uint8Array): bigint {
  let x = 0n;
  if (group.curve === 'ed25519') {
    for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]!);
  } else {
    for (let i = 0; i < bytes.length; i++) x = (x << 8n) | BigInt(bytes[i]!);
  }
  return x;
}

/**
 * Hedges an Rng with a context: every output is SHA-512(tag ‖ context ‖ counter ‖ rng(n)) cut to
 * n bytes. Uniform if rng is; and if rng fails (repeats or returns constants) outputs still differ
 * between contexts (e.g. signing sessions), so nonces are not repeated across them. Does not throw;
 * the returned `Rng` throws what `rng` throws.
 */
export function hedgedRng(rng: Rng, context: Uint8Array): Rng {
  const ctx = Uint8Array.from(context);
  let calls = 0;
  return (n: number) => {
    const fresh = rng(n);
    const out = new Uint8Array(n);
    for (let off = 0, block = 0; off < n; off += 64, block++) {
      const c = new Uint8Array(12);
      const dv = new DataView(c.buffer);
      dv.setUint32(0, calls);
      dv.setUint32(4, block);
      dv.setUint32(8, n);
      const h = createHash('sha512').update('tessera/rng/hedge/v1').update(ctx).update(c).update(fresh).digest();
      out.set(h.subarray(0, Math.min(64, n - off)), off);
    }
    fresh.fill(0);
    calls++;
    return out;
  };
}

/**
 * The randomness of one party of a key-setup protocol (DKG, reshare, OT re-setup, pairwise OT
 * setup): `rng` hedged with a digest of (`purpose`, the setup context, the party's own id, the
 * peer for a pairwise setup, and the long-term secret the party holds, if any — an existing key
 * share in a reshare or re-setup).
 *
 * Why: a setup draws long-lived secrets (polynomials, proof nonces, the OT-extension Δ, base-OT
 * keys). If the randomness replays (a process or VM resumed from a memory snapshot) and a peer can
 * make the victim run another setup, unhedged draws repeat under a new session id and the peer
 * solves for them from two transcripts [5/R-D]. Hedged with the context, a run under another
 * context draws independent secrets, and a run under the same context repeats its messages byte for
 * byte until the first answer to a peer's message (bound to that message where the protocol allows,
 * and otherwise stopped by the durable setup log; docs/tss.md §6). The digest of the secret stays
 * inside the returned closure; the caller wipes its own copy. Throws `RangeError` if `purpose` is
 * empty.
 */
export function setupRng(
  rng: Rng,
  purpose: string,
  context: Uint8Array,
  self: string,
  bind: { peer?: string; secret?: Uint8Array } = {},
): Rng {
  if (purpose.length === 0) throw new RangeError('a setup hedge needs a purpose');
  const none = new Uint8Array(0);
  const key = taggedHash(
    'sha256',
    'tessera/setup/hedge/v1',
    utf8(purpose),
    context,
    utf8(self),
    bind.peer === undefined ? none : utf8(bind.peer),
    bind.secret ?? none,
  );
  const hedged = hedgedRng(rng, key);
  key.fill(0);
  return hedged;
}
