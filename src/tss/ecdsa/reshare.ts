/**
 * Resharing and refresh of a threshold ECDSA key, as a six-round {@link RoundProtocol} among the
 * union of the dealers (≥ t+1 holders of version v) and the new committee (any n′, t′; overlapping
 * or disjoint). The group key is unchanged; the new committee gets fresh Shamir shares of the same
 * secret, fresh pairwise OT state and fresh zero-sharing seeds: version v+1. Refresh = reshare to
 * the same committee and threshold.
 *
 * Maths as FROST's reshare (docs/tss.md §4): dealer i deals f_i of degree t′ with
 * f_i(0) = λ_i·s_i (λ_i its Lagrange coefficient over the dealers); F = Σ f_i has F(0) = s.
 *
 *  1 broadcast (dealers): ctx ‖ Feldman commitment C_i to f_i.
 *    direct: dealer → new member: f_i(x_j); new member ↔ new member: OT setup flight 1 and
 *            zero-seed commitment (one payload per sender and recipient, fields by role).
 *  2 broadcast (everyone): echo of the dealers' commitments.
 *    direct (new ↔ new): OT flight 2, zero-seed opening.
 *  3–5 direct (new ↔ new): OT flights 3–5.
 *    After flight 5 the outcome is complete and validated: the *pending* result
 *    ({@link EcdsaReshareParty.pendingResult}).
 *  6 broadcast (new members): confirmation H(ctx, new public package digest).
 *
 * Checks: context equal (blame sender); C_i,0 = λ_i·Y_i with Y_i the dealer's old public share
 * (a dealer re-dealing anything but its own share is named); f_i(x_j)·G = C_i(x_j) (bad dealers
 * named together); echo; Σ C_i,0 = PK; OT and zero-seed checks (blame the peer); every new member
 * confirmed the same package (blame the confirming party otherwise). A party returns only when
 * every new member confirmed *to it*. Confirmations can be withheld from some parties, so one
 * party's result does not prove that every member finished: the node activates version v+1 only
 * once every new member's (signed) confirmation is known, and retires v only after that; a party
 * that aborted in the confirmation round keeps its validated outcome as `pendingResult()`.
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, taggedHash } from '../math/hash.js';
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
import { claimSetupContext, claimSetupStep, type SetupLog } from '../session/signing-log.js';
import { withOtAbort } from './abort.js';
import {
  decodeEcdsaKeyPublic,
  ECDSA_KEY_TYPE,
  type EcdsaKeyPublic,
  EcdsaKeyShare,
  ecdsaIdentifiers,
  ecdsaKeyPublicDigest,
  ecdsaLagrange,
} from './key-share.js';
import { type PairwiseOt, PairwiseOtSetup } from './pairwise.js';
import { ZeroSeedPairSetup } from './zero-share.js';

const R1B_TAG = 'tessera/ecdsa/reshare/r1b/v1';
const R1D_TAG = 'tessera/ecdsa/reshare/r1d/v1';
const R2B_TAG = 'tessera/ecdsa/reshare/r2b/v1';
const R2D_TAG = 'tessera/ecdsa/reshare/r2d/v1';
const ROT_TAG = 'tessera/ecdsa/reshare/ot/v1';
const R6_TAG = 'tessera/ecdsa/reshare/confirm/v1';

/** Inputs of one party (dealer, new member, or both). */
export interface EcdsaReshareOptions {
  readonly sessionId: string;
  readonly self: string;
  /** ≥ t+1 holders of the old version (same order everywhere). */
  readonly dealers: readonly string[];
  /** The new committee (same order everywhere). */
  readonly newParticipants: readonly string[];
  /** New mpcium threshold t′ (t′+1 signers). */
  readonly newThreshold: number;
  /** The old public package (a new-only member obtains it from the cluster). */
  readonly oldPublic: EcdsaKeyPublic;
  /** This party's old share, if it is a dealer. */
  readonly keyShare?: EcdsaKeyShare;
  /**
   * The node's durable setup log (the vault's `claimSetupContext`): the reshare claims its context
   * before drawing any secret and a marker before each step that answers a peer's OT message (see
   * `EcdsaDkgOptions.setupLog`) [5/R-D].
   */
  readonly setupLog: SetupLog;
  readonly rng?: Rng;
}

/** Outcome: the new public package, and the new share for members of the new committee. */
export interface EcdsaReshareResult {
  readonly public: EcdsaKeyPublic;
  readonly share: EcdsaKeyShare | undefined;
}

/**
 * Reshare context: session, old package digest, dealers, new committee and t′ (each list
 * length-prefixed). Does not throw.
 */
export function ecdsaReshareContext(
  sessionId: string,
  oldDigest: Uint8Array,
  dealers: readonly string[],
  newParticipants: readonly string[],
  newThreshold: number,
): Uint8Array {
  const w = new ByteWriter().str(sessionId).raw(oldDigest).u16(dealers.length);
  for (const d of dealers) w.str(d);
  w.u16(newParticipants.length);
  for (const p of newParticipants) w.str(p);
  return taggedHash('sha256', 'tessera/ecdsa/reshare/context/v1', w.u16(newThreshold).finish());
}

/** One party of a reshare. Construction throws `InvalidArgumentError` / `InvalidStateError`. */
export class EcdsaReshareParty extends RoundProtocol<EcdsaReshareResult> implements KeygenParty<EcdsaReshareResult> {
  private readonly g: Group = getGroup('secp256k1');
  private readonly dealers: readonly string[];
  private readonly newMembers: readonly string[];
  private readonly t2: number;
  private readonly oldPublic: EcdsaKeyPublic;
  private readonly oldShares: Map<string, Point>;
  private readonly oldKey: Point;
  private readonly ctx: Uint8Array;
  private readonly rng: Rng;
  private readonly setupLog: SetupLog;
  private readonly newIds: Map<string, bigint>;
  private readonly isDealer: boolean;
  private readonly isNew: boolean;
  private readonly keyShare: EcdsaKeyShare | undefined;
  private coeffs: bigint[] = [];
  private ownR1: Uint8Array = new Uint8Array(0);
  private myEcho: Uint8Array = new Uint8Array(0);
  private readonly commitments = new Map<string, Point[]>();
  private readonly dealt = new Map<string, bigint>();
  private secret = 0n;
  private pub: EcdsaKeyPublic | undefined;
  private confirmDigest: Uint8Array = new Uint8Array(0);
  private pending: EcdsaReshareResult | undefined;
  private readonly otSetups = new Map<string, PairwiseOtSetup>();
  private readonly zeroSetups = new Map<string, ZeroSeedPairSetup>();
  private readonly zeroSeeds = new Map<string, Uint8Array>();
  private readonly pairs = new Map<string, PairwiseOt>();

  constructor(opts: EcdsaReshareOptions) {
    const union = [...opts.dealers, ...opts.newParticipants.filter((p) => !opts.dealers.includes(p))];
    super({ sessionId: opts.sessionId, self: opts.self, participants: union }, 6, 64 * 1024 + 33 * 1024);
    const g = this.g;
    const old = opts.oldPublic;
    const decoded = decodeEcdsaKeyPublic(old);
    if (new Set(opts.dealers).size !== opts.dealers.length || opts.dealers.length < old.threshold + 1)
      throw new InvalidArgumentError('need at least t+1 distinct dealers');
    for (const d of opts.dealers)
      if (!old.participants.includes(d))
        throw new InvalidArgumentError('a dealer is not a member of the old committee');
    const n2 = opts.newParticipants.length;
    if (n2 < 2 || n2 > 1024 || new Set(opts.newParticipants).size !== n2)
      throw new InvalidArgumentError('invalid new committee');
    if (!Number.isInteger(opts.newThreshold) || opts.newThreshold < 1 || opts.newThreshold + 1 > n2)
      throw new InvalidArgumentError('new threshold t′ must satisfy 1 ≤ t′ and t′+1 ≤ n′');
    this.isDealer = opts.dealers.includes(opts.self);
    this.isNew = opts.newParticipants.includes(opts.self);
    if (this.isDealer) {
      const k = opts.keyShare;
      if (!k) throw new InvalidArgumentError('a dealer needs its old key share');
      if (k.isDisposed) throw new InvalidStateError('key share was disposed');
      if (k.self !== opts.self || !bytesEqual(ecdsaKeyPublicDigest(k.public), ecdsaKeyPublicDigest(old)))
        throw new InvalidArgumentError('key share does not belong to this party and key version');
    }
    if (old.version >= 0xffffffff) throw new InvalidArgumentError('key version exhausted');
    this.keyShare = opts.keyShare;
    this.dealers = Object.freeze([...opts.dealers]);
    this.newMembers = Object.freeze([...opts.newParticipants]);
    this.t2 = opts.newThreshold;
    this.oldPublic = old;
    this.oldShares = decoded.shares;
    this.oldKey = decoded.groupKey;
    this.newIds = ecdsaIdentifiers(g, opts.newParticipants);
    if (typeof opts.setupLog?.claim !== 'function')
      throw new InvalidArgumentError("a reshare party needs the node's setup log (setupLog)");
    this.setupLog = opts.setupLog;
    this.ctx = ecdsaReshareContext(
      opts.sessionId,
      ecdsaKeyPublicDigest(old),
      opts.dealers,
      opts.newParticipants,
      opts.newThreshold,
    );
    // A dealer's randomness is hedged with its old share as well as the context, so a replayed
    // random stream under another context deals independent secrets [5/R-D].
    const secret = this.isDealer ? g.encodeScalar(opts.keyShare!.secretScalar()) : undefined;
    this.rng = setupRng(opts.rng ?? systemRng, 'tessera/ecdsa/reshare', this.ctx, opts.self, { secret });
    secret?.fill(0);
  }

  private othersIn(list: readonly string[]): string[] {
    return list.filter((p) => p !== this.self);
  }

  protected expect(round: number): RoundExpectation {
    const dealers = this.othersIn(this.dealers);
    const news = this.isNew ? this.othersIn(this.newMembers) : [];
    switch (round) {
      case 1:
        return { broadcast: dealers, direct: this.isNew ? [...new Set([...dealers, ...news])] : [] };
      case 2:
        return { broadcast: this.othersIn(this.participants), direct: news };
      case 6:
        return { broadcast: this.othersIn(this.newMembers), direct: [] };
      default:
        return { broadcast: [], direct: news };
    }
  }

  protected begin(): Outgoing[] {
    claimSetupContext(this.setupLog, this.ctx);
    const g = this.g;
    const out: Outgoing[] = [];
    if (this.isDealer) {
      const lambda = ecdsaLagrange(g, this.dealers, this.self);
      this.coeffs = [mod(lambda * this.keyShare!.secretScalar(), g.order)];
      for (let k = 1; k <= this.t2; k++) this.coeffs.push(randomScalar(g, this.rng));
      const C = commitPolynomial(g, this.coeffs);
      this.commitments.set(this.self, C);
      const w = new ByteWriter().tag(R1B_TAG).raw(this.ctx).u16(C.length);
      for (const c of C) w.raw(g.encodePoint(c));
      this.ownR1 = w.finish();
      out.push({ to: null, payload: this.ownR1 });
    }
    for (const j of this.newMembers) {
      if (j === this.self) continue;
      const w = new ByteWriter().tag(R1D_TAG).raw(this.ctx);
      const share = this.isDealer;
      const ot = this.isNew;
      if (!share && !ot) continue;
      w.u8(share ? 1 : 0);
      if (share) w.raw(g.encodeScalar(evalPolynomial(g, this.coeffs, this.newIds.get(j)!)));
      w.u8(ot ? 1 : 0);
      if (ot) {
        const s = new PairwiseOtSetup({ setupId: this.ctx, selfId: this.self, peerId: j }, this.rng);
        const z = new ZeroSeedPairSetup({ sessionId: this.ctx, selfId: this.self, peerId: j }, this.rng);
        this.otSetups.set(j, s);
        this.zeroSetups.set(j, z);
        w.bytes(s.round(1)).bytes(z.commitMessage());
      }
      out.push({ to: j, payload: w.finish() });
    }
    if (this.isDealer && this.isNew)
      this.dealt.set(this.self, evalPolynomial(g, this.coeffs, this.newIds.get(this.self)!));
    return out;
  }

  protected process(round: number, inbox: RoundInbox): RoundStep<EcdsaReshareResult> {
    // Rounds 1–4 answer the peers' OT flights with this party's fixed secrets: each once, durably.
    if (round <= 4) claimSetupStep(this.setupLog, this.ctx, round + 1);
    switch (round) {
      case 1:
        return this.round1(inbox);
      case 2:
        return this.round2(inbox);
      case 3:
      case 4:
        return { send: this.otRound(round, inbox) };
      case 5:
        return this.round5(inbox);
      default:
        return this.round6(inbox);
    }
  }

  private round1(inbox: RoundInbox): RoundStep<EcdsaReshareResult> {
    const g = this.g;
    const wrongConstant: string[] = [];
    for (const d of this.othersIn(this.dealers)) {
      const C = this.parse(d, 'reshare commitment', () => {
        const r = new ByteReader(inbox.broadcast.get(d)!);
        r.expectTag(R1B_TAG);
        if (!bytesEqual(r.raw(32), this.ctx))
          throw new ProtocolAbortedError('reshare context differs (another session, key version or committee)', [d]);
        const count = r.u16();
        if (count !== this.t2 + 1) throw new ProtocolAbortedError('commitment has the wrong degree', [d]);
        const C: Point[] = [];
        for (let i = 0; i < count; i++) C.push(g.decodePoint(r.raw(33)));
        r.end();
        return C;
      });
      const lambda = ecdsaLagrange(g, this.dealers, d);
      if (!g.equals(C[0]!, g.mul(this.oldShares.get(d)!, lambda))) wrongConstant.push(d);
      this.commitments.set(d, C);
    }
    if (wrongConstant.length > 0)
      throw new ProtocolAbortedError('a dealer did not re-deal its own share (wrong constant term)', wrongConstant);
    const all = new Map<string, Uint8Array>();
    for (const d of this.othersIn(this.dealers)) all.set(d, inbox.broadcast.get(d)!);
    if (this.isDealer) all.set(this.self, this.ownR1);
    this.myEcho = echoVector(this.sessionId, 1, this.dealers, all);
    const out: Outgoing[] = [
      { to: null, payload: new ByteWriter().tag(R2B_TAG).raw(this.ctx).bytes(this.myEcho).finish() },
    ];
    if (!this.isNew) return { send: out };
    for (const p of this.expect(1).direct) {
      const fromDealer = this.dealers.includes(p);
      const fromNew = this.newMembers.includes(p);
      const v = this.parse(p, 'reshare direct message', () => {
        const r = new ByteReader(inbox.direct.get(p)!);
        r.expectTag(R1D_TAG);
        if (!bytesEqual(r.raw(32), this.ctx))
          throw new ProtocolAbortedError('reshare context differs (another session, key version or committee)', [p]);
        if (r.u8() !== (fromDealer ? 1 : 0)) throw new ProtocolAbortedError('malformed reshare direct message', [p]);
        const share = fromDealer ? g.decodeScalar(r.raw(32)) : undefined;
        if (r.u8() !== (fromNew ? 1 : 0)) throw new ProtocolAbortedError('malformed reshare direct message', [p]);
        const ot = fromNew ? r.bytes(64 * 1024) : undefined;
        const zero = fromNew ? r.bytes(64) : undefined;
        r.end();
        return { share, ot, zero };
      });
      if (v.share !== undefined) this.dealt.set(p, v.share);
      if (!fromNew) continue;
      const z = this.zeroSetups.get(p)!;
      withOtAbort(p, 'zero-sharing commitment', () => z.onPeerCommitment(v.zero!));
      const ot2 = withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.round(2, v.ot!));
      out.push({
        to: p,
        payload: new ByteWriter().tag(R2D_TAG).raw(this.ctx).bytes(ot2).bytes(z.openingMessage()).finish(),
      });
    }
    return { send: out };
  }

  private round2(inbox: RoundInbox): RoundStep<EcdsaReshareResult> {
    const g = this.g;
    const echoes = new EchoCollector(this.self, this.dealers, this.myEcho);
    for (const p of this.othersIn(this.participants)) {
      const echo = this.parse(p, 'reshare echo', () => {
        const r = new ByteReader(inbox.broadcast.get(p)!);
        r.expectTag(R2B_TAG);
        this.expectContext(r, p);
        const e = r.bytes(32 * this.dealers.length);
        r.end();
        return e;
      });
      echoes.add(p, echo);
    }
    echoes.verdict();
    this.coeffs.fill(0n);
    this.coeffs = [];
    // Per-dealer checks first: a rushing dealer that shapes its commitment so that the package is
    // degenerate (a public share at the identity) cannot also deal this member a share that matches
    // it, so it is named here instead of causing an abort that names no one below [3/R-4]. (A party
    // that receives no shares — an old-only dealer — or is not the targeted member cannot attribute
    // that case; it aborts without blame while the targeted member names the dealer.)
    if (this.isNew) {
      const myX = this.newIds.get(this.self)!;
      const bad = this.dealers.filter(
        (d) => !g.equals(g.baseMul(this.dealt.get(d)!), evalCommitment(g, this.commitments.get(d)!, myX)),
      );
      if (bad.length > 0) throw new ProtocolAbortedError('secret share does not match the dealer commitment', bad);
    }
    // New public package: C′ = Σ C_i, C′_0 = PK, Y′_k = C′(x_k).
    const summed: Point[] = [];
    for (let k = 0; k <= this.t2; k++) {
      let acc = g.identity;
      for (const d of this.dealers) acc = g.add(acc, this.commitments.get(d)![k]!);
      summed.push(acc);
    }
    if (!g.equals(summed[0]!, this.oldKey))
      throw new ProtocolAbortedError('the dealt polynomials do not share the group key', []);
    const publicShares = new Map<string, Uint8Array>();
    for (const p of this.newMembers) {
      const y = evalCommitment(g, summed, this.newIds.get(p)!);
      if (g.isIdentity(y)) throw new ProtocolAbortedError('a public share is the identity', []);
      publicShares.set(p, g.encodePoint(y));
    }
    this.pub = {
      keyType: ECDSA_KEY_TYPE,
      version: this.oldPublic.version + 1,
      threshold: this.t2,
      participants: this.newMembers,
      publicShares,
      groupPublicKey: Uint8Array.from(this.oldPublic.groupPublicKey),
    };
    this.confirmDigest = taggedHash(
      'sha256',
      'tessera/ecdsa/reshare/confirmation/v1',
      this.ctx,
      ecdsaKeyPublicDigest(this.pub),
    );
    if (!this.isNew) return { send: [] };
    let s = 0n;
    for (const d of this.dealers) s = mod(s + this.dealt.get(d)!, g.order);
    this.dealt.clear();
    if (s === 0n || !g.equals(g.baseMul(s), g.decodePoint(publicShares.get(this.self)!)))
      throw new ProtocolAbortedError('own new share does not match the public package', []);
    this.secret = s;
    const out: Outgoing[] = [];
    for (const p of this.othersIn(this.newMembers)) {
      const v = this.parse(p, 'reshare setup message', () => {
        const r = new ByteReader(inbox.direct.get(p)!);
        r.expectTag(R2D_TAG);
        this.expectContext(r, p);
        const ot = r.bytes(64 * 1024);
        const opening = r.bytes(128);
        r.end();
        return { ot, opening };
      });
      this.zeroSeeds.set(
        p,
        withOtAbort(p, 'zero-sharing opening', () => this.zeroSetups.get(p)!.finish(v.opening)),
      );
      const ot3 = withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.round(3, v.ot));
      out.push({ to: p, payload: new ByteWriter().tag(ROT_TAG).raw(this.ctx).bytes(ot3).finish() });
    }
    return { send: out };
  }

  /** Every payload carries the context: a message replayed from another session is refused (blame its sender). */
  private expectContext(r: ByteReader, from: string): void {
    if (!bytesEqual(r.raw(32), this.ctx))
      throw new ProtocolAbortedError('reshare context differs (another session, key version or committee)', [from]);
  }

  private readOt(p: string, inbox: RoundInbox): Uint8Array {
    return this.parse(p, 'reshare OT message', () => {
      const r = new ByteReader(inbox.direct.get(p)!);
      r.expectTag(ROT_TAG);
      this.expectContext(r, p);
      const m = r.bytes(64 * 1024);
      r.end();
      return m;
    });
  }

  private otRound(round: number, inbox: RoundInbox): Outgoing[] {
    if (!this.isNew) return [];
    return this.othersIn(this.newMembers).map((p) => {
      const m = this.readOt(p, inbox);
      const next = withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.round(round + 1, m));
      return { to: p, payload: new ByteWriter().tag(ROT_TAG).raw(this.ctx).bytes(next).finish() };
    });
  }

  private round5(inbox: RoundInbox): RoundStep<EcdsaReshareResult> {
    if (!this.isNew) {
      this.pending = { public: this.pub!, share: undefined };
      return { send: [] };
    }
    for (const p of this.othersIn(this.newMembers)) {
      const m = this.readOt(p, inbox);
      this.pairs.set(
        p,
        withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.finish(m)),
      );
    }
    this.otSetups.clear();
    const share = EcdsaKeyShare.assemble(this.pub!, this.self, this.secret, this.ctx, this.zeroSeeds, this.pairs);
    this.pending = { public: share.public, share };
    this.pairs.clear();
    this.zeroSeeds.clear();
    this.secret = 0n;
    return { send: [this.confirmationMessage(R6_TAG, this.confirmDigest)] };
  }

  /**
   * The outcome this party validated before the confirmation round: the new public package and,
   * for a new member, its complete new key share. Present from then on, whether the party then
   * finished, aborted in the confirmation round or still waits; NOT wiped by such an abort, so the
   * node can keep it as a pending vault version and activate it once every new member's
   * confirmation is known, or dispose of it. Undefined before the party's own checks all passed.
   */
  pendingResult(): EcdsaReshareResult | undefined {
    return this.pending;
  }

  private round6(inbox: RoundInbox): RoundStep<EcdsaReshareResult> {
    this.checkConfirmations(
      inbox,
      this.othersIn(this.newMembers),
      R6_TAG,
      this.confirmDigest,
      'a new member confirmed a different key package',
    );
    return { result: this.pending! };
  }

  /**
   * Wipes the secret temporaries and abandons unfinished OT setups. A pending (validated) outcome
   * is left to the node layer (see pendingResult).
   */
  protected wipe(): void {
    this.coeffs.fill(0n);
    this.coeffs = [];
    this.secret = 0n;
    this.dealt.clear();
    for (const s of this.zeroSeeds.values()) s.fill(0);
    this.zeroSeeds.clear();
    for (const p of this.pairs.values()) p.burn();
    this.pairs.clear();
    for (const st of this.otSetups.values()) st.abandon();
    this.otSetups.clear();
    for (const z of this.zeroSetups.values()) z.abandon();
    this.zeroSetups.clear();
  }
}
