/**
 * Two-party random vector OLE (the multiplication of DKLs23, ePrint 2023/765, Functionality 3.5),
 * realised as DKLs23 prescribes by the OT-based multiplication of DKLs19 (ePrint 2019/523,
 * Protocol 1, "randomized multiplication" + "input and adjustment") in two messages, with
 * DKLs23's forced reuse (one batch of Bob's OTs carries all of Alice's L inputs) and §5.1's
 * hashed check value.
 *
 * Alice (the OT-extension sender) inputs a ∈ Z_q^L; Bob (the OT-extension receiver) obtains a
 * uniformly random b ∈ Z_q. Outputs: Alice c ∈ Z_q^L, Bob d ∈ Z_q^L with c_k + d_k = a_k·b.
 *
 *   Bob, round 1: ω ← {0,1}^ξ random (ξ = 256 + 2s = 416), b = ⟨g, ω⟩ with the public gadget
 *        vector g ∈ Z_q^ξ (random-oracle output bound to the pair); one KOS extension with
 *        choices ω. Bob→Alice: the extension message. (The ξ − 256 = 2s extra random bits make b
 *        statistically 2^-s close to uniform and mask each single bit ω_j: that is the encoding
 *        which defeats a selective-failure attack of Alice on individual OTs.)
 *   Alice, round 2: verifies the KOS check; samples a fresh 32-byte salt σ, pads ã ∈ Z_q^L and
 *        check values â ∈ Z_q^L; for every OT j and every α ∈ (ã ‖ â) sets t_A = −s0 and
 *        τ = α + s0 − s1, where s_b = PadHash(ctx, sid, index, σ, j, v_b,j) are scalars expanded
 *        from her OT keys AND σ, so that t_A + t_B = ω_j·α. χ̃, χ̂ ∈ Z_q^L = H(transcript, σ, τ);
 *        r_{j,k} = χ̃_k·t̃_A,j,k + χ̂_k·t̂_A,j,k, u_k = χ̃_k·ã_k + χ̂_k·â_k, γ_k = a_k − ã_k.
 *        Alice→Bob: σ, τ, H(σ, r), u, γ. Alice outputs c_k = Σ_j g_j·t̃_A,j,k.
 *   Bob, finish: s_{ω_j} = PadHash(…, σ, j, v_{ω_j},j) (only now, σ being known);
 *        t_B = s_{ω_j} + ω_j·τ; recomputes r_{j,k} = ω_j·u_k − χ̃_k·t̃_B,j,k − χ̂_k·t̂_B,j,k
 *        and aborts (blaming Alice, burning his OT state) unless its hash equals H(σ, r);
 *        d_k = b·γ_k + Σ_j g_j·t̃_B,j,k.
 *
 * Why σ: the OT keys v_b,j are a deterministic function of (pair, session id, index, q_j). If
 * Alice's OT state is a stale copy (crash-restart from the vault, a share deserialised twice), a
 * replayed extension message would make her answer twice with the same keys and fresh ã:
 * τ − τ' = ã − ã' and γ − γ' would hand Bob r − r'. With a fresh σ per answer the pads of two
 * answers are independent random-oracle outputs, so a replay reveals nothing beyond two independent
 * multiplications. σ is Alice's choice; a malicious Alice gains nothing by repeating it (she knows
 * both pads anyway), and a tampered σ changes Bob's pads and the Fiat–Shamir coefficients, so the
 * check aborts with blame on Alice [1/H2].
 *
 * The check forces Alice to use the same (ã, â) in every OT; any deviation makes the check fail
 * except on choices she guessed, and what a guessed choice reveals is one of the 2s masking bits.
 *
 * NOT CONSTANT-TIME: scalar arithmetic is JS BigInt (see docs/ecdsa.md); b, the pads and the
 * correlations pass through BigInt and cannot be wiped.
 */
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { getGroup } from '../group/index.js';
import { taggedHash } from '../math/hash.js';
import { type Rng, randomScalar, systemRng } from '../math/rng.js';
import { MalformedMessageError, OtReuseError } from '../ot/errors.js';
import type { OtExtReceiver, OtExtSender } from '../ot/kos.js';
import { bytesToBigInt, decodeScalar, encodeScalar, mod, Q } from '../ot/scalar.js';
import { encodeU32, messageWriter, readMessage, wipe } from '../ot/wire.js';
import { MultiplicationAbortedError } from './errors.js';

/** Statistical security parameter of the multiplication (DKLs19: s = 80). */
export const MUL_STAT = 80;
/** Number of OTs per multiplication: ξ = |q| + 2s = 256 + 160. */
export const XI = 256 + 2 * MUL_STAT;
/** Largest vector length L accepted. */
export const MAX_L = 8;

const T_MUL_RESPONSE = 0x31;
const secp256k1 = getGroup('secp256k1');

/** Bytes of Alice's per-answer salt σ. */
export const SALT_LEN = 32;
/** Bytes of one OT key handed from the extension to the pad derivation. */
const OT_KEY_LEN = 32;

const gadgetCache = new Map<string, bigint[]>();

/** The public gadget vector g ∈ Z_q^ξ of a pair (random-oracle output bound to the pair context). */
export function gadgetVector(pairContext: Uint8Array): bigint[] {
  const key = Buffer.from(pairContext).toString('hex');
  let g = gadgetCache.get(key);
  if (g === undefined) {
    g = [];
    for (let j = 0; j < XI; j++)
      g.push(bytesToBigInt(taggedHash('sha512', 'tessera/mul/gadget', pairContext, encodeU32(j))) % Q);
    if (gadgetCache.size > 1024) gadgetCache.clear();
    gadgetCache.set(key, g);
  }
  return g;
}

/** Splits an OT output of 48·n bytes into n scalars (48 bytes each, reduced: bias < 2^-128), wiping it. */
function toScalars(bytes: Uint8Array, n: number): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(bytesToBigInt(bytes.subarray(48 * i, 48 * i + 48)) % Q);
  wipe(bytes);
  return out;
}

/**
 * The salted pad derivation: 2L scalars of OT j = SHAKE256(prefix ‖ j ‖ v_j) (48 bytes each,
 * reduced), prefix = tagged hash of (pair context, session id, index, L, σ). v_j is the OT key of
 * the extension (itself the correlation-robust hash of q_j, q_j ⊕ Δ or t_j). Wipes nothing.
 */
class PadHasher {
  readonly #buf = new Uint8Array(32 + 4 + OT_KEY_LEN);
  readonly #L: number;
  constructor(ctx: Uint8Array, sessionId: Uint8Array, index: number, L: number, sigma: Uint8Array) {
    this.#buf.set(taggedHash('sha256', 'tessera/mul/pad', ctx, sessionId, encodeU32(index), encodeU32(L), sigma), 0);
    this.#L = L;
  }
  pads(j: number, key: Uint8Array): bigint[] {
    if (key.length !== OT_KEY_LEN) throw new InvalidArgumentError('OT key has the wrong length');
    const b = this.#buf;
    b.set(encodeU32(j), 32);
    b.set(key, 36);
    const d = createHash('shake256', { outputLength: 96 * this.#L })
      .update(b)
      .digest();
    b.fill(0, 36);
    return toScalars(new Uint8Array(d.buffer, d.byteOffset, d.length), 2 * this.#L);
  }
}

function challenges(
  ctx: Uint8Array,
  sessionId: Uint8Array,
  index: number,
  msg1Hash: Uint8Array,
  sigma: Uint8Array,
  tauBytes: Uint8Array,
  L: number,
): { chiT: bigint[]; chiH: bigint[] } {
  const base = taggedHash(
    'sha256',
    'tessera/mul/transcript',
    ctx,
    sessionId,
    encodeU32(index),
    encodeU32(L),
    msg1Hash,
    sigma,
    tauBytes,
  );
  const chiT: bigint[] = [];
  const chiH: bigint[] = [];
  for (let k = 0; k < L; k++) {
    chiT.push(bytesToBigInt(taggedHash('sha512', 'tessera/mul/chi-tilde', base, encodeU32(k))) % Q);
    chiH.push(bytesToBigInt(taggedHash('sha512', 'tessera/mul/chi-hat', base, encodeU32(k))) % Q);
  }
  return { chiT, chiH };
}

function hashR(ctx: Uint8Array, sessionId: Uint8Array, index: number, sigma: Uint8Array, r: bigint[]): Uint8Array {
  const h = createHash('sha256');
  h.update(taggedHash('sha256', 'tessera/mul/r', ctx, sessionId, encodeU32(index), sigma));
  for (const x of r) h.update(encodeScalar(x));
  return new Uint8Array(h.digest());
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

/** Bob's secret state between his first message and Alice's answer. One-shot. */
export class MulReceiverPending {
  #used = false;
  /** @internal */
  constructor(
    /** @internal pair context of the OT state that started this multiplication */
    readonly pairContext: Uint8Array,
    readonly sessionId: Uint8Array,
    readonly L: number,
    readonly index: number,
    readonly msg1Hash: Uint8Array,
    /** @internal ω, one bit per byte */
    readonly omega: Uint8Array,
    /** @internal the OT keys v_{ω_j} (32 bytes each); the pads are derived once Alice's σ is known */
    readonly keys: Uint8Array[],
    /** @internal Bob's random input */
    readonly b: bigint,
  ) {}
  /** @internal */
  consume(): void {
    if (this.#used) throw new OtReuseError('this multiplication state was already finished');
    this.#used = true;
  }

  /**
   * Abandons a multiplication that will not be finished (e.g. its signing session aborted): wipes
   * ω (the bits of Bob's input b) and the OT keys, and makes `mulReceiverFinish` refuse this state.
   * Idempotent; does not throw. (b itself is a BigInt and cannot be wiped.)
   */
  dispose(): void {
    this.#used = true;
    wipe(this.omega, ...this.keys);
  }
}

/**
 * Bob, round 1: consumes a fresh OT-extension index of `ot` and returns the message for Alice,
 * his pending state and his random input `b` (32 bytes, secret). `L` is the length of Alice's
 * input vector. Throws `InvalidArgumentError` on bad arguments and `OtStateBurnedError` if the
 * pair's OT state is burnt.
 */
export function mulReceiverStart(
  ot: OtExtReceiver,
  sessionId: Uint8Array,
  L: number,
  random: Rng = systemRng,
): { message: Uint8Array; pending: MulReceiverPending; b: Uint8Array } {
  if (!Number.isInteger(L) || L < 1 || L > MAX_L)
    throw new InvalidArgumentError(`multiplication vector length must be 1..${MAX_L}`);
  const { message, output } = ot.extend(sessionId, XI, random, undefined, OT_KEY_LEN);
  const g = gadgetVector(ot.context);
  let b = 0n;
  for (let j = 0; j < XI; j++) b += g[j]! * BigInt(output.choices[j]!);
  b = mod(b);
  const pending = new MulReceiverPending(
    ot.context,
    sessionId.slice(),
    L,
    output.index,
    sha256(message),
    output.choices,
    output.keys,
    b,
  );
  return { message, pending, b: encodeScalar(b) };
}

/**
 * Alice, round 2: checks Bob's OT-extension message (KOS), and answers with her correlations,
 * check values and adjusted inputs for `inputs` (L scalars of 32 bytes, each < q). Returns the
 * message for Bob and her output shares c (L × 32 bytes, secret).
 * Throws `InvalidArgumentError` on bad inputs, `MalformedMessageError` / `OtCheckFailedError`
 * (blaming Bob; a failed check burns `ot` for good), `OtReuseError` on a replayed index,
 * `OtStateBurnedError` if `ot` is burnt.
 */
export function mulSenderRespond(
  ot: OtExtSender,
  sessionId: Uint8Array,
  inputs: Uint8Array[],
  message: Uint8Array,
  random: Rng = systemRng,
): { message: Uint8Array; shares: Uint8Array[] } {
  const L = inputs.length;
  if (L < 1 || L > MAX_L) throw new InvalidArgumentError(`multiplication vector length must be 1..${MAX_L}`);
  const a = inputs.map((x) => {
    const v = decodeScalar(x);
    if (v === undefined)
      throw new InvalidArgumentError('multiplication input must be a 32-byte scalar below the group order');
    return v;
  });
  const ext = ot.extend(sessionId, message, XI, OT_KEY_LEN);
  const ctx = ot.context;
  const g = gadgetVector(ctx);
  // Fresh salt per answer: two answers to one extension message use independent pads [1/H2].
  const sigma = random(SALT_LEN).slice();
  if (sigma.length !== SALT_LEN) throw new InvalidArgumentError('random source returned the wrong length');
  const pad = new PadHasher(ctx, sessionId, ext.index, L, sigma);
  const alpha: bigint[] = []; // ã_0..ã_{L-1}, â_0..â_{L-1}
  for (let k = 0; k < 2 * L; k++) alpha.push(randomScalar(secp256k1, random));
  const tA: bigint[][] = [];
  const w = messageWriter(T_MUL_RESPONSE, 2 + SALT_LEN + XI * 2 * L * 32 + 32 + 2 * L * 32);
  const tauParts: Uint8Array[] = [];
  for (let j = 0; j < XI; j++) {
    const s0 = pad.pads(j, ext.v0[j]!);
    const s1 = pad.pads(j, ext.v1[j]!);
    wipe(ext.v0[j]!, ext.v1[j]!);
    const row: bigint[] = [];
    for (let k = 0; k < 2 * L; k++) {
      row.push(mod(-s0[k]!));
      tauParts.push(encodeScalar(mod(alpha[k]! + s0[k]! - s1[k]!)));
    }
    tA.push(row);
  }
  const tauBytes = Buffer.concat(tauParts);
  const { chiT, chiH } = challenges(ctx, sessionId, ext.index, sha256(message), sigma, tauBytes, L);
  const r: bigint[] = [];
  for (let j = 0; j < XI; j++)
    for (let k = 0; k < L; k++) r.push(mod(chiT[k]! * tA[j]![k]! + chiH[k]! * tA[j]![L + k]!));
  w.raw(sigma)
    .raw(tauBytes)
    .raw(hashR(ctx, sessionId, ext.index, sigma, r));
  for (let k = 0; k < L; k++) w.raw(encodeScalar(mod(chiT[k]! * alpha[k]! + chiH[k]! * alpha[L + k]!)));
  for (let k = 0; k < L; k++) w.raw(encodeScalar(mod(a[k]! - alpha[k]!)));
  const shares: Uint8Array[] = [];
  for (let k = 0; k < L; k++) {
    let c = 0n;
    for (let j = 0; j < XI; j++) c += g[j]! * tA[j]![k]!;
    shares.push(encodeScalar(mod(c)));
  }
  return { message: w.finish(), shares };
}

/**
 * Bob, finish: verifies Alice's answer and returns his output shares d (L × 32 bytes, secret)
 * with c_k + d_k = a_k·b. Throws `MalformedMessageError` (blaming Alice) on a malformed message
 * or an out-of-range scalar, `MultiplicationAbortedError` (blaming Alice) if the check fails —
 * both burn `ot` for good — `OtReuseError` if `pending` was already finished, and
 * `InvalidArgumentError` if `pending` belongs to another pair.
 */
export function mulReceiverFinish(ot: OtExtReceiver, pending: MulReceiverPending, message: Uint8Array): Uint8Array[] {
  if (!constantTimeEqual(ot.context, pending.pairContext))
    throw new InvalidArgumentError('this multiplication was started with another pair');
  pending.consume();
  const from = ot.senderId;
  const { L, sessionId, index, omega, keys, b } = pending;
  const ctx = ot.context;
  try {
    const scalar = (bytes: Uint8Array, what: string): bigint => {
      const v = decodeScalar(bytes);
      if (v === undefined) throw new MalformedMessageError(from, `${what} is not a scalar below the group order`);
      return v;
    };
    const { sigma, tauBytes, rHash, u, gamma } = readMessage(
      message,
      T_MUL_RESPONSE,
      from,
      'multiplication response',
      (rd) => {
        const sigma = rd.raw(SALT_LEN);
        const tauBytes = rd.raw(XI * 2 * L * 32);
        const rHash = rd.raw(32);
        const u: bigint[] = [];
        for (let k = 0; k < L; k++) u.push(scalar(rd.raw(32), `u[${k}]`));
        const gamma: bigint[] = [];
        for (let k = 0; k < L; k++) gamma.push(scalar(rd.raw(32), `gamma[${k}]`));
        rd.end();
        return { sigma, tauBytes, rHash, u, gamma };
      },
    );
    const pad = new PadHasher(ctx, sessionId, index, L, sigma);
    const tB: bigint[][] = [];
    for (let j = 0; j < XI; j++) {
      const w = BigInt(omega[j]!);
      const s = pad.pads(j, keys[j]!);
      const row: bigint[] = [];
      for (let k = 0; k < 2 * L; k++) {
        const off = (j * 2 * L + k) * 32;
        const tau = scalar(tauBytes.subarray(off, off + 32), `tau[${j}][${k}]`);
        row.push(mod(s[k]! + w * tau));
      }
      tB.push(row);
    }
    const { chiT, chiH } = challenges(ctx, sessionId, index, pending.msg1Hash, sigma, tauBytes, L);
    const r: bigint[] = [];
    for (let j = 0; j < XI; j++) {
      const w = BigInt(omega[j]!);
      for (let k = 0; k < L; k++) r.push(mod(w * u[k]! - chiT[k]! * tB[j]![k]! - chiH[k]! * tB[j]![L + k]!));
    }
    if (!constantTimeEqual(hashR(ctx, sessionId, index, sigma, r), rHash))
      throw new MultiplicationAbortedError(from, 'the sender used inconsistent correlations');
    const g = gadgetVector(ctx);
    const out: Uint8Array[] = [];
    for (let k = 0; k < L; k++) {
      let d = b * gamma[k]!;
      for (let j = 0; j < XI; j++) d += g[j]! * tB[j]![k]!;
      out.push(encodeScalar(mod(d)));
    }
    wipe(omega, ...keys);
    return out;
  } catch (e) {
    wipe(omega, ...keys);
    ot.destroy();
    throw e;
  }
}
