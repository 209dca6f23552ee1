/**
 * FROST distributed key generation (Pedersen DKG with proofs of knowledge, as in RFC 9591
 * Appendix C / frost-rs / noble) with a confirmation round, as a three-round {@link RoundProtocol}:
 *
 *  round 1 (broadcast): Feldman commitment C_i = [a_i0·G … a_it·G] and a Schnorr proof of
 *           knowledge of a_i0 whose challenge binds the session context (session id, threshold,
 *           ordered participant set) — a package from another session does not verify.
 *  round 2 (direct):    the echo vector of all round-1 broadcasts and the share f_i(x_j).
 *  then:    echo checked (equivocation blamed), each share checked against its dealer's
 *           commitment (bad dealer blamed), s_j = Σ f_i(x_j), PK = Σ C_i0, Y_k = Σ_i f_i(x_k)·G.
 *           The validated share becomes the party's *pending* result ({@link FrostDkgParty.pendingResult}).
 *  round 3 (broadcast): a confirmation — a digest of (context, public key package) — or, from a
 *           party whose round-2 checks failed, a complaint naming whom it blamed (sent with its abort).
 *  finish:  every other party confirmed the same package. Without this round a dealer could send a
 *           bad share to one victim only: the victim aborts while the others finish (a split outcome).
 * Result: a version-1 {@link FrostKeyShare}. Threshold semantics as mpcium: t+1 signers.
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, concat, taggedHash, utf8 } from '../math/hash.js';
import { commitPolynomial, evalCommitment, evalPolynomial } from '../math/polynomial.js';
import { type Rng, randomScalar, setupRng, systemRng } from '../math/rng.js';
import { EchoCollector, echoVector } from '../session/echo.js';
import { ProtocolAbortedError } from '../session/errors.js';
import type { KeygenParty } from '../session/key-share.js';
import {
  type Outgoing,
  type RoundExpectation,
  type RoundInbox,
  RoundProtocol,
  type RoundStep,
} from '../session/party.js';
import { partyIdentifiers } from './identifiers.js';
import { type FrostKeyShare, KEY_TYPE, keyPublicDigest, shareFromComputed } from './key-share.js';
import { ed25519Suite, type Suite } from './suite.js';

const R1_TAG = 'tessera/frost/dkg/r1/v1';
const R2_TAG = 'tessera/frost/dkg/r2/v1';
const CONFIRM_TAG = 'tessera/frost/dkg/confirm/v1';
const COMPLAINT_TAG = 'tessera/frost/dkg/complaint/v1';

/** Inputs of one party's DKG. */
export interface DkgOptions {
  readonly sessionId: string;
  readonly self: string;
  /** The committee (a set; order does not matter). */
  readonly participants: readonly string[];
  /** mpcium threshold t: t+1 parties will be able to sign; 1 ≤ t, t+1 ≤ n. */
  readonly threshold: number;
  readonly rng?: Rng;
  readonly group?: Group;
}

/** Session context bound into the proofs of knowledge. Does not throw. */
export function dkgContext(sessionId: string, threshold: number, participants: readonly string[]): Uint8Array {
  const t = new Uint8Array(2);
  new DataView(t.buffer).setUint16(0, threshold);
  return taggedHash('sha256', 'tessera/frost/dkg/context/v1', utf8(sessionId), t, ...participants.map(utf8));
}

/**
 * Proof-of-knowledge challenge: HDKG(context ‖ id ‖ C_0 ‖ R). With an empty context this is
 * noble's / frost-rs's. Throws `InvalidArgumentError` for an out-of-range id.
 */
export function pokChallenge(suite: Suite, context: Uint8Array, id: bigint, c0: Point, R: Point): bigint {
  const g = suite.group;
  return suite.HDKG(concat(context, g.encodeScalar(id), g.encodePoint(c0), g.encodePoint(R)));
}

/**
 * Proves knowledge of a0 (C_0 = a0·G): returns R ‖ μ with μ = k + a0·c. Throws
 * `InvalidArgumentError` for out-of-range scalars.
 */
export function proveKnowledge(
  suite: Suite,
  context: Uint8Array,
  id: bigint,
  a0: bigint,
  c0: Point,
  rng: Rng,
): Uint8Array {
  const g = suite.group;
  const k = randomScalar(g, rng);
  const R = g.baseMul(k);
  const c = pokChallenge(suite, context, id, c0, R);
  return concat(g.encodePoint(R), g.encodeScalar(mod(k + a0 * c, g.order)));
}

/** Checks a proof of knowledge; false (never throws) on any malformed or wrong proof. */
export function verifyKnowledge(suite: Suite, context: Uint8Array, id: bigint, c0: Point, proof: Uint8Array): boolean {
  const g = suite.group;
  if (proof.length !== g.pointLength + g.scalarLength) return false;
  try {
    const R = g.decodePoint(proof.subarray(0, g.pointLength));
    const mu = g.decodeScalar(proof.subarray(g.pointLength));
    const c = pokChallenge(suite, context, id, c0, R);
    return g.equals(g.baseMul(mu), g.add(R, g.mul(c0, c)));
  } catch {
    return false;
  }
}

/** Samples a degree-t polynomial with non-zero coefficients (a_0 first, the order noble uses). Does not throw. */
export function samplePolynomial(group: Group, degree: number, rng: Rng): bigint[] {
  const coeffs: bigint[] = [];
  for (let i = 0; i <= degree; i++) coeffs.push(randomScalar(group, rng));
  return coeffs;
}

/** One party of a FROST DKG. Construction throws `InvalidArgumentError` on bad inputs. */
export class FrostDkgParty extends RoundProtocol<FrostKeyShare> implements KeygenParty<FrostKeyShare> {
  private readonly suite: Suite;
  private readonly group: Group;
  private readonly threshold: number;
  private readonly rng: Rng;
  private readonly ids: Map<string, bigint>;
  private readonly context: Uint8Array;
  private coeffs: bigint[] = [];
  private ownShare = 0n;
  private readonly commitments = new Map<string, Point[]>();
  private myEcho: Uint8Array = new Uint8Array(0);
  private readonly others: string[];
  private pending: FrostKeyShare | undefined;
  private confirmDigest: Uint8Array = new Uint8Array(0);

  constructor(opts: DkgOptions) {
    // The committee is a set: it is canonicalised (sorted) so parties that list it in different
    // orders still run the same session, and the key share lists participants in sorted order.
    super(
      { sessionId: opts.sessionId, self: opts.self, participants: [...opts.participants].sort() },
      3,
      64 + 8 + 33 * 1024,
    );
    const n = opts.participants.length;
    if (!Number.isInteger(opts.threshold) || opts.threshold < 1 || opts.threshold + 1 > n || n > 1024) {
      throw new InvalidArgumentError('threshold t must satisfy 1 ≤ t and t+1 ≤ n ≤ 1024');
    }
    this.group = opts.group ?? getGroup('ed25519');
    this.suite = ed25519Suite(this.group);
    this.threshold = opts.threshold;
    this.ids = partyIdentifiers(this.suite, this.participants);
    this.context = dkgContext(opts.sessionId, opts.threshold, this.participants);
    // Polynomial and proof nonce from randomness hedged with the context: a replayed random stream
    // under another session id draws an independent polynomial [5/R-D]. Every message is a function
    // of the polynomial alone, so a repeat of the same context only repeats them.
    this.rng = setupRng(opts.rng ?? systemRng, 'tessera/frost/dkg', this.context, opts.self);
    this.others = this.participants.filter((p) => p !== opts.self);
  }

  protected expect(round: number): RoundExpectation {
    return round === 2 ? { broadcast: [], direct: this.others } : { broadcast: this.others, direct: [] };
  }

  /**
   * The share this party validated in round 2, before the confirmation round: present once the
   * party's own checks passed, whether it then finished, aborted in the confirmation round (a peer
   * complained or confirmed another package) or still waits for confirmations. It is NOT wiped
   * when only the confirmation round fails: the node layer may store it as a pending vault version
   * and activate it only once every member's confirmation is known, or discard it (dispose it).
   * Undefined before round 2 completed or if the party's own checks failed.
   */
  pendingResult(): FrostKeyShare | undefined {
    return this.pending;
  }

  protected begin(): Outgoing[] {
    const g = this.group;
    this.coeffs = samplePolynomial(g, this.threshold, this.rng);
    const C = commitPolynomial(g, this.coeffs);
    const proof = proveKnowledge(this.suite, this.context, this.ids.get(this.self)!, this.coeffs[0]!, C[0]!, this.rng);
    this.commitments.set(this.self, C);
    const w = new ByteWriter().tag(R1_TAG).u16(C.length);
    for (const c of C) w.raw(g.encodePoint(c));
    const payload = w.raw(proof).finish();
    this.ownR1 = payload;
    return [{ to: null, payload }];
  }
  private ownR1: Uint8Array = new Uint8Array(0);

  protected process(round: number, inbox: RoundInbox): RoundStep<FrostKeyShare> {
    if (round === 1) return this.round1(inbox);
    if (round === 2) {
      try {
        return this.round2(inbox);
      } catch (e) {
        // Tell everyone (a complaint in place of the confirmation) so that nobody finishes without us.
        if (e instanceof ProtocolAbortedError)
          throw this.withOutbound(e, 3, [{ to: null, payload: this.complaint(e.blame) }]);
        throw e;
      }
    }
    return this.round3(inbox);
  }

  private complaint(blame: readonly string[]): Uint8Array {
    const idx = [...new Set(blame)]
      .map((p) => this.participants.indexOf(p))
      .filter((i) => i >= 0 && this.participants[i] !== this.self);
    idx.sort((a, b) => a - b);
    const w = new ByteWriter().tag(COMPLAINT_TAG).u16(idx.length);
    for (const i of idx) w.u16(i);
    return w.finish();
  }

  private round3(inbox: RoundInbox): RoundStep<FrostKeyShare> {
    const complainers: string[] = [];
    const accused = new Set<string>();
    const mismatched: string[] = [];
    for (const p of this.others) {
      const payload = inbox.broadcast.get(p)!;
      const msg = this.parse(p, 'DKG confirmation', () => {
        const r = new ByteReader(payload);
        const tag = r.str(64);
        if (tag === CONFIRM_TAG) {
          const digest = r.raw(32);
          r.end();
          return { digest };
        }
        if (tag !== COMPLAINT_TAG) throw new ProtocolAbortedError('malformed DKG confirmation', [p]);
        const count = r.u16();
        const named: string[] = [];
        let last = -1;
        for (let i = 0; i < count; i++) {
          const k = r.u16();
          const q = this.participants[k];
          if (k <= last || q === undefined || q === p) throw new ProtocolAbortedError('malformed DKG complaint', [p]);
          last = k;
          named.push(q);
        }
        r.end();
        return { named };
      });
      if (msg.digest) {
        if (!bytesEqual(msg.digest, this.confirmDigest)) mismatched.push(p);
      } else {
        complainers.push(p);
        for (const q of msg.named ?? []) accused.add(q);
      }
    }
    const order = (xs: Iterable<string>) => this.participants.filter((q) => q !== this.self && [...xs].includes(q));
    if (complainers.length > 0) {
      // Direct messages are unsigned: this party cannot tell a cheating dealer from a false complaint.
      throw new ProtocolAbortedError(
        'a participant reported a failed DKG check (complaint)',
        order([...complainers, ...accused, ...mismatched]),
      );
    }
    if (mismatched.length > 0)
      throw new ProtocolAbortedError('a participant confirmed a different key package', mismatched);
    return { result: this.pending! };
  }

  private round1(inbox: RoundInbox): RoundStep<FrostKeyShare> {
    const g = this.group;
    for (const p of this.others) {
      const payload = inbox.broadcast.get(p)!;
      const { C, proof } = this.parse(p, 'DKG commitment package', () => {
        const r = new ByteReader(payload);
        r.expectTag(R1_TAG);
        const count = r.u16();
        if (count !== this.threshold + 1) throw new ProtocolAbortedError('commitment has the wrong degree', [p]);
        const C: Point[] = [];
        for (let i = 0; i < count; i++) C.push(g.decodePoint(r.raw(g.pointLength)));
        const proof = r.raw(g.pointLength + g.scalarLength);
        r.end();
        return { C, proof };
      });
      if (!verifyKnowledge(this.suite, this.context, this.ids.get(p)!, C[0]!, proof)) {
        throw new ProtocolAbortedError('invalid proof of knowledge (or a package from another session)', [p]);
      }
      this.commitments.set(p, C);
    }
    const all = new Map(inbox.broadcast);
    all.set(this.self, this.ownR1);
    this.myEcho = echoVector(this.sessionId, 1, this.participants, all);
    const out: Outgoing[] = [];
    for (const p of this.others) {
      const share = g.encodeScalar(evalPolynomial(g, this.coeffs, this.ids.get(p)!));
      try {
        out.push({ to: p, payload: new ByteWriter().tag(R2_TAG).bytes(this.myEcho).raw(share).finish() });
      } finally {
        share.fill(0);
      }
    }
    this.ownShare = evalPolynomial(g, this.coeffs, this.ids.get(this.self)!);
    this.coeffs.fill(0n);
    this.coeffs = [];
    return { send: out };
  }

  private round2(inbox: RoundInbox): RoundStep<FrostKeyShare> {
    const g = this.group;
    const parsed = new Map<string, bigint>();
    const echoes = new EchoCollector(this.self, this.participants, this.myEcho);
    for (const p of this.others) {
      const payload = inbox.direct.get(p)!;
      const { echo, share } = this.parse(p, 'DKG share package', () => {
        const r = new ByteReader(payload);
        r.expectTag(R2_TAG);
        const echo = r.bytes(32 * this.participants.length);
        const raw = r.raw(g.scalarLength);
        try {
          const share = g.decodeScalar(raw);
          r.end();
          return { echo, share };
        } finally {
          raw.fill(0);
        }
      });
      payload.fill(0); // the inbox copy of a secret share
      echoes.add(p, echo);
      parsed.set(p, share);
    }
    echoes.verdict();
    const myId = this.ids.get(this.self)!;
    const bad: string[] = [];
    for (const p of this.others) {
      if (!g.equals(g.baseMul(parsed.get(p)!), evalCommitment(g, this.commitments.get(p)!, myId))) bad.push(p);
    }
    if (bad.length > 0) throw new ProtocolAbortedError('secret share does not match the dealer commitment', bad);
    let secret = this.ownShare;
    for (const s of parsed.values()) secret = mod(secret + s, g.order);
    this.ownShare = 0n;
    const summed: Point[] = [];
    for (let k = 0; k <= this.threshold; k++) {
      let acc = g.identity;
      for (const p of this.participants) acc = g.add(acc, this.commitments.get(p)![k]!);
      summed.push(acc);
    }
    if (g.isIdentity(summed[0]!)) throw new ProtocolAbortedError('group public key is the identity', []);
    const yPoints = new Map<string, Point>();
    const verifyingShares = new Map<string, Uint8Array>();
    for (const p of this.participants) {
      const y = evalCommitment(g, summed, this.ids.get(p)!);
      if (g.isIdentity(y)) throw new ProtocolAbortedError('a verifying share is the identity', []);
      yPoints.set(p, y);
      verifyingShares.set(p, g.encodePoint(y));
    }
    const secretBytes = g.encodeScalar(secret);
    try {
      const share = shareFromComputed(
        {
          keyType: KEY_TYPE,
          version: 1,
          threshold: this.threshold,
          participants: this.participants,
          verifyingShares,
          groupPublicKey: g.encodePoint(summed[0]!),
        },
        { groupPublicKey: summed[0]!, verifyingShares: yPoints },
        this.self,
        secretBytes,
        g,
      );
      this.pending = share;
      this.confirmDigest = taggedHash('sha256', CONFIRM_TAG, this.context, keyPublicDigest(share.public));
      return { send: [this.confirmationMessage(CONFIRM_TAG, this.confirmDigest)] };
    } finally {
      secretBytes.fill(0);
    }
  }

  /** Wipes the secret temporaries. A pending (validated) share is left to the node layer (see pendingResult). */
  protected wipe(): void {
    this.coeffs.fill(0n);
    this.coeffs = [];
    this.ownShare = 0n;
  }
}
