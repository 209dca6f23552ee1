import { createHash } from 'node:crypto';
import { concat, taggedHash } from '../../../src/tss/math/hash.js';
import type { Rng } from '../../../src/tss/math/rng.js';
import {
  OtExtReceiver,
  type OtExtSender,
  type OtPairParams,
  OtSetupAsReceiver,
  OtSetupAsSender,
} from '../../../src/tss/ot/kos.js';
import { bytesToBigInt, Q } from '../../../src/tss/ot/scalar.js';
import { encodeU32 } from '../../../src/tss/ot/wire.js';

/** Deterministic test randomness: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: string | number): Rng {
  let ctr = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const block = createHash('sha256').update(`${seed}/${ctr++}`).digest();
      const take = Math.min(32, n - off);
      out.set(block.subarray(0, take), off);
      off += take;
    }
    return out;
  };
}

export const PAIR: OtPairParams = {
  setupId: new TextEncoder().encode('dkg-session-1'),
  senderId: 'alice',
  receiverId: 'bob',
};

/** Runs the whole pair setup (base OT with verification) honestly. */
export function setupPair(
  params: OtPairParams = PAIR,
  seed: string | number = 1,
): { sender: OtExtSender; receiver: OtExtReceiver } {
  const a = new OtSetupAsSender(params, seededRandom(`a/${seed}`));
  const b = new OtSetupAsReceiver(params, seededRandom(`b/${seed}`));
  const m1 = b.baseOt.setupMessage();
  const m2 = a.baseOt.onSetup(m1);
  const m3 = b.baseOt.onChoices(m2);
  const m4 = a.baseOt.onChallenges(m3);
  const { message: m5, output } = b.baseOt.onResponses(m4);
  const rhos = a.baseOt.onOpenings(m5);
  return { sender: a.finish(rhos), receiver: b.finish(output) };
}

/** A cheap pair setup for tests that exercise the extension only (skips base OT): uses setupPair once and clones by serialisation. */
let cached: { s: Uint8Array; r: Uint8Array } | undefined;
export async function freshPair(): Promise<{ sender: OtExtSender; receiver: OtExtReceiver }> {
  const { OtExtSender } = await import('../../../src/tss/ot/kos.js');
  if (cached === undefined) {
    const p = setupPair();
    cached = { s: p.sender.serialize(), r: p.receiver.serialize() };
  }
  return { sender: OtExtSender.deserialize(cached.s), receiver: OtExtReceiver.deserialize(cached.r) };
}

/**
 * The salted pads of OT j of a multiplication, re-implemented from the spec for the tests that
 * check or attack them: SHAKE256(H(ctx, sid, index, L, σ) ‖ j ‖ v_j), 2L scalars mod q.
 */
export function mulPads(
  ctx: Uint8Array,
  session: Uint8Array,
  index: number,
  L: number,
  sigma: Uint8Array,
  j: number,
  key: Uint8Array,
): bigint[] {
  const prefix = taggedHash('sha256', 'tessera/mul/pad', ctx, session, encodeU32(index), encodeU32(L), sigma);
  const d = createHash('shake256', { outputLength: 96 * L })
    .update(concat(prefix, encodeU32(j), key))
    .digest();
  return Array.from({ length: 2 * L }, (_, i) => bytesToBigInt(new Uint8Array(d.subarray(48 * i, 48 * i + 48))) % Q);
}
