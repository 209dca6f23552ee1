/**
 * Base OT: "Verified Simplest OT" (VSOT) — the Chou–Orlandi Simplest OT with a proof of knowledge
 * of the sender's discrete log and the verification phase of Doerner, Kondi, Lee, shelat, "Secure
 * Two-party Threshold ECDSA from ECDSA Assumptions" (IEEE S&P 2018, ePrint 2018/499, Protocol 7 and
 * its proof), the base OT also used by DKLs19 (ePrint 2019/523). It realises random 1-of-2 OT with
 * selective failure: a malicious sender can make the run abort depending on one guessed choice bit.
 * Because any failure burns the pair's OT state for good (the objects here become unusable, and
 * the caller must not retry with the same choices), that adversary gets one guess, never a retry.
 *
 * Flow (S = base-OT sender, R = base-OT receiver with choice bits ω_i; `count` instances at once):
 *   1. S→R  B = b·G and a proof of knowledge of b (Fischlin transform, bound to the context;
 *           see dlog-proof.ts — straight-line extractable, standing in for DKLs18's ideal ZK).
 *   2. R→S  A_i = a_i·G + ω_i·B.                       R: ρ_i = H(i, B, A_i, a_i·B)
 *   3. S→R  ξ_i = H2(ρ_i^0) ⊕ H2(ρ_i^1)                 S: ρ_i^0 = H(i, B, A_i, b·A_i),
 *                                                          ρ_i^1 = H(i, B, A_i, b·(A_i − B))
 *   4. R→S  ρ'_i = H2(ρ_i) ⊕ ω_i·ξ_i                    S: abort unless ρ'_i = H2(ρ_i^0) for all i
 *   5. S→R  H1(ρ_i^0), H1(ρ_i^1)                        R: abort unless its opening matches H1(ρ_i)
 *                                                          and H2 of both openings XOR to ξ_i
 * where H1, H2 are domain-separated hashes and H2(x) = H(H1(x)). Every hash binds the pair context
 * (session id, sender id, receiver id). S outputs (ρ_i^0, ρ_i^1) after step 4, R outputs ρ_i after
 * step 5. Each output is 32 bytes.
 *
 * Every received point is validated (on curve, not identity, canonical) and the proof verified;
 * malformed input throws `MalformedMessageError` naming the peer. Secret scalars stay in Uint8Array
 * (libsecp256k1 WASM does the constant-time point multiplications); only the proof responses
 * z = k + e·b are computed with BigInt (not constant-time; documented in docs/ecdsa.md).
 */
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { taggedHash } from '../math/hash.js';
import { type Rng, systemRng } from '../math/rng.js';
import { DLOG_PROOF_LEN, proveDlog, verifyDlog } from './dlog-proof.js';
import { MalformedMessageError, OtCheckFailedError, OtStateBurnedError } from './errors.js';
import { baseMul, decodePoint, negateScalar, POINT_LEN, pointAdd, pointMul, randomSecretScalar } from './point.js';
import { encodeU32, messageWriter, pairContext, readMessage, wipe } from './wire.js';

/** Message types of VSOT. */
const T_SETUP = 0x11;
const T_CHOICE = 0x12;
const T_CHALLENGE = 0x13;
const T_RESPONSE = 0x14;
const T_OPENING = 0x15;

/** Largest batch one run accepts. */
export const MAX_BASE_OT = 1024;

/** Parties and session of one base-OT run. `sessionId` must be unique per run (e.g. DKG session id ‖ purpose). */
export interface BaseOtParams {
  sessionId: Uint8Array;
  /** Id of the base-OT sender. */
  senderId: string;
  /** Id of the base-OT receiver. */
  receiverId: string;
  /** Number of OT instances. */
  count: number;
}

function checkParams(p: BaseOtParams): Uint8Array {
  if (!Number.isInteger(p.count) || p.count < 1 || p.count > MAX_BASE_OT)
    throw new InvalidArgumentError(`base OT count must be 1..${MAX_BASE_OT}`);
  if (!(p.sessionId instanceof Uint8Array) || p.sessionId.length === 0)
    throw new InvalidArgumentError('base OT needs a non-empty session id');
  if (p.senderId === p.receiverId) throw new InvalidArgumentError('base OT needs two distinct parties');
  return pairContext(p.sessionId, p.senderId, p.receiverId);
}

function rho(ctx: Uint8Array, i: number, B: Uint8Array, A: Uint8Array, shared: Uint8Array): Uint8Array {
  return taggedHash('sha256', 'tessera/vsot/rho', ctx, encodeU32(i), B, A, shared);
}
function h1(ctx: Uint8Array, i: number, x: Uint8Array): Uint8Array {
  return taggedHash('sha256', 'tessera/vsot/h1', ctx, encodeU32(i), x);
}
function h2(ctx: Uint8Array, i: number, x: Uint8Array): Uint8Array {
  return taggedHash('sha256', 'tessera/vsot/h2', ctx, encodeU32(i), h1(ctx, i, x));
}

/**
 * The receiver's secret a_i for instance `i`: a scalar in [1, q) from SHA-256(seed, answered, i,
 * attempt) by rejection (an attempt fails with probability ≈ 2^-128).
 */
function receiverScalar(seed: Uint8Array, answered: Uint8Array, i: number): Uint8Array {
  let attempt = 0;
  return randomSecretScalar(() =>
    taggedHash('sha256', 'tessera/vsot/receiver-a/v1', seed, answered, encodeU32(i), encodeU32(attempt++)),
  );
}

/** Output of the base-OT sender: two random 32-byte strings per instance. */
export interface BaseOtSenderOutput {
  rho0: Uint8Array[];
  rho1: Uint8Array[];
}

/**
 * The base-OT sender (in KOS, the OT-extension receiver plays this role). One-shot: each step may be
 * called once, in order; any failure burns the object.
 */
export class BaseOtSender {
  #step = 0;
  #burned = false;
  readonly #ctx: Uint8Array;
  readonly #params: BaseOtParams;
  #b: Uint8Array | undefined;
  #B: Uint8Array;
  #negBB: Uint8Array;
  #rho0: Uint8Array[] = [];
  #rho1: Uint8Array[] = [];
  #setup: Uint8Array;

  /** Throws `InvalidArgumentError` on bad parameters. */
  constructor(params: BaseOtParams, random: Rng = systemRng) {
    this.#ctx = checkParams(params);
    this.#params = { ...params };
    const b = randomSecretScalar(random);
    this.#b = b;
    this.#B = baseMul(b);
    // −(b·B), to form b·(A − B) = b·A − b·B
    this.#negBB = pointMul(this.#B, negateScalar(b))!;
    // Fischlin proof of knowledge of b (straight-line extractable), bound to the pair context
    this.#setup = messageWriter(T_SETUP)
      .raw(this.#B)
      .raw(proveDlog(this.#ctx, b, this.#B, random))
      .finish();
  }

  #enter(step: number, what: string): void {
    if (this.#burned) throw new OtStateBurnedError('this base-OT sender');
    if (this.#step !== step) throw new InvalidStateError(`base-OT sender: ${what} called out of order`);
    this.#step = step + 1;
  }

  #burn(): void {
    this.#burned = true;
    wipe(this.#b, ...this.#rho0, ...this.#rho1);
    this.#b = undefined;
    this.#rho0 = [];
    this.#rho1 = [];
  }

  /**
   * Wipes the secret b and the ρ values of a run that will not be finished; every later call throws
   * `OtStateBurnedError`. Does not throw.
   */
  abandon(): void {
    this.#burn();
  }

  /** Step 1: the setup message (B and its proof) for the receiver. */
  setupMessage(): Uint8Array {
    this.#enter(0, 'setupMessage');
    return this.#setup;
  }

  /**
   * Step 3: takes the receiver's choice message, returns the challenge message.
   * Throws `MalformedMessageError` (blaming the receiver; the object is burnt) on an invalid message.
   */
  onChoices(message: Uint8Array): Uint8Array {
    this.#enter(1, 'onChoices');
    const { count, receiverId } = this.#params;
    try {
      return readMessage(message, T_CHOICE, receiverId, 'base-OT choice message', (r) => {
        const out = messageWriter(T_CHALLENGE);
        for (let i = 0; i < count; i++) {
          const A = decodePoint(r.raw(POINT_LEN), receiverId, `A[${i}]`);
          const bA = pointMul(A, this.#b!)!;
          const bAminusB = pointAdd(bA, this.#negBB);
          if (bAminusB === null) throw new MalformedMessageError(receiverId, `A[${i}] equals B`);
          const r0 = rho(this.#ctx, i, this.#B, A, bA);
          const r1 = rho(this.#ctx, i, this.#B, A, bAminusB);
          this.#rho0.push(r0);
          this.#rho1.push(r1);
          const xi = h2(this.#ctx, i, r0);
          const x1 = h2(this.#ctx, i, r1);
          for (let k = 0; k < 32; k++) xi[k]! ^= x1[k]!;
          out.raw(xi);
        }
        r.end();
        return out.finish();
      });
    } catch (e) {
      this.#burn();
      throw e;
    }
  }

  /**
   * Step 5: verifies the receiver's responses and returns the opening message and this side's
   * output. Throws `OtCheckFailedError` (blaming the receiver) if any response is wrong and
   * `MalformedMessageError` if the message is malformed; either burns the object.
   */
  onResponses(message: Uint8Array): { message: Uint8Array; output: BaseOtSenderOutput } {
    this.#enter(2, 'onResponses');
    const { count, receiverId } = this.#params;
    try {
      return readMessage(message, T_RESPONSE, receiverId, 'base-OT response message', (r) => {
        let diff = 0;
        const out = messageWriter(T_OPENING);
        for (let i = 0; i < count; i++) {
          const resp = r.raw(32);
          const expect = h2(this.#ctx, i, this.#rho0[i]!);
          for (let k = 0; k < 32; k++) diff |= resp[k]! ^ expect[k]!;
          out.raw(h1(this.#ctx, i, this.#rho0[i]!)).raw(h1(this.#ctx, i, this.#rho1[i]!));
        }
        r.end();
        if (diff !== 0) throw new OtCheckFailedError(receiverId, 'base-OT verification response does not match');
        wipe(this.#b);
        this.#b = undefined;
        const output = { rho0: this.#rho0, rho1: this.#rho1 };
        this.#rho0 = [];
        this.#rho1 = [];
        return { message: out.finish(), output };
      });
    } catch (e) {
      this.#burn();
      throw e;
    }
  }
}

/**
 * The base-OT receiver (in KOS, the OT-extension sender plays this role, with its Δ as choices).
 * One-shot: each step may be called once, in order; any failure burns the object.
 */
export class BaseOtReceiver {
  #step = 0;
  #burned = false;
  readonly #ctx: Uint8Array;
  readonly #params: BaseOtParams;
  readonly #choices: Uint8Array;
  readonly #random: Rng;
  #rho: Uint8Array[] = [];
  #xi: Uint8Array[] = [];

  /**
   * `choices` holds one bit (0 or 1) per instance; it is copied.
   * Throws `InvalidArgumentError` on bad parameters.
   */
  constructor(params: BaseOtParams, choices: Uint8Array, random: Rng = systemRng) {
    this.#ctx = checkParams(params);
    this.#params = { ...params };
    if (choices.length !== params.count || choices.some((c) => c > 1))
      throw new InvalidArgumentError('base OT choices must be count bits (0 or 1)');
    this.#choices = Uint8Array.from(choices);
    this.#random = random;
  }

  #enter(step: number, what: string): void {
    if (this.#burned) throw new OtStateBurnedError('this base-OT receiver');
    if (this.#step !== step) throw new InvalidStateError(`base-OT receiver: ${what} called out of order`);
    this.#step = step + 1;
  }

  #burn(): void {
    this.#burned = true;
    wipe(this.#choices, ...this.#rho);
    this.#rho = [];
  }

  /**
   * Wipes the choice bits and ρ values of a run that will not be finished; every later call throws
   * `OtStateBurnedError`. Does not throw.
   */
  abandon(): void {
    this.#burn();
  }

  /**
   * Step 2: verifies the sender's setup (point and proof of knowledge) and returns the choice
   * message. Throws `MalformedMessageError` blaming the sender (object burnt) on an invalid setup.
   */
  onSetup(message: Uint8Array): Uint8Array {
    this.#enter(0, 'onSetup');
    const { count, senderId } = this.#params;
    try {
      return readMessage(message, T_SETUP, senderId, 'base-OT setup message', (r) => {
        const B = decodePoint(r.raw(POINT_LEN), senderId, 'B');
        const proof = r.raw(DLOG_PROOF_LEN);
        r.end();
        verifyDlog(this.#ctx, B, proof, senderId);
        // Each a_i is derived from fresh randomness AND the setup message answered (B and its
        // proof): a replayed random stream answering a different B yields unrelated a_i, so two
        // answers never show which A_i moved with B (which would reveal the choice bits, i.e. the
        // extension sender's Δ) [5/R-D].
        const seed = this.#random(32).slice();
        const answered = taggedHash('sha256', 'tessera/vsot/answered/v1', this.#ctx, B, proof);
        const out = messageWriter(T_CHOICE);
        for (let i = 0; i < count; i++) {
          const a = receiverScalar(seed, answered, i);
          const aG = baseMul(a);
          // A = a·G + ω·B, computed for both values of ω and selected with a mask (no branch on ω)
          const aGB = pointAdd(aG, B) ?? aG; // identity only if a·G = −B, negligible
          const m = -this.#choices[i]! & 0xff;
          const A = new Uint8Array(POINT_LEN);
          for (let k = 0; k < POINT_LEN; k++) A[k] = (aG[k]! & ~m) | (aGB[k]! & m);
          const shared = pointMul(B, a)!;
          wipe(a);
          this.#rho.push(rho(this.#ctx, i, B, A, shared));
          out.raw(A);
        }
        wipe(seed);
        return out.finish();
      });
    } catch (e) {
      this.#burn();
      throw e;
    }
  }

  /** Step 4: takes the challenges, returns the responses. Throws `MalformedMessageError` (object burnt). */
  onChallenges(message: Uint8Array): Uint8Array {
    this.#enter(1, 'onChallenges');
    const { count, senderId } = this.#params;
    try {
      return readMessage(message, T_CHALLENGE, senderId, 'base-OT challenge message', (r) => {
        const out = messageWriter(T_RESPONSE);
        for (let i = 0; i < count; i++) {
          const xi = r.raw(32);
          this.#xi.push(xi);
          const resp = h2(this.#ctx, i, this.#rho[i]!);
          const m = -this.#choices[i]! & 0xff;
          for (let k = 0; k < 32; k++) resp[k]! ^= xi[k]! & m;
          out.raw(resp);
        }
        r.end();
        return out.finish();
      });
    } catch (e) {
      this.#burn();
      throw e;
    }
  }

  /**
   * Step 5 (receiver side): verifies the sender's openings and returns this side's output, one
   * 32-byte string per instance (ρ_i^{ω_i}). Throws `OtCheckFailedError` blaming the sender if the
   * openings are inconsistent, `MalformedMessageError` if malformed; either burns the object.
   */
  onOpenings(message: Uint8Array): Uint8Array[] {
    this.#enter(2, 'onOpenings');
    const { count, senderId } = this.#params;
    try {
      return readMessage(message, T_OPENING, senderId, 'base-OT opening message', (r) => {
        let diff = 0;
        for (let i = 0; i < count; i++) {
          const o0 = r.raw(32);
          const o1 = r.raw(32);
          const m = -this.#choices[i]! & 0xff;
          const mine = h1(this.#ctx, i, this.#rho[i]!);
          for (let k = 0; k < 32; k++) diff |= ((o0[k]! & ~m) | (o1[k]! & m)) ^ mine[k]!;
          const x0 = taggedHash('sha256', 'tessera/vsot/h2', this.#ctx, encodeU32(i), o0);
          const x1 = taggedHash('sha256', 'tessera/vsot/h2', this.#ctx, encodeU32(i), o1);
          const xi = this.#xi[i]!;
          for (let k = 0; k < 32; k++) diff |= x0[k]! ^ x1[k]! ^ xi[k]!;
        }
        r.end();
        if (diff !== 0) throw new OtCheckFailedError(senderId, 'base-OT openings do not match the challenge');
        const out = this.#rho;
        this.#rho = [];
        wipe(this.#choices);
        return out;
      });
    } catch (e) {
      this.#burn();
      throw e;
    }
  }
}
