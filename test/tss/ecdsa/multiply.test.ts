import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { MultiplicationAbortedError } from '../../../src/tss/ecdsa/errors.js';
import {
  gadgetVector,
  mulReceiverFinish,
  mulReceiverStart,
  mulSenderRespond,
  XI,
} from '../../../src/tss/ecdsa/multiply.js';
import { concat, taggedHash } from '../../../src/tss/math/hash.js';
import {
  MalformedMessageError,
  OtCheckFailedError,
  OtReuseError,
  OtStateBurnedError,
} from '../../../src/tss/ot/errors.js';
import { type OtExtSender, OtExtSender as OtExtSenderClass } from '../../../src/tss/ot/kos.js';
import { decodeScalar, encodeScalar, mod, Q } from '../../../src/tss/ot/scalar.js';
import { encodeU32 } from '../../../src/tss/ot/wire.js';
import { freshPair, mulPads, seededRandom } from '../ot/helpers.js';

const sid = (s: string) => new TextEncoder().encode(s);
const scalarArb = fc.bigInt({ min: 0n, max: Q - 1n });
const val = (b: Uint8Array) => decodeScalar(b)!;

/** Offsets in Alice's response for L inputs. */
const tauLen = (L: number) => XI * 2 * L * 32;
const offSigma = 2;
const offTau = offSigma + 32;
const offR = (L: number) => offTau + tauLen(L);
const offU = (L: number) => offR(L) + 32;
const offGamma = (L: number) => offU(L) + 32 * L;

function wide(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex')}`) % Q;
}
function _expand(bytes: Uint8Array, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => wide(bytes.subarray(48 * i, 48 * i + 48)));
}

/**
 * Alice re-implemented from the protocol description (L = 1), optionally cheating: in OT
 * `cheatRow` she uses the pad ã + 1 instead of ã, and computes the check from her own view.
 */
function powMod(x: bigint, e: bigint): bigint {
  let r = 1n;
  let b = mod(x);
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = mod(r * b);
    b = mod(b * b);
  }
  return r;
}

/**
 * "Line attack": Alice shifts (ã, â) in OT `row` along the line χ̃·ã + χ̂·â = u for the check
 * coefficients χ computed from her honest τ, so her check values stay valid *for that χ*. Returns
 * the message (with the honest-τ χ in H(r) and u) and that χ, so a test can confirm the attack
 * would pass a check whose coefficients did not depend on τ.
 */
function lineAttackAlice(sender: OtExtSender, session: Uint8Array, a: bigint, msg1: Uint8Array, row: number) {
  const ext = sender.extend(session, msg1, XI, 32);
  const ctx = sender.context;
  const rnd = seededRandom('line');
  const sigma = rnd(32);
  const aT = wide(rnd(48));
  const aH = wide(rnd(48));
  const s0s: bigint[][] = [];
  const s1s: bigint[][] = [];
  const tau: Uint8Array[] = [];
  for (let j = 0; j < XI; j++) {
    s0s.push(mulPads(ctx, session, ext.index, 1, sigma, j, ext.v0[j]!));
    s1s.push(mulPads(ctx, session, ext.index, 1, sigma, j, ext.v1[j]!));
    for (let k = 0; k < 2; k++) tau.push(encodeScalar(mod([aT, aH][k]! + s0s[j]![k]! - s1s[j]![k]!)));
  }
  const msg1Hash = new Uint8Array(createHash('sha256').update(msg1).digest());
  const base = taggedHash(
    'sha256',
    'tessera/mul/transcript',
    ctx,
    session,
    encodeU32(ext.index),
    encodeU32(1),
    msg1Hash,
    sigma,
    concat(...tau),
  );
  const chiT = wide(taggedHash('sha512', 'tessera/mul/chi-tilde', base, encodeU32(0)));
  const chiH = wide(taggedHash('sha512', 'tessera/mul/chi-hat', base, encodeU32(0)));
  // shift row `row`: ã' = ã + 1, â' = â − χ̃/χ̂, so χ̃·ã' + χ̂·â' = u
  const shifted = [mod(aT + 1n), mod(aH - chiT * powMod(chiH, Q - 2n))];
  for (let k = 0; k < 2; k++) tau[2 * row + k] = encodeScalar(mod(shifted[k]! + s0s[row]![k]! - s1s[row]![k]!));
  const h = createHash('sha256').update(
    taggedHash('sha256', 'tessera/mul/r', ctx, session, encodeU32(ext.index), sigma),
  );
  const rA: bigint[] = [];
  for (let j = 0; j < XI; j++) rA.push(mod(-chiT * s0s[j]![0]! - chiH * s0s[j]![1]!));
  for (const x of rA) h.update(encodeScalar(x));
  const u = mod(chiT * aT + chiH * aH);
  const tauBytes = concat(...tau);
  return {
    message: concat(
      Uint8Array.of(1, 0x31),
      sigma,
      tauBytes,
      new Uint8Array(h.digest()),
      encodeScalar(u),
      encodeScalar(mod(a - aT)),
    ),
    chiT,
    chiH,
    u,
    rA,
    tauBytes,
    sigma,
    index: ext.index,
  };
}

function cheatingAlice(
  sender: OtExtSender,
  session: Uint8Array,
  a: bigint,
  msg1: Uint8Array,
  cheatRow: number,
): Uint8Array {
  const ext = sender.extend(session, msg1, XI, 32);
  const ctx = sender.context;
  const rnd = seededRandom('cheat');
  const sigma = rnd(32);
  const aT = wide(rnd(48));
  const aH = wide(rnd(48));
  const tA: bigint[][] = [];
  const tau: Uint8Array[] = [];
  for (let j = 0; j < XI; j++) {
    const s0 = mulPads(ctx, session, ext.index, 1, sigma, j, ext.v0[j]!);
    const s1 = mulPads(ctx, session, ext.index, 1, sigma, j, ext.v1[j]!);
    const alpha = [j === cheatRow ? mod(aT + 1n) : aT, aH];
    tA.push([mod(-s0[0]!), mod(-s0[1]!)]);
    for (let k = 0; k < 2; k++) tau.push(encodeScalar(mod(alpha[k]! + s0[k]! - s1[k]!)));
  }
  const tauBytes = concat(...tau);
  const msg1Hash = new Uint8Array(createHash('sha256').update(msg1).digest());
  const base = taggedHash(
    'sha256',
    'tessera/mul/transcript',
    ctx,
    session,
    encodeU32(ext.index),
    encodeU32(1),
    msg1Hash,
    sigma,
    tauBytes,
  );
  const chiT = wide(taggedHash('sha512', 'tessera/mul/chi-tilde', base, encodeU32(0)));
  const chiH = wide(taggedHash('sha512', 'tessera/mul/chi-hat', base, encodeU32(0)));
  const h = createHash('sha256').update(
    taggedHash('sha256', 'tessera/mul/r', ctx, session, encodeU32(ext.index), sigma),
  );
  for (let j = 0; j < XI; j++) h.update(encodeScalar(mod(chiT * tA[j]![0]! + chiH * tA[j]![1]!)));
  const u = mod(chiT * aT + chiH * aH);
  return concat(
    Uint8Array.of(1, 0x31),
    sigma,
    tauBytes,
    new Uint8Array(h.digest()),
    encodeScalar(u),
    encodeScalar(mod(a - aT)),
  );
}

async function mulOnce(a: bigint[], session = 'mul', seed = 1) {
  const { sender, receiver } = await freshPair();
  const bob = mulReceiverStart(receiver, sid(session), a.length, seededRandom(`bob${seed}`));
  const alice = mulSenderRespond(sender, sid(session), a.map(encodeScalar), bob.message, seededRandom(`alice${seed}`));
  return { sender, receiver, bob, alice };
}

function flip(m: Uint8Array, at: number, bit = 1): Uint8Array {
  const c = m.slice();
  c[at]! ^= bit;
  return c;
}

describe('two-party random VOLE multiplication (DKLs23 / DKLs19 Protocol 1)', () => {
  it('outputs add up to the product: c_k + d_k = a_k·b for every k', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(scalarArb, { minLength: 1, maxLength: 3 }), async (a) => {
        n++;
        const { receiver, bob, alice } = await mulOnce(a, `p${n}`, n);
        const d = mulReceiverFinish(receiver, bob.pending, alice.message);
        const b = val(bob.b);
        for (let k = 0; k < a.length; k++) expect(mod(val(alice.shares[k]!) + val(d[k]!))).toBe(mod(a[k]! * b));
      }),
      { numRuns: 8 },
    );
  });

  it('works with edge inputs 0, 1 and q−1, and many multiplications on one pair use fresh correlations', async () => {
    const { sender, receiver } = await freshPair();
    const bs = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const a = [0n, 1n, Q - 1n];
      const bob = mulReceiverStart(receiver, sid(`e${i}`), 3, seededRandom(`e${i}`));
      const alice = mulSenderRespond(sender, sid(`e${i}`), a.map(encodeScalar), bob.message, seededRandom(`a${i}`));
      const d = mulReceiverFinish(receiver, bob.pending, alice.message);
      const b = val(bob.b);
      bs.add(b.toString());
      for (let k = 0; k < 3; k++) expect(mod(val(alice.shares[k]!) + val(d[k]!))).toBe(mod(a[k]! * b));
    }
    expect(bs.size).toBe(4);
  });

  it("Bob's b is the gadget inner product of his choice bits", async () => {
    const { bob, receiver } = await mulOnce([5n]);
    const g = gadgetVector(receiver.context);
    let b = 0n;
    for (let j = 0; j < XI; j++) b += g[j]! * BigInt(bob.pending.omega[j]!);
    expect(mod(b)).toBe(val(bob.b));
  });

  it('any tampered correlation τ (the check coefficients are a hash of τ), check hash or check value u aborts with blame on Alice and burns Bob’s OT state', async () => {
    const L = 2;
    for (const at of [offTau + 5, offTau + tauLen(L) - 1, offR(L) + 7, offU(L) + 31, offU(L) + 40]) {
      const { receiver, bob, alice } = await mulOnce([3n, 4n], `t${at}`);
      const e = (() => {
        try {
          mulReceiverFinish(receiver, bob.pending, flip(alice.message, at, 0x10));
        } catch (err) {
          return err;
        }
      })() as MultiplicationAbortedError;
      expect(e).toBeInstanceOf(MultiplicationAbortedError);
      expect(e.blame).toBe('alice');
      expect(e.code).toBe('PROTOCOL_ABORTED');
      expect(receiver.burned).toBe(true);
      expect(() => mulReceiverStart(receiver, sid('next'), 2)).toThrow(OtStateBurnedError);
    }
  });

  it('a tampered salt σ (first, middle or last byte) aborts with blame on Alice and burns Bob’s OT state', async () => {
    for (const at of [offSigma, offSigma + 17, offSigma + 31]) {
      const { receiver, bob, alice } = await mulOnce([3n, 4n], `sigma${at}`);
      const e = (() => {
        try {
          mulReceiverFinish(receiver, bob.pending, flip(alice.message, at, 0x01));
        } catch (err) {
          return err;
        }
      })() as MultiplicationAbortedError;
      expect(e).toBeInstanceOf(MultiplicationAbortedError);
      expect(e.blame).toBe('alice');
      expect(receiver.burned).toBe(true);
    }
  });

  it('a truncated salt σ is a malformed message blaming Alice', async () => {
    const { receiver, bob } = await mulOnce([1n], 'sigma-short');
    const e = (() => {
      try {
        mulReceiverFinish(receiver, bob.pending, Uint8Array.of(1, 0x31, ...new Uint8Array(31)));
      } catch (err) {
        return err;
      }
    })() as MalformedMessageError;
    expect(e).toBeInstanceOf(MalformedMessageError);
    expect(e.blame).toBe('alice');
    expect(receiver.burned).toBe(true);
  });

  it('a replayed extension message answered by a stale copy of Alice’s OT state uses independent pads (τ − τ′ is not ã − ã′) [1/H2]', async () => {
    const { sender, receiver } = await freshPair();
    const stale = OtExtSenderClass.deserialize(sender.serialize()); // e.g. the vault copy before the session
    const bob = mulReceiverStart(receiver, sid('replay'), 1, seededRandom('replay'));
    const a1 = mulSenderRespond(sender, sid('replay'), [encodeScalar(7n)], bob.message, seededRandom('fresh-1'));
    const a2 = mulSenderRespond(stale, sid('replay'), [encodeScalar(7n)], bob.message, seededRandom('fresh-2'));
    expect(
      Buffer.from(a1.message.subarray(offSigma, offTau)).equals(Buffer.from(a2.message.subarray(offSigma, offTau))),
    ).toBe(false);
    // Without the salt, τ_j − τ′_j = ã − ã′ for every OT j (one constant); with it, the differences are independent.
    const diffs = new Set<bigint>();
    for (let j = 0; j < 8; j++) {
      const at = offTau + 2 * j * 32;
      diffs.add(mod(val(a1.message.subarray(at, at + 32)) - val(a2.message.subarray(at, at + 32))));
    }
    expect(diffs.size).toBe(8);
    // … and Bob's finish still yields the product for the answer he accepts.
    const d = mulReceiverFinish(receiver, bob.pending, a2.message);
    expect(mod(val(a2.shares[0]!) + val(d[0]!))).toBe(mod(7n * val(bob.b)));
  });

  it('a selective-failure attack on one OT (Alice shifts her pad in OT j only) passes exactly when Bob’s choice bit ω_j is 0', async () => {
    let sawPass = false;
    let sawAbort = false;
    for (let j = 0; j < 12; j++) {
      const { sender, receiver } = await freshPair();
      const bob = mulReceiverStart(receiver, sid(`sf${j}`), 1, seededRandom(`sf${j}`));
      const message = cheatingAlice(sender, sid(`sf${j}`), 7n, bob.message, j);
      const omegaJ = bob.pending.omega[j]; // read before finishing: finishing wipes ω
      let passed = true;
      try {
        mulReceiverFinish(receiver, bob.pending, message);
      } catch (e) {
        expect(e).toBeInstanceOf(MultiplicationAbortedError);
        passed = false;
      }
      expect(passed).toBe(omegaJ === 0);
      if (passed) sawPass = true;
      else sawAbort = true;
    }
    expect(sawPass && sawAbort).toBe(true);
  });

  it('the check coefficients depend on τ: an Alice who moves her correlation along the check line of the honest-τ coefficients is caught', async () => {
    for (let row = 0; row < 6; row++) {
      const { sender, receiver } = await freshPair();
      const bob = mulReceiverStart(receiver, sid(`line${row}`), 1, seededRandom(`line${row}`));
      const atk = lineAttackAlice(sender, sid(`line${row}`), 5n, bob.message, row);
      // Bob's view, evaluated with the coefficients Alice used: the attack would pass such a check
      const omega = bob.pending.omega;
      const ctx = receiver.context;
      for (let j = 0; j < XI; j++) {
        const s = mulPads(ctx, sid(`line${row}`), atk.index, 1, atk.sigma, j, bob.pending.keys[j]!);
        const tau = (k: number) => decodeScalar(atk.tauBytes.subarray((2 * j + k) * 32, (2 * j + k + 1) * 32))!;
        const tB = [0, 1].map((k) => mod(s[k]! + BigInt(omega[j]!) * tau(k)));
        expect(mod(BigInt(omega[j]!) * atk.u - atk.chiT * tB[0]! - atk.chiH * tB[1]!)).toBe(atk.rA[j]);
      }
      // … but the real coefficients are a hash of τ, so the real check aborts
      expect(() => mulReceiverFinish(receiver, bob.pending, atk.message)).toThrow(MultiplicationAbortedError);
    }
  });

  it('an independent re-implementation of Alice (without cheating) is accepted and gives the product', async () => {
    const { sender, receiver } = await freshPair();
    const bob = mulReceiverStart(receiver, sid('indep'), 1, seededRandom('indep'));
    const message = cheatingAlice(sender, sid('indep'), 11n, bob.message, -1);
    const d = mulReceiverFinish(receiver, bob.pending, message);
    expect(d).toHaveLength(1);
  });

  it('a changed adjustment γ only changes Alice’s own input (allowed by the functionality), never breaks the product form', async () => {
    const { receiver, bob, alice } = await mulOnce([9n]);
    const m = alice.message.slice();
    const off = offGamma(1);
    m.set(encodeScalar(mod(val(m.subarray(off, off + 32)) + 5n)), off);
    const d = mulReceiverFinish(receiver, bob.pending, m);
    expect(mod(val(alice.shares[0]!) + val(d[0]!))).toBe(mod(14n * val(bob.b)));
  });

  it('rejects malformed responses (truncated, extended, scalar not below q) blaming Alice', async () => {
    const L = 1;
    const { alice } = await mulOnce([1n]);
    const tooBig = alice.message.slice();
    tooBig.fill(0xff, offU(L), offU(L) + 32);
    const tauBig = alice.message.slice();
    tauBig.fill(0xff, offTau, offTau + 32);
    for (const m of [
      alice.message.subarray(0, alice.message.length - 1),
      Uint8Array.of(...alice.message, 0),
      tooBig,
      tauBig,
    ]) {
      const { receiver, bob } = await mulOnce([1n]);
      const e = (() => {
        try {
          mulReceiverFinish(receiver, bob.pending, m);
        } catch (err) {
          return err;
        }
      })() as MalformedMessageError;
      expect(e).toBeInstanceOf(MalformedMessageError);
      expect(e.blame).toBe('alice');
      expect(receiver.burned).toBe(true);
    }
  });

  it('a cheating Bob (tampered extension matrix) is caught by Alice’s KOS check, and Alice’s OT state is burnt', async () => {
    const { sender, receiver } = await freshPair();
    const bob = mulReceiverStart(receiver, sid('cb'), 1, seededRandom(1));
    const e = (() => {
      try {
        mulSenderRespond(sender, sid('cb'), [encodeScalar(2n)], flip(bob.message, 500));
      } catch (err) {
        return err;
      }
    })() as OtCheckFailedError;
    expect(e).toBeInstanceOf(OtCheckFailedError);
    expect(e.blame).toBe('bob');
    expect(() => mulSenderRespond(sender, sid('cb'), [encodeScalar(2n)], bob.message)).toThrow(OtStateBurnedError);
  });

  it('refuses reuse: Alice will not answer the same extension twice, Bob will not finish twice', async () => {
    const { sender, receiver, bob, alice } = await mulOnce([2n, 3n], 'reuse');
    expect(() => mulSenderRespond(sender, sid('reuse'), [encodeScalar(1n), encodeScalar(1n)], bob.message)).toThrow(
      OtReuseError,
    );
    mulReceiverFinish(receiver, bob.pending, alice.message);
    expect(bob.pending.omega.every((v) => v === 0)).toBe(true); // Bob's choice bits are wiped once used
    expect(() => mulReceiverFinish(receiver, bob.pending, alice.message)).toThrow(OtReuseError);
  });

  it('an answer replayed from another session (or another multiplication of the same pair) aborts', async () => {
    const { sender, receiver } = await freshPair();
    const b1 = mulReceiverStart(receiver, sid('r1'), 1, seededRandom(1));
    const a1 = mulSenderRespond(sender, sid('r1'), [encodeScalar(2n)], b1.message, seededRandom(2));
    const b2 = mulReceiverStart(receiver, sid('r2'), 1, seededRandom(3));
    mulSenderRespond(sender, sid('r2'), [encodeScalar(2n)], b2.message, seededRandom(4));
    expect(() => mulReceiverFinish(receiver, b2.pending, a1.message)).toThrow(MultiplicationAbortedError);
  });

  it('binds the session id: Alice answering under another session id fails Bob’s or Alice’s check', async () => {
    const { sender, receiver } = await freshPair();
    const bob = mulReceiverStart(receiver, sid('s1'), 1, seededRandom(1));
    expect(() => mulSenderRespond(sender, sid('s2'), [encodeScalar(2n)], bob.message)).toThrow(OtCheckFailedError);
  });

  it('rejects invalid inputs: wrong vector length, scalar not below q, pending state of another pair', async () => {
    const { sender, receiver } = await freshPair();
    expect(() => mulReceiverStart(receiver, sid('x'), 0)).toThrow(InvalidArgumentError);
    const bob = mulReceiverStart(receiver, sid('x'), 1, seededRandom(1));
    expect(() => mulSenderRespond(sender, sid('x'), [new Uint8Array(32).fill(0xff)], bob.message)).toThrow(
      InvalidArgumentError,
    );
    expect(() => mulSenderRespond(sender, sid('x'), [], bob.message)).toThrow(InvalidArgumentError);
    const { setupPair } = await import('../ot/helpers.js');
    const other = setupPair({ setupId: sid('other'), senderId: 'alice', receiverId: 'bob' }, 'o');
    expect(() => mulReceiverFinish(other.receiver, bob.pending, new Uint8Array(0))).toThrow(InvalidArgumentError);
  });
});
