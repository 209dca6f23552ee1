import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../../src/common/bytes.js';
import { EcdsaDkgParty, ecdsaDkgContext } from '../../../src/tss/ecdsa/dkg.js';
import { mulReceiverStart, mulSenderRespond, XI } from '../../../src/tss/ecdsa/multiply.js';
import { EcdsaOtResetupParty } from '../../../src/tss/ecdsa/ot-resetup.js';
import { PairwiseOtSetup } from '../../../src/tss/ecdsa/pairwise.js';
import { EcdsaReshareParty } from '../../../src/tss/ecdsa/reshare.js';
import { FrostDkgParty } from '../../../src/tss/frost/dkg.js';
import { FrostReshareParty } from '../../../src/tss/frost/reshare.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { taggedHash } from '../../../src/tss/math/hash.js';
import { invert } from '../../../src/tss/math/polynomial.js';
import { type Rng, seededRng } from '../../../src/tss/math/rng.js';
import { BaseOtReceiver, BaseOtSender } from '../../../src/tss/ot/base-ot.js';
import { OtExtSender } from '../../../src/tss/ot/kos.js';
import { decodeScalar, encodeScalar, mod } from '../../../src/tss/ot/scalar.js';
import type { Message } from '../../../src/tss/session/message.js';
import {
  MemorySigningLog,
  SetupContextReusedError,
  type SetupLog,
  SetupStepReplayedError,
  setupStepMarker,
  signingStepMarker,
} from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, frostDkg, names } from '../../helpers/protocol-runs.js';
import { mulPads, seededRandom } from '../ot/helpers.js';

const sid = (s: string) => new TextEncoder().encode(s);
const inv = (a: bigint) => invert(getGroup('secp256k1'), a);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Runs rounds 1..5 (or 1..2) of a pairwise setup between victim A and attacker M; returns A's round-2 message and, if complete, the pairs. */
function pairSetup(setupId: string, rngA: string, rngM: string, complete: boolean) {
  const A = new PairwiseOtSetup({ setupId: sid(setupId), selfId: 'A', peerId: 'M' }, seededRandom(rngA));
  const M = new PairwiseOtSetup({ setupId: sid(setupId), selfId: 'M', peerId: 'A' }, seededRandom(rngM));
  let ma: Uint8Array | undefined;
  let mm: Uint8Array | undefined;
  let aRound2: Uint8Array | undefined;
  for (let r = 1; r <= (complete ? 5 : 2); r++) {
    const na = A.round(r, mm);
    const nm = M.round(r, ma);
    if (r === 2) aRound2 = na;
    ma = na;
    mm = nm;
  }
  if (!complete) return { aRound2: aRound2! };
  return { aRound2: aRound2!, a: A.finish(mm!), m: M.finish(ma!) };
}

/** Δ as the attacker infers it: bit i set where A_i differs between the two round-2 messages. */
function inferDelta(m1: Uint8Array, m2: Uint8Array): Uint8Array {
  const A1 = m1.subarray(2);
  const A2 = m2.subarray(2);
  expect(A1.length).toBe(128 * 33);
  const delta = new Uint8Array(16);
  for (let i = 0; i < 128; i++)
    if (hex(A1.subarray(33 * i, 33 * i + 33)) !== hex(A2.subarray(33 * i, 33 * i + 33)))
      delta[i >>> 3]! |= 1 << (i & 7);
  return delta;
}

describe('pairwise OT setup under a replayed RNG', () => {
  it('a second setup under another setup id by a victim whose RNG replays gives the peer neither Δ, nor the victim’s extension-sender state, nor its multiplication inputs', () => {
    // Timeline 1 (before the resume): the attacker only needs A's round-2 message.
    const t1 = pairSetup('resetup-session-1', 'victim-snapshot', 'attacker-run-1', false);
    // Timeline 2 (resumed, same random stream, a new setup id).
    const t2 = pairSetup('resetup-session-2', 'victim-snapshot', 'attacker-run-2', true);
    const delta = inferDelta(t1.aRound2, t2.aRound2);
    const victim = t2.a!.out.serialize();
    const off = 2 + 32 + 4 + 1 + 4 + 1; // version, role, ctx, 'A', 'M'
    const deltaRecovered = hex(victim.subarray(off, off + 16)) === hex(delta);
    // As base-OT sender of that direction the attacker holds both seeds k0_i, k1_i: with Δ it would rebuild A's state.
    const recv = t2.m!.in_.serialize();
    const k0 = (i: number) => recv.subarray(off + 32 * i, off + 32 * i + 32);
    const k1 = (i: number) => recv.subarray(off + 4096 + 32 * i, off + 4096 + 32 * i + 32);
    const forged = new Uint8Array(victim.length);
    forged.set(victim.subarray(0, off), 0);
    forged.set(delta, off);
    for (let i = 0; i < 128; i++)
      forged.set(((delta[i >>> 3]! >>> (i & 7)) & 1) === 1 ? k1(i) : k0(i), off + 16 + 32 * i);
    forged.set(victim.subarray(off + 16 + 4096), off + 16 + 4096);
    const stateForged = hex(forged) === hex(victim);
    // In a multiplication where A is Alice with inputs (r_A, sk_A), the forged state would give M both OT outputs.
    const session = sid('some-signing-context');
    const rA = 0x1234567890abcdefn;
    const skA = 0xfedcba0987654321n;
    const start = mulReceiverStart(t2.m!.in_, session, 2);
    const answer = mulSenderRespond(t2.a!.out, session, [encodeScalar(rA), encodeScalar(skA)], start.message).message;
    const ext = OtExtSender.deserialize(forged).extend(session, start.message, XI, 32);
    const L = 2;
    const body = answer.subarray(2);
    const sigma = body.subarray(0, 32);
    const tau = (j: number, k: number) =>
      decodeScalar(body.subarray(32 + (j * 2 * L + k) * 32, 32 + (j * 2 * L + k + 1) * 32))!;
    const after = 32 + XI * 2 * L * 32 + 32 + L * 32;
    const gamma = (k: number) => decodeScalar(body.subarray(after + 32 * k, after + 32 * k + 32))!;
    const ctx = t2.a!.out.context;
    const s0 = mulPads(ctx, session, ext.index, L, sigma, 0, ext.v0[0]!);
    const s1 = mulPads(ctx, session, ext.index, L, sigma, 0, ext.v1[0]!);
    const recovered = [0, 1].map((k) => mod(gamma(k) + mod(tau(0, k) - s0[k]! + s1[k]!)));
    const inputsRecovered = recovered[0] === rA && recovered[1] === skA;
    expect({ deltaRecovered, stateForged, inputsRecovered }).toEqual({
      deltaRecovered: false,
      stateForged: false,
      inputsRecovered: false,
    });
  });

  it('a replayed RNG answering a different B under the SAME setup id draws unrelated a_i: no A_i repeats, so the answers say nothing about Δ', () => {
    const t1 = pairSetup('same-session', 'victim-snapshot', 'attacker-run-1', false);
    const t2 = pairSetup('same-session', 'victim-snapshot', 'attacker-run-2', true);
    const A1 = t1.aRound2.subarray(2);
    const A2 = t2.aRound2.subarray(2);
    let repeated = 0;
    for (let i = 0; i < 128; i++)
      if (hex(A1.subarray(33 * i, 33 * i + 33)) === hex(A2.subarray(33 * i, 33 * i + 33))) repeated++;
    expect(repeated).toBe(0);
    // ... while the same B is answered byte for byte the same (a replay under one context repeats, it does not diverge).
    const t3 = pairSetup('same-session', 'victim-snapshot', 'attacker-run-1', false);
    expect(hex(t3.aRound2)).toBe(hex(t1.aRound2));
  });

  it('the victim’s base-OT sender secret b does not fall out of two Fischlin proofs made under two setup ids', () => {
    const m1 = new PairwiseOtSetup(
      { setupId: sid('resetup-session-1'), selfId: 'A', peerId: 'M' },
      seededRandom('victim-snapshot'),
    ).round(1);
    const m2 = new PairwiseOtSetup(
      { setupId: sid('resetup-session-2'), selfId: 'A', peerId: 'M' },
      seededRandom('victim-snapshot'),
    ).round(1);
    expect(hex(m1.subarray(2, 35))).not.toBe(hex(m2.subarray(2, 35))); // a different b, hence B
    const rep = (m: Uint8Array, i: number) => {
      const o = 35 + i * 67;
      return { e: BigInt((m[o + 33]! << 8) | m[o + 34]!), z: decodeScalar(m.subarray(o + 35, o + 67))! };
    };
    let leaked = false;
    for (let i = 0; i < 16; i++) {
      const p = rep(m1, i);
      const q = rep(m2, i);
      if (p.e === q.e) continue;
      const b = mod((p.z - q.z) * inv(mod(p.e - q.e)));
      if (b !== 0n && hex(secp256k1.getPublicKey(encodeScalar(b), true)) === hex(m1.subarray(2, 35))) leaked = true;
    }
    expect(leaked, 'the peer recovered the victim’s base-OT secret b').toBe(false);
  });
});

/** Commitment points C_0 … C_t of a dealer's round-1 broadcast: tag, optional 32-byte context, u16 count, points. */
function dealerCommitments(payload: Uint8Array, tag: string, withContext: boolean, pointLen: number): string[] {
  const r = new ByteReader(payload);
  r.expectTag(tag);
  if (withContext) r.raw(32);
  const n = r.u16();
  return Array.from({ length: n }, () => hex(r.raw(pointLen)));
}

function broadcastOf(msgs: Message[]): Uint8Array {
  return msgs.find((m) => m.to === null)!.payload;
}

describe('DKG and reshare under a replayed RNG', () => {
  it('a 2-of-2 ECDSA DKG re-run under a new session id by a victim whose RNG replays does not hand the co-signer the victim’s constant term', () => {
    const g = getGroup('secp256k1');
    const ps = ['victim', 'attacker'];
    const pok = (sessionId: string) => {
      const v = new EcdsaDkgParty({
        setupLog: new MemorySigningLog(),
        sessionId,
        self: 'victim',
        participants: ps,
        threshold: 1,
        rng: seededRng('victim-snapshot'),
      });
      const r = new ByteReader(broadcastOf(v.start()));
      r.expectTag('tessera/ecdsa/dkg/r1b/v1');
      const n = r.u16();
      const C0 = r.raw(33);
      for (let i = 1; i < n; i++) r.raw(33);
      const R = r.raw(33);
      const mu = g.decodeScalar(r.raw(32));
      const ctx = ecdsaDkgContext(sessionId, 1, ps);
      const c = g.reduceBytes(
        taggedHash('sha256', 'tessera/ecdsa/dkg/pok/v1', ctx, new TextEncoder().encode('victim'), C0, R),
      );
      return { C0, R, mu, c };
    };
    const p1 = pok('dkg-before-resume');
    const p2 = pok('dkg-after-resume');
    expect(hex(p1.R)).not.toBe(hex(p2.R)); // the proof nonce is not reused
    const a0 = mod((p1.mu - p2.mu) * inv(mod(p1.c - p2.c)));
    const a0Leaked = a0 !== 0n && hex(g.encodePoint(g.baseMul(a0))) === hex(p2.C0);
    expect(a0Leaked, 'the co-signer recovered the victim’s constant term (in a 2-of-2 key: the group secret)').toBe(
      false,
    );
  });

  const scenarios: { name: string; run: (sessionId: string, rng: Rng) => string[] }[] = [
    {
      name: 'an ECDSA DKG dealer',
      run: (sessionId, rng) =>
        dealerCommitments(
          broadcastOf(
            new EcdsaDkgParty({
              setupLog: new MemorySigningLog(),
              sessionId,
              self: 'a',
              participants: ['a', 'b', 'c'],
              threshold: 1,
              rng,
            }).start(),
          ),
          'tessera/ecdsa/dkg/r1b/v1',
          false,
          33,
        ),
    },
    {
      name: 'a FROST DKG dealer',
      run: (sessionId, rng) =>
        dealerCommitments(
          broadcastOf(
            new FrostDkgParty({ sessionId, self: 'a', participants: ['a', 'b', 'c'], threshold: 1, rng }).start(),
          ),
          'tessera/frost/dkg/r1/v1',
          false,
          32,
        ),
    },
    {
      name: 'an ECDSA reshare dealer',
      run: (() => {
        const shares = ecdsaDkg(names(3), 1, { seed: 'replay-reshare' });
        const [a, b, c] = names(3) as [string, string, string];
        return (sessionId: string, rng: Rng) =>
          dealerCommitments(
            broadcastOf(
              new EcdsaReshareParty({
                setupLog: new MemorySigningLog(),
                sessionId,
                self: a,
                dealers: [a, b],
                newParticipants: [a, b, c],
                newThreshold: 1,
                oldPublic: shares.get(a)!.public,
                keyShare: shares.get(a)!,
                rng,
              }).start(),
            ),
            'tessera/ecdsa/reshare/r1b/v1',
            true,
            33,
          ).slice(1); // C_0 = λ·s·G is the same in every reshare by these dealers: not random
      })(),
    },
    {
      name: 'a FROST reshare dealer',
      run: (() => {
        const shares = frostDkg(['a', 'b', 'c'], 1, { seed: 'replay-reshare' });
        return (sessionId: string, rng: Rng) =>
          dealerCommitments(
            broadcastOf(
              new FrostReshareParty({
                sessionId,
                self: 'a',
                dealers: ['a', 'b'],
                newParticipants: ['a', 'b', 'c'],
                newThreshold: 1,
                oldPublic: shares.get('a')!.public,
                keyShare: shares.get('a')!,
                rng,
              }).start(),
            ),
            'tessera/frost/reshare/commit/v1',
            true,
            32,
          ).slice(1);
      })(),
    },
  ];
  for (const s of scenarios) {
    it(`${s.name} whose RNG replays draws an independent polynomial under another session id, and the same one under the same id`, () => {
      const first = s.run('session-before-resume', seededRng('victim-snapshot'));
      const other = s.run('session-after-resume', seededRng('victim-snapshot'));
      const same = s.run('session-before-resume', seededRng('victim-snapshot'));
      expect(first.length).toBeGreaterThan(0);
      expect(other.filter((c) => first.includes(c))).toEqual([]);
      expect(same).toEqual(first);
    });
  }
});

describe('the durable setup log', () => {
  it('a base-OT receiver answering two different challenges from one state reveals its choice bits (the extension sender’s Δ): why each answering step is logged', () => {
    const params = { sessionId: sid('one-context'), senderId: 'M', receiverId: 'A', count: 64 };
    const choices = Uint8Array.from({ length: 64 }, (_, i) => ((i * 7 + 3) % 5 < 2 ? 1 : 0));
    const sender = new BaseOtSender(params, seededRandom('attacker'));
    const setup = sender.setupMessage();
    const answer = (challengeSeed: string) => {
      const r = new BaseOtReceiver(params, choices, seededRandom('victim-snapshot')); // the same state twice
      r.onSetup(setup);
      const challenge = Uint8Array.of(1, 0x13, ...seededRandom(challengeSeed)(64 * 32)); // version, type, ξ_0 … ξ_63
      return { xi: challenge.subarray(2), resp: r.onChallenges(challenge).subarray(2) };
    };
    const x = answer('xi-1');
    const y = answer('xi-2');
    const recovered = new Uint8Array(64);
    for (let i = 0; i < 64; i++) {
      const slot = (m: Uint8Array) => m.subarray(32 * i, 32 * i + 32);
      const dResp = slot(x.resp).map((v, k) => v ^ slot(y.resp)[k]!);
      const dXi = slot(x.xi).map((v, k) => v ^ slot(y.xi)[k]!);
      recovered[i] = hex(dResp) === hex(dXi) ? 1 : hex(dResp) === hex(new Uint8Array(32)) ? 0 : 2;
    }
    expect(hex(recovered)).toBe(hex(choices));
  });

  it('an ECDSA DKG, reshare and OT re-setup each refuse a setup context the node started before, before any message exists', () => {
    const log = new MemorySigningLog();
    const makeDkg = () =>
      new EcdsaDkgParty({ setupLog: log, sessionId: 'dkg-once', self: 'a', participants: ['a', 'b'], threshold: 1 });
    expect(makeDkg().start().length).toBeGreaterThan(0);
    const again = makeDkg();
    expect(() => again.start()).toThrow(SetupContextReusedError);
    expect(again.abortError!.outbound).toHaveLength(0);
    expect(again.abortError!.blame).toEqual([]);

    const shares = ecdsaDkg(names(3), 1, { seed: 'setup-log' });
    const [a, b, c] = names(3) as [string, string, string];
    const makeReshare = () =>
      new EcdsaReshareParty({
        setupLog: log,
        sessionId: 'reshare-once',
        self: a,
        dealers: [a, b],
        newParticipants: [a, b, c],
        newThreshold: 1,
        oldPublic: shares.get(a)!.public,
        keyShare: shares.get(a)!,
      });
    makeReshare().start();
    expect(() => makeReshare().start()).toThrow(SetupContextReusedError);

    const makeResetup = () =>
      new EcdsaOtResetupParty({
        setupLog: log,
        sessionId: 'resetup-once',
        self: a,
        members: [a, b],
        keyShare: shares.get(a)!,
      });
    makeResetup().start();
    const r2 = makeResetup();
    expect(() => r2.start()).toThrow(SetupContextReusedError);
    expect(r2.abortError!.outbound).toHaveLength(0);
  });

  it('an OT re-setup resumed from a snapshot taken after a step finds the next step taken in the durable log and answers nothing', () => {
    const shares = ecdsaDkg(names(3), 1, { seed: 'setup-log-resume' });
    const [a, b] = names(3) as [string, string];
    const durable = new MemorySigningLog();
    const make = (self: string, setupLog: SetupLog) =>
      new EcdsaOtResetupParty({
        setupLog,
        sessionId: 'resetup-resume',
        self,
        members: [a, b],
        keyShare: shares.get(self)!,
        rng: seededRng(`resume/${self}`),
      });
    const peer = make(b, new MemorySigningLog());
    const fromPeer1 = peer.start();
    const first = make(a, durable);
    const fromA1 = first.start();
    const fromA2 = first.receive(fromPeer1[0]!, b); // step 2 taken
    expect(fromA2.length).toBe(1);
    const fromPeer2 = peer.receive(fromA1[0]!, a);
    expect(first.receive(fromPeer2[0]!, b).length).toBe(1); // step 3 taken
    // The resumed copy: its memory is from before step 3 (it does not claim again what it claimed before the snapshot).
    let resumed = false;
    const copy = make(a, { claim: (ctx) => (resumed ? durable.claim(ctx) : true) });
    copy.start();
    copy.receive(fromPeer1[0]!, b);
    resumed = true;
    expect(() => copy.receive(fromPeer2[0]!, b)).toThrow(SetupStepReplayedError);
    expect(copy.abortError!.outbound).toHaveLength(0);
    expect(copy.abortError!.blame).toEqual([]);
  });

  it('a setup party cannot be built without a setup log', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the test passes what an untyped caller could
    const opts: any = { sessionId: 's', self: 'a', participants: ['a', 'b'], threshold: 1 };
    expect(() => new EcdsaDkgParty(opts)).toThrow(/setup log/);
  });

  it('setup step markers differ from the context, from each other and from signing step markers', () => {
    const c = taggedHash('sha256', 'ctx', Uint8Array.of(1));
    const marks = [
      c,
      setupStepMarker(c, 2),
      setupStepMarker(c, 3),
      signingStepMarker(c, 2),
      setupStepMarker(taggedHash('sha256', 'ctx', Uint8Array.of(2)), 2),
    ].map(hex);
    expect(new Set(marks).size).toBe(5);
  });
});
