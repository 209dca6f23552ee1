/**
 * Actively secure 1-of-2 OT extension: KOS15 (Keller, Orsini, Scholl, "Actively Secure OT
 * Extension with Optimal Overhead", CRYPTO 2015, ePrint 2015/546) — IKNP extension with KOS's
 * correlation check in GF(2^128) — made non-interactive with Fiat–Shamir as DKLs23 (ePrint
 * 2023/765, §5 / p. 30) suggests: the check coefficients χ_j are a hash of the receiver's message.
 *
 * Roles: the extension RECEIVER (chooser, "Bob" of the multiplication) was the base-OT SENDER and
 * holds two seeds per base OT; the extension SENDER ("Alice") was the base-OT RECEIVER with the
 * bits of its secret Δ ∈ GF(2^128) as choices and holds one seed per base OT.
 *
 * One extension of ℓ OTs (ℓ a multiple of 8), with ℓ' = ℓ + κ + s, κ = 128, s = 80:
 *   R: x ∈ {0,1}^ℓ' (the ℓ choices then random padding); per base OT i:
 *        t0_i = G(k0_i, n), t1_i = G(k1_i, n), u_i = t0_i ⊕ t1_i ⊕ x       (n: per-use nonce)
 *      χ_j = H(ctx, sid, index, u)-derived GF(2^128) elements, j < ℓ'
 *      t_j = row j of the matrix (t0_i)_i, x̃ = Σ x_j·χ_j, t̃ = Σ t_j·χ_j  (field multiplication)
 *   R→S  index, ℓ, u, x̃, t̃
 *   S: q_i = G(k_{Δ_i}, n) ⊕ Δ_i·u_i, so q_j = t_j ⊕ x_j·Δ; check Σ q_j·χ_j = t̃ ⊕ x̃·Δ,
 *      else `OtCheckFailedError` blaming R and the sender state is BURNT for good.
 *   Outputs for j < ℓ: S gets v0_j = H(j, q_j), v1_j = H(j, q_j ⊕ Δ); R gets v_{x_j} = H(j, t_j).
 *
 * The padding rows (κ + s random choices) hide x̃ and t̃; the check binds every column to one
 * choice vector x, so a receiver who uses inconsistent columns to learn bits of Δ is caught
 * unless it guesses those bits (learning k bits costs probability 2^-k of not being caught, and
 * with burn-on-failure there is no retry). KOS protects the sender against a cheating receiver;
 * the extension gives the receiver no check on the sender — the sender's later correlated
 * messages are checked by the multiplication protocol (DKLs19), see ../ecdsa/multiply.ts.
 *
 * Correlations are never reused: every extension has an index; the receiver allocates indices
 * from a counter, the sender refuses any index it remembers (the last INDEX_WINDOW accepted: a
 * replay, `OtReuseError`) or any index below the smallest one it forgot (`OtWindowExceededError`:
 * too many in flight, retryable), and the
 * PRG nonce and every hash bind (pair context, session id, index).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { ByteReader, ByteWriter, constantTimeEqual, MalformedError } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { taggedHash } from '../math/hash.js';
import { type Rng, systemRng } from '../math/rng.js';
import { BaseOtReceiver, BaseOtSender, type BaseOtSenderOutput } from './base-ot.js';
import {
  MalformedMessageError,
  OtCheckFailedError,
  OtReuseError,
  OtStateBurnedError,
  OtWindowExceededError,
} from './errors.js';
import { type Gf128, gfAddInto, gfFromBytes, gfMulAddInto, gfToBytes } from './gf128.js';
import { encodeU32, messageWriter, pairContext, readMessage, wipe } from './wire.js';

/** Number of base OTs (computational security parameter κ). */
export const KAPPA = 128;
/** Statistical security parameter of the extension's padding. */
export const KOS_STAT = 80;
/** Extra random rows appended to every extension (κ + s). */
export const KOS_PAD = KAPPA + KOS_STAT;
/** Largest extension a message may ask for. */
export const MAX_EXTENSION = 1 << 16;
/**
 * The sender remembers this many accepted indices; anything below the smallest forgotten one is
 * refused (`OtWindowExceededError`, not a replay). The receiver must therefore never have an index
 * in flight that lies `INDEX_WINDOW` or more below the newest index it allocated: the node caps the
 * sessions in flight per pair (`EcdsaKeyShare.extensionSpan`, docs/ecdsa.md).
 */
export const INDEX_WINDOW = 64;

const T_EXTEND = 0x21;
const STATE_VERSION = 1;
const ROLE_SENDER = 0x53;
const ROLE_RECEIVER = 0x52;

/** Parties of one OT-extension pair; the same values on both sides. */
export interface OtPairParams {
  /** Session id of the setup run (e.g. the DKG session id); bound into every later hash. */
  setupId: Uint8Array;
  /** Id of the extension sender (Alice: Δ holder, base-OT receiver). */
  senderId: string;
  /** Id of the extension receiver (Bob: chooser, base-OT sender). */
  receiverId: string;
}

/** G(seed, nonce): AES-256-CTR keystream of `len` bytes keyed by the 32-byte seed. */
export function prg(seed: Uint8Array, iv: Uint8Array, len: number): Uint8Array {
  const c = createCipheriv('aes-256-ctr', seed, iv);
  const out = new Uint8Array(c.update(new Uint8Array(len)));
  c.final();
  return out;
}

function nonceOf(ctx: Uint8Array, sessionId: Uint8Array, index: number): Uint8Array {
  return taggedHash('sha256', 'tessera/kos/prg-nonce', ctx, sessionId, encodeU32(index)).slice(0, 16);
}

function chiOf(
  ctx: Uint8Array,
  sessionId: Uint8Array,
  index: number,
  ell: number,
  u: Uint8Array,
  rows: number,
): Uint8Array {
  const seed = taggedHash('sha256', 'tessera/kos/chi', ctx, sessionId, encodeU32(index), encodeU32(ell), u);
  return prg(seed, new Uint8Array(16), rows * 16);
}

/** Transposes κ columns of `rows` bits into `rows` rows of κ bits (16 bytes each). */
function transpose(cols: Uint8Array[], rows: number): Uint8Array {
  const out = new Uint8Array(rows * 16);
  for (let i = 0; i < KAPPA; i++) {
    const col = cols[i]!;
    const byteI = i >>> 3;
    const bitI = i & 7;
    for (let j = 0; j < rows; j++) out[j * 16 + byteI]! |= ((col[j >>> 3]! >>> (j & 7)) & 1) << bitI;
  }
  return out;
}

/**
 * Output derivation H(prefix, j, row) → `outLen` bytes: SHAKE256 (an extendable-output random
 * oracle) over the fixed-layout input prefix(32) ‖ j(4) ‖ row(16), where prefix binds (pair
 * context, session id, index). This is the correlation-robust hash applied to the KOS rows.
 */
class OutputHasher {
  readonly #buf = new Uint8Array(52);
  constructor(ctx: Uint8Array, sessionId: Uint8Array, index: number) {
    this.#buf.set(taggedHash('sha256', 'tessera/kos/out', ctx, sessionId, encodeU32(index)), 0);
  }
  derive(j: number, row: Uint8Array, outLen: number): Uint8Array {
    const b = this.#buf;
    b.set(encodeU32(j), 32);
    b.set(row, 36);
    const d = createHash('shake256', { outputLength: outLen }).update(b).digest();
    b.fill(0, 36);
    const out = new Uint8Array(d);
    d.fill(0);
    return out;
  }
}

/** Smallest and largest output length per OT (bytes). */
export const MIN_OUTPUT_LEN = 16;
export const MAX_OUTPUT_LEN = 1024;

function checkOutLen(n: number): void {
  if (!Number.isInteger(n) || n < MIN_OUTPUT_LEN || n > MAX_OUTPUT_LEN)
    throw new InvalidArgumentError(`OT output length must be ${MIN_OUTPUT_LEN}..${MAX_OUTPUT_LEN} bytes`);
}

function checkSession(sessionId: Uint8Array, index: number): void {
  if (!(sessionId instanceof Uint8Array) || sessionId.length === 0)
    throw new InvalidArgumentError('OT extension needs a non-empty session id');
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff)
    throw new InvalidArgumentError('OT extension index must be a u32');
}

/** What the receiver keeps from one extension: its choices and one key per OT. */
export interface ExtensionReceiverOutput {
  /** The extension index this output belongs to. */
  index: number;
  /** ℓ choice bits, one per byte (0/1). Secret. */
  choices: Uint8Array;
  /** v_{x_j, j}: ℓ keys (`outputLen` bytes each). Secret. */
  keys: Uint8Array[];
}

/** What the sender gets: two keys per OT. */
export interface ExtensionSenderOutput {
  v0: Uint8Array[];
  v1: Uint8Array[];
}

/**
 * Pairwise OT-extension state of the SENDER (Alice). Created by `OtSetupAsSender`; serialisable
 * for the key share. A failed check burns it: every later call throws `OtStateBurnedError`.
 */
export class OtExtSender {
  readonly senderId: string;
  readonly receiverId: string;
  readonly #ctx: Uint8Array;
  #delta: Uint8Array; // 16 bytes
  #seeds: Uint8Array[]; // κ × 32 bytes: k_{Δ_i, i}
  #floor: number;
  #used: Set<number>;
  #burned = false;

  private constructor(
    ctx: Uint8Array,
    senderId: string,
    receiverId: string,
    delta: Uint8Array,
    seeds: Uint8Array[],
    floor: number,
    used: number[],
  ) {
    this.#ctx = ctx;
    this.senderId = senderId;
    this.receiverId = receiverId;
    this.#delta = delta;
    this.#seeds = seeds;
    this.#floor = floor;
    this.#used = new Set(used);
  }

  /** @internal Builds the state from a finished base OT. */
  static fromBaseOt(params: OtPairParams, delta: Uint8Array, seeds: Uint8Array[]): OtExtSender {
    const ctx = pairContext(params.setupId, params.senderId, params.receiverId);
    return new OtExtSender(ctx, params.senderId, params.receiverId, delta, seeds, 0, []);
  }

  /** True once a failed check (or `destroy`) burnt this state. */
  get burned(): boolean {
    return this.#burned;
  }

  /** The pair context hash (public): binds setup id and both parties. */
  get context(): Uint8Array {
    return this.#ctx.slice();
  }

  #assertUsable(): void {
    if (this.#burned)
      throw new OtStateBurnedError(`the OT-extension sender state of pair ${this.senderId}→${this.receiverId}`);
  }

  /** Wipes the secrets and makes the state permanently unusable. */
  destroy(): void {
    this.#burned = true;
    wipe(this.#delta, ...this.#seeds);
    this.#seeds = [];
  }

  /**
   * Processes one extension message of the receiver for session `sessionId` and returns the
   * sender's ℓ pairs of keys of `outputLen` bytes (ℓ must equal `expectedCount` when given). Throws
   * `MalformedMessageError` (blaming the receiver) on a malformed message, `OtReuseError` if the
   * message's index was used before (a replay; nothing is consumed), `OtWindowExceededError` if it
   * lies below the window of remembered indices (too many sessions in flight; nothing is consumed,
   * no replay evidence — retry with a new index), and `OtCheckFailedError` (blaming the receiver)
   * if the KOS check fails — that burns this state for good. Throws `OtStateBurnedError` if the
   * state is already burnt.
   */
  extend(
    sessionId: Uint8Array,
    message: Uint8Array,
    expectedCount?: number,
    outputLen = 32,
  ): ExtensionSenderOutput & { index: number } {
    this.#assertUsable();
    checkSession(sessionId, 0);
    checkOutLen(outputLen);
    const from = this.receiverId;
    const { index, ell, uAll, xTilde, tTilde } = readMessage(message, T_EXTEND, from, 'OT-extension message', (r) => {
      const index = r.u32();
      const ell = r.u32();
      if (ell === 0 || ell % 8 !== 0 || ell > MAX_EXTENSION || (expectedCount !== undefined && ell !== expectedCount)) {
        throw new MalformedMessageError(from, `OT-extension size ${ell} is invalid`);
      }
      const uAll = r.raw(KAPPA * ((ell + KOS_PAD) / 8));
      const xTilde = gfFromBytes(r.raw(16));
      const tTilde = gfFromBytes(r.raw(16));
      r.end();
      return { index, ell, uAll, xTilde, tTilde };
    });
    const rows = ell + KOS_PAD;
    const colLen = rows / 8;
    if (this.#used.has(index)) throw new OtReuseError(`extension index ${index} was already used by this pair`);
    // Below the window: forgotten, so it may or may not have been used — refuse it, but it is no
    // evidence of a replay: more than INDEX_WINDOW sessions were in flight on the pair [5/R-C].
    if (index < this.#floor)
      throw new OtWindowExceededError(
        `extension index ${index} is below the window floor ` +
          `${this.#floor} of pair ${this.receiverId}→${this.senderId}`,
      );
    // Consume the index before any secret-dependent work: a failure below cannot be retried with it.
    this.#used.add(index);
    while (this.#used.size > INDEX_WINDOW) {
      const smallest = Math.min(...this.#used);
      this.#used.delete(smallest);
      this.#floor = smallest + 1;
    }
    const nonce = nonceOf(this.#ctx, sessionId, index);
    const cols: Uint8Array[] = [];
    for (let i = 0; i < KAPPA; i++) {
      const q = prg(this.#seeds[i]!, nonce, colLen);
      const m = -((this.#delta[i >>> 3]! >>> (i & 7)) & 1) & 0xff;
      const u = uAll.subarray(i * colLen, (i + 1) * colLen);
      for (let k = 0; k < colLen; k++) q[k]! ^= u[k]! & m;
      cols.push(q);
    }
    const qRows = transpose(cols, rows);
    wipe(...cols);
    const chi = chiOf(this.#ctx, sessionId, index, ell, uAll, rows);
    const lhs = new Uint32Array(4);
    for (let j = 0; j < rows; j++) gfMulAddInto(lhs, gfFromBytes(qRows, j * 16), gfFromBytes(chi, j * 16));
    // rhs = t̃ + x̃·Δ
    const rhs = Uint32Array.from(tTilde);
    gfMulAddInto(rhs, xTilde, gfFromBytes(this.#delta));
    if (!constantTimeEqual(gfToBytes(lhs), gfToBytes(rhs))) {
      wipe(qRows);
      this.destroy();
      throw new OtCheckFailedError(from, `KOS correlation check of extension ${index} failed`);
    }
    const v0: Uint8Array[] = [];
    const v1: Uint8Array[] = [];
    const row = new Uint8Array(16);
    const out = new OutputHasher(this.#ctx, sessionId, index);
    for (let j = 0; j < ell; j++) {
      const qj = qRows.subarray(j * 16, j * 16 + 16);
      v0.push(out.derive(j, qj, outputLen));
      for (let k = 0; k < 16; k++) row[k] = qj[k]! ^ this.#delta[k]!;
      v1.push(out.derive(j, row, outputLen));
    }
    wipe(qRows, row);
    return { index, v0, v1 };
  }

  /** Canonical serialisation (secret: store encrypted). Throws `OtStateBurnedError` if burnt. */
  serialize(): Uint8Array {
    this.#assertUsable();
    const used = [...this.#used].sort((a, b) => a - b);
    const w = stateWriter(ROLE_SENDER).raw(this.#ctx).str(this.senderId).str(this.receiverId).raw(this.#delta);
    for (const seed of this.#seeds) w.raw(seed);
    w.u32(this.#floor).u32(used.length);
    for (const i of used) w.u32(i);
    return w.finish();
  }

  /** Inverse of `serialize`. Throws `InvalidArgumentError` if the bytes are not a valid sender state. */
  static deserialize(bytes: Uint8Array): OtExtSender {
    try {
      const r = stateReader(bytes, ROLE_SENDER);
      const ctx = r.raw(32);
      const senderId = r.str(MAX_ID_BYTES);
      const receiverId = r.str(MAX_ID_BYTES);
      const delta = r.raw(16);
      const seeds: Uint8Array[] = [];
      for (let i = 0; i < KAPPA; i++) seeds.push(r.raw(32));
      const floor = r.u32();
      const n = r.u32();
      if (n > INDEX_WINDOW) throw new Error('too many used indices');
      const used: number[] = [];
      for (let i = 0; i < n; i++) {
        const v = r.u32();
        if (v < floor || (used.length > 0 && v <= used[used.length - 1]!))
          throw new Error('used indices not canonical');
        used.push(v);
      }
      r.end();
      return new OtExtSender(ctx, senderId, receiverId, delta, seeds, floor, used);
    } catch (e) {
      throw new InvalidArgumentError(`not a valid OT-extension sender state: ${(e as Error).message}`);
    }
  }
}

/**
 * Pairwise OT-extension state of the RECEIVER (Bob). Created by `OtSetupAsReceiver`; serialisable.
 * Burnt by `destroy` (the multiplication burns it when Alice's check fails).
 */
export class OtExtReceiver {
  readonly senderId: string;
  readonly receiverId: string;
  readonly #ctx: Uint8Array;
  #k0: Uint8Array[];
  #k1: Uint8Array[];
  #nextIndex: number;
  #burned = false;

  private constructor(
    ctx: Uint8Array,
    senderId: string,
    receiverId: string,
    k0: Uint8Array[],
    k1: Uint8Array[],
    nextIndex: number,
  ) {
    this.#ctx = ctx;
    this.senderId = senderId;
    this.receiverId = receiverId;
    this.#k0 = k0;
    this.#k1 = k1;
    this.#nextIndex = nextIndex;
  }

  /** @internal Builds the state from a finished base OT. */
  static fromBaseOt(params: OtPairParams, out: BaseOtSenderOutput): OtExtReceiver {
    const ctx = pairContext(params.setupId, params.senderId, params.receiverId);
    return new OtExtReceiver(ctx, params.senderId, params.receiverId, out.rho0, out.rho1, 0);
  }

  get burned(): boolean {
    return this.#burned;
  }

  get context(): Uint8Array {
    return this.#ctx.slice();
  }

  /** The index the next extension will use. */
  get nextIndex(): number {
    return this.#nextIndex;
  }

  /** Wipes the secrets and makes the state permanently unusable. */
  destroy(): void {
    this.#burned = true;
    wipe(...this.#k0, ...this.#k1);
    this.#k0 = [];
    this.#k1 = [];
  }

  /**
   * Starts one extension of `count` OTs (a positive multiple of 8) for session `sessionId`,
   * consuming a fresh index. `choices` (one 0/1 per byte) defaults to uniformly random bits;
   * each output key has `outputLen` bytes (default 32; the sender must use the same length).
   * Returns the message for the sender and this side's output. Throws `InvalidArgumentError` on bad
   * arguments and `OtStateBurnedError` if the state is burnt.
   */
  extend(
    sessionId: Uint8Array,
    count: number,
    random: Rng = systemRng,
    choices?: Uint8Array,
    outputLen = 32,
  ): { message: Uint8Array; output: ExtensionReceiverOutput } {
    if (this.#burned)
      throw new OtStateBurnedError(`the OT-extension receiver state of pair ${this.senderId}→${this.receiverId}`);
    checkSession(sessionId, this.#nextIndex);
    checkOutLen(outputLen);
    if (!Number.isInteger(count) || count <= 0 || count % 8 !== 0 || count > MAX_EXTENSION)
      throw new InvalidArgumentError('OT-extension size must be a positive multiple of 8');
    if (this.#nextIndex >= 0xffffffff)
      throw new OtReuseError('extension indices of this pair are exhausted; set the pair up again');
    const index = this.#nextIndex++;
    const rows = count + KOS_PAD;
    const colLen = rows / 8;
    // x: packed bits (choices then random padding)
    const x = random(colLen);
    if (x.length !== colLen) throw new InvalidArgumentError('random source returned the wrong length');
    let ch: Uint8Array;
    if (choices === undefined) {
      ch = new Uint8Array(count);
      for (let j = 0; j < count; j++) ch[j] = (x[j >>> 3]! >>> (j & 7)) & 1;
    } else {
      if (choices.length !== count || choices.some((c) => c > 1))
        throw new InvalidArgumentError('choices must be count bits (0 or 1)');
      ch = Uint8Array.from(choices);
      for (let j = 0; j < count; j += 8) {
        let b = 0;
        for (let k = 0; k < 8; k++) b |= ch[j + k]! << k;
        x[j >>> 3] = b;
      }
    }
    const nonce = nonceOf(this.#ctx, sessionId, index);
    const t0cols: Uint8Array[] = [];
    const uAll = new Uint8Array(KAPPA * colLen);
    for (let i = 0; i < KAPPA; i++) {
      const t0 = prg(this.#k0[i]!, nonce, colLen);
      const t1 = prg(this.#k1[i]!, nonce, colLen);
      const off = i * colLen;
      for (let k = 0; k < colLen; k++) uAll[off + k] = t0[k]! ^ t1[k]! ^ x[k]!;
      wipe(t1);
      t0cols.push(t0);
    }
    const tRows = transpose(t0cols, rows);
    wipe(...t0cols);
    const chi = chiOf(this.#ctx, sessionId, index, count, uAll, rows);
    const xTilde = new Uint32Array(4);
    const tTilde = new Uint32Array(4);
    const masked = new Uint32Array(4);
    for (let j = 0; j < rows; j++) {
      const c: Gf128 = gfFromBytes(chi, j * 16);
      const m = -((x[j >>> 3]! >>> (j & 7)) & 1);
      for (let w = 0; w < 4; w++) masked[w] = c[w]! & m;
      gfAddInto(xTilde, masked);
      gfMulAddInto(tTilde, gfFromBytes(tRows, j * 16), c);
    }
    const message = messageWriter(T_EXTEND, 2 + 8 + uAll.length + 32)
      .u32(index)
      .u32(count)
      .raw(uAll)
      .raw(gfToBytes(xTilde))
      .raw(gfToBytes(tTilde))
      .finish();
    const keys: Uint8Array[] = [];
    const out = new OutputHasher(this.#ctx, sessionId, index);
    for (let j = 0; j < count; j++) keys.push(out.derive(j, tRows.subarray(j * 16, j * 16 + 16), outputLen));
    wipe(tRows, x);
    masked.fill(0);
    return { message, output: { index, choices: ch, keys } };
  }

  /** Canonical serialisation (secret: store encrypted). Throws `OtStateBurnedError` if burnt. */
  serialize(): Uint8Array {
    if (this.#burned)
      throw new OtStateBurnedError(`the OT-extension receiver state of pair ${this.senderId}→${this.receiverId}`);
    const w = stateWriter(ROLE_RECEIVER).raw(this.#ctx).str(this.senderId).str(this.receiverId);
    for (const k of this.#k0) w.raw(k);
    for (const k of this.#k1) w.raw(k);
    return w.u32(this.#nextIndex).finish();
  }

  /** Inverse of `serialize`. Throws `InvalidArgumentError` if the bytes are not a valid receiver state. */
  static deserialize(bytes: Uint8Array): OtExtReceiver {
    try {
      const r = stateReader(bytes, ROLE_RECEIVER);
      const ctx = r.raw(32);
      const senderId = r.str(MAX_ID_BYTES);
      const receiverId = r.str(MAX_ID_BYTES);
      const k0: Uint8Array[] = [];
      const k1: Uint8Array[] = [];
      for (let i = 0; i < KAPPA; i++) k0.push(r.raw(32));
      for (let i = 0; i < KAPPA; i++) k1.push(r.raw(32));
      const next = r.u32();
      r.end();
      return new OtExtReceiver(ctx, senderId, receiverId, k0, k1, next);
    } catch (e) {
      throw new InvalidArgumentError(`not a valid OT-extension receiver state: ${(e as Error).message}`);
    }
  }
}

const MAX_ID_BYTES = 1024;

/** A writer of a state encoding: version and role, then the fields. */
function stateWriter(role: number): ByteWriter {
  return new ByteWriter(8192).u8(STATE_VERSION).u8(role);
}

/** A reader of a state encoding after checking its version and role; throws `MalformedError` otherwise. */
function stateReader(bytes: Uint8Array, role: number): ByteReader {
  const r = new ByteReader(bytes);
  if (r.u8() !== STATE_VERSION || r.u8() !== role) throw new MalformedError('wrong version or role');
  return r;
}

/**
 * Pair setup on the extension SENDER's side (Alice): samples Δ and runs base OT as its receiver
 * with Δ's bits as choices. Drive `baseOt` with the peer's messages, then call `finish` with the
 * base-OT receiver's output. Throws `InvalidArgumentError` on bad parameters.
 */
export class OtSetupAsSender {
  readonly baseOt: BaseOtReceiver;
  readonly #params: OtPairParams;
  #delta: Uint8Array | undefined;

  constructor(params: OtPairParams, random: Rng = systemRng) {
    this.#params = { ...params };
    const delta = random(16);
    if (delta.length !== 16) throw new InvalidArgumentError('random source returned the wrong length');
    this.#delta = Uint8Array.from(delta);
    const bits = new Uint8Array(KAPPA);
    for (let i = 0; i < KAPPA; i++) bits[i] = (delta[i >>> 3]! >>> (i & 7)) & 1;
    this.baseOt = new BaseOtReceiver(
      { sessionId: params.setupId, senderId: params.receiverId, receiverId: params.senderId, count: KAPPA },
      bits,
      random,
    );
    wipe(bits);
  }

  /**
   * Wipes Δ and the base-OT run (its choice bits are Δ's bits) of a setup that will not be finished
   * (e.g. after an abort). Does not throw.
   */
  abandon(): void {
    wipe(this.#delta);
    this.#delta = undefined;
    this.baseOt.abandon();
  }

  /** Builds the extension state from the base OT's output (`baseOt.onOpenings`). Callable once. */
  finish(baseOutput: Uint8Array[]): OtExtSender {
    if (this.#delta === undefined) throw new OtReuseError('this setup was already finished');
    if (baseOutput.length !== KAPPA) throw new InvalidArgumentError('base OT output has the wrong size');
    const delta = this.#delta;
    this.#delta = undefined;
    return OtExtSender.fromBaseOt(this.#params, delta, baseOutput);
  }
}

/**
 * Pair setup on the extension RECEIVER's side (Bob): runs base OT as its sender. Drive `baseOt`,
 * then call `finish` with the base-OT sender's output. Throws `InvalidArgumentError` on bad parameters.
 */
export class OtSetupAsReceiver {
  readonly baseOt: BaseOtSender;
  readonly #params: OtPairParams;
  #done = false;

  constructor(params: OtPairParams, random: Rng = systemRng) {
    this.#params = { ...params };
    this.baseOt = new BaseOtSender(
      { sessionId: params.setupId, senderId: params.receiverId, receiverId: params.senderId, count: KAPPA },
      random,
    );
  }

  /** Wipes the base-OT run (its secret b and ρ values) of a setup that will not be finished. Does not throw. */
  abandon(): void {
    this.#done = true;
    this.baseOt.abandon();
  }

  /** Builds the extension state from the base OT's output (`baseOt.onResponses(...).output`). Callable once. */
  finish(baseOutput: BaseOtSenderOutput): OtExtReceiver {
    if (this.#done) throw new OtReuseError('this setup was already finished');
    if (baseOutput.rho0.length !== KAPPA || baseOutput.rho1.length !== KAPPA)
      throw new InvalidArgumentError('base OT output has the wrong size');
    this.#done = true;
    return OtExtReceiver.fromBaseOt(this.#params, baseOutput);
  }
}
