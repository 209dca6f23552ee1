// Regression tests for the key-extraction findings 1/H1, 1/H2, 2/F1, 2/F2 and 4/M-1 (docs/findings.md).
// Each runs the reviewer's attack end to end and asserts it no longer works.
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src/common/bytes.js';
import { EcdsaKeyShare, ecdsaKeyPublicDigest, ecdsaLagrange } from '../../../src/tss/ecdsa/key-share.js';
import { XI } from '../../../src/tss/ecdsa/multiply.js';
import { EcdsaSignParty, ecdsaSignContext } from '../../../src/tss/ecdsa/sign.js';
import { zeroShare } from '../../../src/tss/ecdsa/zero-share.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { invert } from '../../../src/tss/math/polynomial.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { decodeMessage, encodeMessage, type Message } from '../../../src/tss/session/message.js';
import type { Delivery } from '../../../src/tss/session/runner.js';
import {
  MemorySigningLog,
  SigningContextReusedError,
  SigningStepReplayedError,
} from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, ecdsaSignRun, names } from '../../helpers/protocol-runs.js';
import { clone, sha256 } from './protocol-helpers.js';

const Q = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const mod = (a: bigint) => ((a % Q) + Q) % Q;
const inv = (a: bigint) => invert(getGroup('secp256k1'), a);
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const inv2 = (Q + 1n) / 2n;

/** A's round-2 direct message (layout: ctx, echo, R, salt, pk, Γu, Γv, ψ, msg2): R, pk and the multiplication answer. */
function round2(payload: Uint8Array): { R: Uint8Array; pk: Uint8Array; m2: Uint8Array } {
  const r = new ByteReader(payload);
  r.expectTag('tessera/ecdsa/sign/r2/v1');
  r.raw(32);
  r.bytes(1 << 20);
  const R = r.raw(33);
  r.raw(32);
  const pk = r.raw(33);
  r.raw(33);
  r.raw(33);
  r.raw(32);
  return { R, pk, m2: r.bytes(1 << 20) };
}

/** γ_0 = r_A − ã_0, γ_1, and τ of OT 0 for ã_0 (located from the end: σ | τ | H(r) 32 | u 64 | γ 64). */
function parseAnswer(payload: Uint8Array): { gamma: [bigint, bigint]; tau0: bigint } {
  const { m2 } = round2(payload);
  const tauStart = m2.length - 64 - 64 - 32 - 416 * 4 * 32;
  return {
    gamma: [big(m2.subarray(m2.length - 64, m2.length - 32)), big(m2.subarray(m2.length - 32))],
    tau0: big(m2.subarray(tauStart, tauStart + 32)),
  };
}

/** σ, τ and γ of A's multiplication answer, with A's R and pk (σ | τ (XI·4·32) | H(r) 32 | u 64 | γ 64, located from the end). */
function answerOf(payload: Uint8Array) {
  const { R, pk, m2 } = round2(payload);
  const tauStart = m2.length - 64 - 64 - 32 - XI * 4 * 32;
  const sigma = m2.subarray(tauStart - 32, tauStart);
  const tau = (j: number, k: number) => big(m2.subarray(tauStart + (j * 4 + k) * 32, tauStart + (j * 4 + k + 1) * 32));
  const gamma = [big(m2.subarray(m2.length - 64, m2.length - 32)), big(m2.subarray(m2.length - 32))];
  return { R, pk, sigma: Buffer.from(sigma).toString('hex'), tau, gamma };
}

/** Tries the reviewer's key recovery: D = k1 − k2 guessed by the attacker. */
function recovers(
  D: bigint,
  e1: bigint,
  e2: bigint,
  sig1: { r: Uint8Array; s: Uint8Array; publicKey: Uint8Array },
  sig2: { r: Uint8Array; s: Uint8Array },
): boolean {
  const r1 = big(sig1.r);
  const s1 = big(sig1.s);
  const r2 = big(sig2.r);
  const s2 = big(sig2.s);
  for (const t1 of [s1, Q - s1])
    for (const t2 of [s2, Q - s2]) {
      const x = mod((D - e1 * inv(t1) + e2 * inv(t2)) * inv(r1 * inv(t1) - r2 * inv(t2)));
      if (x === 0n) continue;
      const pub = secp256k1.getPublicKey(Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex')), true);
      if (Buffer.from(pub).equals(Buffer.from(sig1.publicKey))) return true;
    }
  return false;
}

describe('all secret randomness of a signing session is hedged [1/H1]', () => {
  it('a replayed RNG stream does not let a co-signer recover the key from two signatures on different digests', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'rng' });
    const [A, B] = [ps[0]!, ps[1]!];
    const runs: {
      g?: bigint;
      rB?: bigint;
      sig?: { r: Uint8Array; s: Uint8Array; publicKey: Uint8Array };
      e: bigint;
    }[] = [];
    for (const [i, msg] of ['pay Alice 1 BTC', 'pay Mallory 100 BTC'].entries()) {
      const digest = sha256(new TextEncoder().encode(msg));
      const rec: (typeof runs)[number] = { e: big(digest) };
      class Spy extends EcdsaSignParty {
        protected override multiplicationInputs(_p: string, r: bigint, sk: bigint): [bigint, bigint] {
          rec.rB = r;
          return [r, sk];
        }
      }
      const rep = ecdsaSignRun(shares, [A, B], digest, {
        sessionId: `s-${i}`,
        seed: `fresh-${i}`,
        fault: (d: Delivery) => {
          if (d.from === A && d.message.to === B && d.message.round === 2)
            rec.g = parseAnswer(d.message.payload).gamma[0];
          return { kind: 'deliver' } as const;
        },
        // A's RNG replays the same stream in both sessions (restored VM snapshot).
        make: (self) =>
          self === A ? (o) => new EcdsaSignParty({ ...o, rng: seededRng('restored-vm-snapshot') }) : (o) => new Spy(o),
      });
      rec.sig = rep.results.get(B);
      expect(rec.sig).toBeTruthy();
      runs.push(rec);
    }
    const [x1, x2] = runs as [Required<(typeof runs)[number]>, Required<(typeof runs)[number]>];
    const D = mod(x1.g - x2.g + x1.rB - x2.rB);
    expect(recovers(D, x1.e, x2.e, x1.sig, x2.sig)).toBe(false);
  });
});

describe('two answers to one extension message use independent pads [1/H2]', () => {
  it('retrying a session id against a restored (not persisted) share does not leak the group key to a co-signer', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'replay' });
    const vault = clone(shares); // what the vault holds before the session
    const [A, B] = [ps[0]!, ps[1]!];
    const digest = sha256(new TextEncoder().encode('pay 1 BTC'));
    const grab = (into: { p?: Uint8Array }) => (d: Delivery) => {
      if (d.from === A && d.to === B && d.message.round === 2 && d.message.to === B) into.p = d.message.payload;
      return { kind: 'deliver' } as const;
    };
    const m1: { p?: Uint8Array } = {};
    const m2: { p?: Uint8Array } = {};
    // attempt 1 completes (B gets the signature), but A's node crashes before persisting its share
    const run1 = ecdsaSignRun(clone(vault), [A, B], digest, {
      sessionId: 'sess-42',
      seed: 'attempt1',
      fault: grab(m1),
    });
    const sig1 = run1.results.get(B)!;
    // attempt 2: same session id, A restored from the vault; B replays the same round 1 (same rng seed)
    const run2 = ecdsaSignRun(clone(vault), [A, B], digest, {
      sessionId: 'sess-42',
      seed: 'attempt1',
      fault: grab(m2),
      make: (self) =>
        self === A
          ? (o) => new EcdsaSignParty({ ...o, rng: (n: number) => new Uint8Array(randomBytes(n)) })
          : undefined,
    });
    const sig2 = run2.results.get(B)!;
    expect(sig1 && sig2).toBeTruthy();
    const a1 = parseAnswer(m1.p!);
    const a2 = parseAnswer(m2.p!);
    // With the old deterministic pads: τ − τ′ = ã − ã′ and γ − γ′ = (r_A − r_A′) − (ã − ã′) ⇒ k1 − k2.
    const D = mod(a1.gamma[0] - a2.gamma[0] + a1.tau0 - a2.tau0);
    const e = big(digest);
    expect(recovers(D, e, e, sig1, sig2)).toBe(false);
  });
});

// With a replayed RNG stream and a stale share, a co-signer replaying its extension with flipped
// choice bits made Alice's pads swap under the same σ, so τ + τ′ = 2ã revealed her nonce and key
// share. The answer's randomness is now bound to the message it answers.
describe('the multiplication answer is bound to the extension message it answers [2/F1]', () => {
  it('a co-signer replaying its extension with flipped choice bits against a snapshot-restored signer learns neither σ reuse nor the key', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'snap' });
    const vault = clone(shares);
    const [A, B] = [ps[0]!, ps[1]!];
    const digest = sha256(new TextEncoder().encode('pay 1 BTC'));
    const answers: ReturnType<typeof answerOf>[] = [];
    const bits = Uint8Array.from({ length: XI }, (_, i) => ((i * 7 + 3) % 5 < 2 ? 1 : 0));
    for (const flip of [0, 1]) {
      const bShare = clone(vault).get(B)!; // B's receiver state at the same index (B is malicious; it can always do this)
      const fault = (d: Delivery) => {
        if (d.from === B && d.message.to === A && d.message.round === 1) {
          const rd = new ByteReader(d.message.payload);
          rd.expectTag('tessera/ecdsa/sign/r1d/v1');
          const ctx = rd.raw(32);
          const setupId = rd.raw(32);
          const ch = bits.map((b) => b ^ flip);
          const { message } = bShare.peers.get(A)!.ot!.in_.extend(ctx, XI, (n) => new Uint8Array(n), ch, 32);
          const m = decodeMessage(d.bytes);
          return {
            kind: 'replace',
            bytes: encodeMessage({
              ...m,
              payload: new ByteWriter().tag('tessera/ecdsa/sign/r1d/v1').raw(ctx).raw(setupId).bytes(message).finish(),
            }),
          } as const;
        }
        if (d.from === A && d.message.to === B && d.message.round === 2) answers.push(answerOf(d.message.payload));
        return { kind: 'deliver' } as const;
      };
      // same session id; A restored from the same VM snapshot: same share copy and same RNG stream (seed)
      ecdsaSignRun(clone(vault), [A, B], digest, { sessionId: 'sess-7', seed: 'snapshot', fault });
    }
    expect(answers.length).toBe(2);
    const [a1, a2] = answers as [ReturnType<typeof answerOf>, ReturnType<typeof answerOf>];
    expect(a1.sigma).not.toBe(a2.sigma); // σ is bound to the message answered
    const alpha0 = mod((a1.tau(0, 0) + a2.tau(0, 0)) * inv2);
    const alpha1 = mod((a1.tau(0, 1) + a2.tau(0, 1)) * inv2);
    const rA = mod(a1.gamma[0]! + alpha0);
    const skA = mod(a1.gamma[1]! + alpha1);
    const g = secp256k1.Point;
    expect(Buffer.from(g.BASE.multiply(rA).toBytes(true)).equals(Buffer.from(a1.R))).toBe(false);
    expect(Buffer.from(g.BASE.multiply(skA).toBytes(true)).equals(Buffer.from(a1.pk))).toBe(false);
    // B's own additive share in that session; sk_A + sk_B = x (two signers)
    const grp = getGroup('secp256k1');
    const sB = vault.get(B)!;
    const seeds = new Map([[A, sB.peers.get(A)!.zeroSeed]]);
    const lambdaB = ecdsaLagrange(grp, [A, B], B);
    // ctx is needed for ζ_B; recompute from the sign context
    const ctx = ecdsaSignContext('sess-7', ecdsaKeyPublicDigest(sB.public), digest, new Uint8Array(0), [A, B]);
    const zB = big(zeroShare(B, seeds, [A, B], ctx));
    const skB = mod(lambdaB * sB.secretScalar() + zB);
    const x = mod(skA + skB);
    expect(Buffer.from(g.BASE.multiply(x).toBytes(true)).equals(Buffer.from(sB.public.groupPublicKey))).toBe(false);
  });
});

describe('a signing context retried by a signer whose randomness replays is safe only with a durable signing log [2/F2]', () => {
  // A's process (or VM) is resumed from a memory snapshot taken before the session and the same
  // request is signed again. A's randomness replays, so its instance key r_A repeats; B, malicious,
  // picks a fresh r_B. The signatures then have nonces k1 − k2 = r_B1 − r_B2, known to B.
  const ps = names(3);
  const shares = ecdsaDkg(ps, 1, { seed: 'f2' });
  const [A, B] = [ps[0]!, ps[1]!];
  const digest = sha256(new TextEncoder().encode('pay 5 BTC to the cold wallet'));
  function attempt(i: number, logA: MemorySigningLog) {
    const rec: { rB?: bigint } = {};
    class Spy extends EcdsaSignParty {
      protected override multiplicationInputs(_p: string, r: bigint, sk: bigint): [bigint, bigint] {
        rec.rB = r;
        return [r, sk];
      }
    }
    const rep = ecdsaSignRun(clone(shares), [A, B], digest, {
      sessionId: 'withdrawal-7',
      seed: `attacker-${i}`,
      logs: new Map([[A, logA]]),
      make: (self) =>
        self === A ? (o) => new EcdsaSignParty({ ...o, rng: seededRng('resumed-snapshot') }) : (o) => new Spy(o),
    });
    return { rep, rB: rec.rB, sig: rep.results.get(B) };
  }

  it('with a signing log that forgets (rolled back with the snapshot), the retry gives the co-signer the key — why the log must be durable', () => {
    const a1 = attempt(1, new MemorySigningLog());
    const a2 = attempt(2, new MemorySigningLog());
    expect(a1.sig && a2.sig && a1.rB !== undefined && a2.rB !== undefined).toBeTruthy();
    const e = big(digest);
    expect(recovers(mod(a1.rB! - a2.rB!), e, e, a1.sig!, a2.sig!)).toBe(true);
  });

  it("with the signer's signing log kept, the retried context is refused before any message exists and no second signature is made", () => {
    const logA = new MemorySigningLog();
    const a1 = attempt(1, logA);
    expect(a1.sig).toBeTruthy();
    const a2 = attempt(2, logA);
    const abort = a2.rep.aborts.get(A);
    expect(abort).toBeInstanceOf(SigningContextReusedError);
    expect(abort!.outbound).toHaveLength(0);
    expect(a2.rep.results.size).toBe(0);
    expect(a2.rep.crashes.size).toBe(0);
    expect(logA.size).toBe(3); // the context and two step markers of the first attempt, nothing of the second
  });
});

describe('a signer resumed from a memory snapshot taken in the middle of a session aborts before answering a step again [4/M-1]', () => {
  // A's process is snapshotted after a step and resumed once; its durable signing log (the vault
  // on disk, not rolled back) has seen the first timeline. B is malicious and answers the resumed
  // timeline differently. Without step markers B learned A's additive key share (the reviewer's
  // reproduction: ψ changed in round 2 gives Δu = r_A·Δψ, Δw = r·sk_A·Δψ).
  const ps = names(3);
  const shares = ecdsaDkg(ps, 1, { seed: 'm1' });
  const [A, B] = [ps[0]!, ps[1]!];
  const signers = [A, B];
  const digest = sha256(Uint8Array.of(5));
  const R2 = 'tessera/ecdsa/sign/r2/v1';

  /** A log that answers "fresh" for what the snapshot already had in memory, then the durable log. */
  function resumable(durable: MemorySigningLog) {
    const state = { resumed: false };
    return { state, log: { claim: (c: Uint8Array) => (state.resumed ? durable.claim(c) : true) } };
  }

  for (const after of ['start', 'round 1'] as const) {
    it(`snapshot after A's ${after}: the resumed timeline finds the next step taken and aborts before computing it`, () => {
      const durable = new MemorySigningLog();
      const snapshot = shares.get(A)!.serialize();
      const mk = (log: { claim: (c: Uint8Array) => boolean }, self: string, bytes: Uint8Array, seed: string) =>
        new EcdsaSignParty({
          sessionId: 'withdrawal-9',
          self,
          signers,
          keyShare: EcdsaKeyShare.deserialize(bytes),
          digest,
          signingLog: log,
          rng: seededRng(seed),
        });
      // Timeline 1 runs to the end, recording B's messages to A.
      const a1 = mk(durable, A, snapshot, 'A');
      const b = mk(new MemorySigningLog(), B, shares.get(B)!.serialize(), 'B');
      const fromB: Message[] = [];
      const q: Message[] = [...a1.start(), ...b.start()];
      while (q.length > 0) {
        const m = q.shift()!;
        if (m.from === A) q.push(...b.receive(m, A));
        else {
          fromB.push(m);
          q.push(...a1.receive(m, B));
        }
      }
      expect(b.status).toBe('done');
      // Timeline 2: the same A memory (same share bytes, same randomness) up to the snapshot point.
      const { state, log } = resumable(durable);
      const a2 = mk(log, A, snapshot, 'A');
      a2.start();
      if (after === 'round 1') for (const m of fromB.filter((x) => x.round === 1)) a2.receive(m, B);
      state.resumed = true;
      // B answers the resumed A differently: for round 1 the same messages, for round 2 ψ_B + 1.
      const next = fromB
        .filter((x) => x.round === (after === 'start' ? 1 : 2))
        .map((m) => {
          if (m.round !== 2) return m;
          const p = Uint8Array.from(m.payload);
          const psiOff = 4 + R2.length + 32 + 4 + 32 * signers.length + 33 + 32 + 33 + 33 + 33;
          p[psiOff + 31] = p[psiOff + 31]! ^ 1;
          return { ...m, payload: p };
        });
      let err: unknown;
      let sent: Message[] = [];
      try {
        for (const m of next) sent = [...sent, ...a2.receive(m, B)];
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SigningStepReplayedError);
      expect((err as SigningStepReplayedError).outbound).toHaveLength(0);
      expect(sent.filter((m) => m.round > (after === 'start' ? 1 : 2))).toHaveLength(0);
      expect(a2.status).toBe('aborted');
    });
  }
});
