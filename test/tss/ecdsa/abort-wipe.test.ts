// Zeroization on abort (review 2026-12, R-F; adapted from the reviewer's reproduction): an aborted
// signer wipes Bob's pending ω (the bits of χ_ij) and OT keys; an aborted DKG / reshare abandons
// its unfinished zero-seed setups (seed and salt wiped).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidStateError } from '../../../src/common/errors.js';
import { EcdsaDkgParty } from '../../../src/tss/ecdsa/dkg.js';
import { mulReceiverFinish, mulReceiverStart, mulSenderRespond } from '../../../src/tss/ecdsa/multiply.js';
import { EcdsaReshareParty } from '../../../src/tss/ecdsa/reshare.js';
import { EcdsaSignParty } from '../../../src/tss/ecdsa/sign.js';
import { ZeroSeedPairSetup } from '../../../src/tss/ecdsa/zero-share.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { OtReuseError } from '../../../src/tss/ot/errors.js';
import { encodeScalar } from '../../../src/tss/ot/scalar.js';
import { encodeMessage } from '../../../src/tss/session/message.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, names } from '../../helpers/protocol-runs.js';
import { freshPair, seededRandom } from '../ot/helpers.js';
import { clone, sha256 } from './protocol-helpers.js';

afterEach(() => vi.restoreAllMocks());

describe('an aborted signer wipes Bob-side secrets [5/R-F]', () => {
  it("an aborted signer wipes Bob's choice bits and OT keys (abort in round 1, before the answer arrived)", () => {
    const ps = names(3);
    const shares = clone(ecdsaDkg(ps, 1, { seed: 'wipe' }));
    const [a, b] = [ps[0]!, ps[1]!];
    const party = new EcdsaSignParty({
      sessionId: 'w-1',
      self: a,
      signers: [a, b],
      keyShare: shares.get(a)!,
      digest: sha256(Uint8Array.of(1)),
      signingLog: new MemorySigningLog(),
      rng: seededRng('w'),
    });
    party.start();
    // a reference to the pending multiplication (as a heap dump / later memory disclosure would keep)
    // biome-ignore lint/suspicious/noExplicitAny: the test reaches into private state on purpose
    const pending = (party as any).peers.get(b).pending as { omega: Uint8Array; keys: Uint8Array[] };
    expect(pending.omega.some((x) => x !== 0)).toBe(true);
    // any abort before round 2 completes, e.g. a message for a round that does not exist
    const bad = { sessionId: 'w-1', round: 9, from: b, to: null, payload: new Uint8Array(10) };
    expect(() => party.receiveBytes(b, encodeMessage(bad))).toThrow();
    expect(party.status).toBe('aborted');
    expect(pending.omega.some((x) => x !== 0)).toBe(false);
    expect(pending.keys.every((k) => k.every((x) => x === 0))).toBe(true);
    // an envelope error is no OT evidence: the pair is kept
    expect(shares.get(a)!.burntPeers()).toEqual([]);
  });

  it('a disposed pending multiplication has ω and the OT keys wiped and cannot be finished', async () => {
    const { sender, receiver } = await freshPair();
    const sid = new TextEncoder().encode('mul-dispose');
    const { message, pending } = mulReceiverStart(receiver, sid, 1, seededRandom(1));
    const answer = mulSenderRespond(sender, sid, [encodeScalar(5n)], message, seededRandom(2));
    pending.dispose();
    pending.dispose(); // idempotent
    expect(pending.omega.every((x) => x === 0)).toBe(true);
    expect(pending.keys.every((k) => k.every((x) => x === 0))).toBe(true);
    expect(() => mulReceiverFinish(receiver, pending, answer.message)).toThrow(OtReuseError);
  });
});

describe('an aborted DKG or reshare abandons its zero-seed setups [5/R-F]', () => {
  it('an abandoned zero-seed setup refuses every further step (its seed and salt are wiped)', () => {
    const sid = new TextEncoder().encode('zs');
    const x = new ZeroSeedPairSetup({ sessionId: sid, selfId: 'p1', peerId: 'p2' }, seededRandom('x'));
    const y = new ZeroSeedPairSetup({ sessionId: sid, selfId: 'p2', peerId: 'p1' }, seededRandom('y'));
    x.onPeerCommitment(y.commitMessage());
    y.onPeerCommitment(x.commitMessage());
    const oy = y.openingMessage();
    x.abandon();
    x.abandon();
    expect(() => x.commitMessage()).toThrow(InvalidStateError);
    expect(() => x.openingMessage()).toThrow(InvalidStateError);
    expect(() => x.finish(oy)).toThrow(InvalidStateError);
  });

  it('an aborted DKG abandons every zero-seed setup it holds', () => {
    const spy = vi.spyOn(ZeroSeedPairSetup.prototype, 'abandon');
    const ps = names(3);
    const party = new EcdsaDkgParty({
      setupLog: new MemorySigningLog(),
      sessionId: 'dkg-abort',
      self: ps[0]!,
      participants: ps,
      threshold: 1,
      rng: seededRng('d'),
    });
    party.start();
    party.abort('timeout');
    expect(party.status).toBe('aborted');
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('an aborted reshare abandons every zero-seed setup it holds', () => {
    const ps = names(3);
    const old = ecdsaDkg(ps, 1, { seed: 'wipe-rs' });
    const spy = vi.spyOn(ZeroSeedPairSetup.prototype, 'abandon');
    const newCommittee = [ps[0]!, ps[1]!, 'node-4'];
    const party = new EcdsaReshareParty({
      setupLog: new MemorySigningLog(),
      sessionId: 'rs-abort',
      self: ps[0]!,
      dealers: [ps[0]!, ps[1]!],
      newParticipants: newCommittee,
      newThreshold: 1,
      oldPublic: old.get(ps[0]!)!.public,
      keyShare: old.get(ps[0]!)!,
      rng: seededRng('r'),
    });
    party.start();
    party.abort('timeout');
    expect(party.status).toBe('aborted');
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
