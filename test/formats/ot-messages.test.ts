/**
 * Pins the wire messages of the OT / multiplication layer (versioned `MessageWriter` encodings of
 * src/tss/ot/wire.ts) from seeded runs: base OT with Fischlin proofs and the KOS setup
 * (ot/base-ot.ts, ot/kos.ts), the pairwise setup of both directions (ecdsa/pairwise.ts), one KOS
 * extension, one random-VOLE multiplication (ecdsa/multiply.ts) and the zero-sharing seed
 * agreement (ecdsa/zero-share.ts). Fixture: test/fixtures/formats/ot/messages.json.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulReceiverFinish, mulReceiverStart, mulSenderRespond } from '../../src/tss/ecdsa/multiply.js';
import { PairwiseOtSetup } from '../../src/tss/ecdsa/pairwise.js';
import { ZeroSeedPairSetup, zeroShare } from '../../src/tss/ecdsa/zero-share.js';
import type { Rng } from '../../src/tss/math/rng.js';
import { OtSetupAsReceiver, OtSetupAsSender } from '../../src/tss/ot/kos.js';
import { encodeScalar } from '../../src/tss/ot/scalar.js';
import { hex, pinJson, sha256hex } from './pin.js';

/** SHA-256 in counter mode over a seed (as test/tss/ot/helpers.ts; copied so the pin does not move with it). */
function seededRandom(seed: string): Rng {
  let ctr = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32)
      out.set(
        createHash('sha256')
          .update(`${seed}/${ctr++}`)
          .digest()
          .subarray(0, Math.min(32, n - off)),
        off,
      );
    return out;
  };
}

const enc = (s: string) => new TextEncoder().encode(s);
const PAIR = { setupId: enc('pins/ot/setup'), senderId: 'alice', receiverId: 'bob' };

interface Pinned {
  name: string;
  bytes: number;
  sha256: string;
  hex?: string;
}
const full = (name: string, b: Uint8Array): Pinned => ({ name, bytes: b.length, sha256: sha256hex(b), hex: hex(b) });
const digestOnly = (name: string, b: Uint8Array): Pinned => ({ name, bytes: b.length, sha256: sha256hex(b) });
const digestOfList = (name: string, bs: Uint8Array[]): Pinned =>
  digestOnly(
    name,
    Buffer.concat(bs.map((b) => Buffer.concat([Buffer.from(Uint32Array.of(b.length).buffer).reverse(), b]))),
  );

function otTranscript(): Pinned[] {
  const out: Pinned[] = [];
  // 1. base OT + KOS setup (alice = extension sender = base-OT receiver)
  const a = new OtSetupAsSender(PAIR, seededRandom('pins/ot/alice'));
  const b = new OtSetupAsReceiver(PAIR, seededRandom('pins/ot/bob'));
  const m1 = b.baseOt.setupMessage();
  const m2 = a.baseOt.onSetup(m1);
  const m3 = b.baseOt.onChoices(m2);
  const m4 = a.baseOt.onChallenges(m3);
  const { message: m5, output } = b.baseOt.onResponses(m4);
  const rhos = a.baseOt.onOpenings(m5);
  const sender = a.finish(rhos);
  const receiver = b.finish(output);
  out.push(
    full('base-ot/1-setup (bob)', m1),
    full('base-ot/2-choices (alice)', m2),
    full('base-ot/3-challenges (bob)', m3),
    full('base-ot/4-responses (alice)', m4),
    full('base-ot/5-openings (bob)', m5),
  );
  out.push(full('kos/sender-state', sender.serialize()), full('kos/receiver-state', receiver.serialize()));

  // 2. one KOS extension of 16 OTs
  const sid = enc('pins/ot/extension');
  const ext = receiver.extend(sid, 16, seededRandom('pins/ot/extend'));
  out.push(full('kos/extension (bob)', ext.message));
  const got = sender.extend(sid, ext.message, 16);
  out.push(
    digestOfList('kos/extension sender outputs v0', got.v0),
    digestOfList('kos/extension sender outputs v1', got.v1),
  );
  out.push(
    digestOnly('kos/extension receiver choices', ext.output.choices),
    digestOfList('kos/extension receiver keys', ext.output.keys),
  );

  // 3. one random-VOLE multiplication with two inputs
  const msid = enc('pins/ot/multiply');
  const bob = mulReceiverStart(receiver, msid, 2, seededRandom('pins/mul/bob'));
  out.push(full('multiply/receiver start (bob)', bob.message));
  const alice = mulSenderRespond(
    sender,
    msid,
    [encodeScalar(12345n), encodeScalar(67890n)],
    bob.message,
    seededRandom('pins/mul/alice'),
  );
  out.push(full('multiply/sender response (alice)', alice.message));
  out.push(digestOfList('multiply/sender shares', alice.shares), digestOnly('multiply/receiver input b', bob.b));
  out.push(digestOfList('multiply/receiver shares', mulReceiverFinish(receiver, bob.pending, alice.message)));
  out.push(
    full('kos/sender-state after multiply', sender.serialize()),
    full('kos/receiver-state after multiply', receiver.serialize()),
  );

  // 4. the pairwise setup of both directions (rounds 1..5 each way), digests only (the flights are the base-OT messages above, twice)
  const x = new PairwiseOtSetup(
    { setupId: enc('pins/ot/pairwise'), selfId: 'p1', peerId: 'p2' },
    seededRandom('pins/pair/p1'),
  );
  const y = new PairwiseOtSetup(
    { setupId: enc('pins/ot/pairwise'), selfId: 'p2', peerId: 'p1' },
    seededRandom('pins/pair/p2'),
  );
  let fx: Uint8Array | undefined;
  let fy: Uint8Array | undefined;
  for (let r = 1; r <= 5; r++) {
    const nx = x.round(r, fy);
    const ny = y.round(r, fx);
    out.push(digestOnly(`pairwise/round ${r} p1→p2`, nx), digestOnly(`pairwise/round ${r} p2→p1`, ny));
    fx = nx;
    fy = ny;
  }
  const px = x.finish(fy!);
  const py = y.finish(fx!);
  out.push(digestOnly('pairwise/state p1', px.serialize()), digestOnly('pairwise/state p2', py.serialize()));

  // 5. zero-sharing seed agreement and one zero share
  const zsid = enc('pins/zero');
  const za = new ZeroSeedPairSetup({ sessionId: zsid, selfId: 'p1', peerId: 'p2' }, seededRandom('pins/zero/p1'));
  const zb = new ZeroSeedPairSetup({ sessionId: zsid, selfId: 'p2', peerId: 'p1' }, seededRandom('pins/zero/p2'));
  const ca = za.commitMessage();
  const cb = zb.commitMessage();
  out.push(full('zero-share/commitment p1', ca), full('zero-share/commitment p2', cb));
  za.onPeerCommitment(cb);
  zb.onPeerCommitment(ca);
  const oa = za.openingMessage();
  const ob = zb.openingMessage();
  out.push(full('zero-share/opening p1', oa), full('zero-share/opening p2', ob));
  const seedA = za.finish(ob);
  const seedB = zb.finish(oa);
  expect(hex(seedA)).toBe(hex(seedB));
  out.push(full('zero-share/seed', seedA));
  out.push(
    full(
      'zero-share/share p1 of [p1,p2]',
      zeroShare('p1', new Map([['p2', seedA]]), ['p1', 'p2'], enc('pins/zero/sign')),
    ),
  );
  return out;
}

describe('OT / multiplication layer wire messages (wire.ts MessageWriter, version 1)', () => {
  it("the base OT, KOS, multiplication, pairwise-setup and zero-sharing messages written by today's code equal the pinned bytes", () => {
    const t = otTranscript();
    const all = createHash('sha256');
    for (const p of t) all.update(p.sha256);
    pinJson('ot', 'ot/messages.json', { sequenceSha256: all.digest('hex'), messages: t });
  });

  it('every OT-layer message starts with the wire version 1 and its message type byte', () => {
    const t = otTranscript().filter(
      (p) =>
        p.hex !== undefined && !p.name.includes('state') && !p.name.includes('seed') && !p.name.includes('share p1'),
    );
    for (const p of t) expect(p.hex!.slice(0, 2), p.name).toBe('01');
    // distinct message kinds carry distinct type bytes
    const types = new Map(t.map((p) => [p.name.split(' ')[0]!, p.hex!.slice(2, 4)]));
    expect(new Set(types.values()).size).toBeGreaterThan(5);
  });
});
