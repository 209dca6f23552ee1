/**
 * Resharing (and refresh) of a FROST key to a new committee, as a {@link RoundProtocol}.
 *
 * A quorum D of at least t+1 holders of version v ("dealers") re-deals the key: dealer i samples a
 * random polynomial f_i of the new degree t' with f_i(0) = λ_i·s_i (λ_i its Lagrange coefficient
 * over D at 0), so Σ_i f_i(0) = Σ λ_i·s_i = s, the unchanged group secret. New member j gets
 * s'_j = Σ_i f_i(x_j), a point of F = Σ f_i (degree t', F(0) = s). Nobody learns s.
 *
 *  round 1: dealer i broadcasts its commitment C_i = [f_i coefficients]·G and sends f_i(x_j) to
 *           each new member j directly. Everyone checks C_i0 = λ_i·Y_i (Y_i = i's verifying share
 *           in the old public package): a dealer that does not re-deal its own share is named. Each
 *           new member checks its share against C_i (Feldman): a bad share names the dealer.
 *  round 2: everyone broadcasts the echo vector of the dealers' commitments (equivocation blamed).
 *           Then C' = Σ C_i; C'_0 must equal the old group key; verifying shares Y'_k = C'(x_k);
 *           each new member builds (and validates) its version v+1 share.
 *           The validated outcome becomes this party's *pending* result ({@link FrostReshareParty.pendingResult}).
 *  round 3: every new member broadcasts a digest of the new public package (its confirmation).
 *  finish:  all confirmations equal this party's own digest. A result means that this party saw
 *           every new member confirm the same package. It is not an agreement: a member that
 *           withholds its confirmation from one peer leaves that peer waiting while the others
 *           finish. So the pending share survives a failed confirmation round, and the node layer
 *           keeps it as a pending version until it holds every member's (signed) confirmation.
 * Refresh = reshare to the same committee. Every message binds a context digest (session id, old
 * key package incl. version, dealers, new committee, new threshold).
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, taggedHash, utf8 } from '../math/hash.js';
import { commitPolynomial, evalCommitment, evalPolynomial, lagrangeCoefficient } from '../math/polynomial.js';
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
import {
  type DecodedKey,
  decodeKeyPublic,
  type FrostKeyPublic,
  type FrostKeyShare,
  KEY_TYPE,
  keyPublicDigest,
  sameKeyPublic,
  shareFromComputed,
} from './key-share.js';
import { ed25519Suite } from './suite.js';

const R1_TAG = 'tessera/frost/reshare/commit/v1';
const SHARE_TAG = 'tessera/frost/reshare/share/v1';
const R2_TAG = 'tessera/frost/reshare/echo/v1';
const R3_TAG = 'tessera/frost/reshare/confirm/v1';

/** Inputs of one party of a reshare. */
export interface ReshareOptions {
  readonly sessionId: string;
  readonly self: string;
  /** The old-version holders that re-deal (at least t+1); a set, order does not matter. */
  readonly dealers: readonly string[];
  /** The new committee (may overlap the old one or not); a set, order does not matter. */
  readonly newParticipants: readonly string[];
  /** New mpcium threshold t' (t'+1 signers). */
  readonly newThreshold: number;
  /** Public package of the old version (a new-only member gets it from the cluster). */
  readonly oldPublic: FrostKeyPublic;
  /** This party's old share; required iff self is a dealer. */
  readonly keyShare?: FrostKeyShare;
  readonly rng?: Rng;
  readonly group?: Group;
}

/** Result of a reshare for one party. */
export interface ReshareResult {
  /** The new public package (version v+1). */
  readonly public: FrostKeyPublic;
  /** The new share, for members of the new committee. */
  readonly share?: FrostKeyShare;
}

/** One party (dealer, new member, or both) of a reshare. Construction throws `InvalidArgumentError`. */
export class FrostReshareParty extends RoundProtocol<ReshareResult> implements KeygenParty<ReshareResult> {
  private readonly group: Group;
  private readonly rng: Rng;
  private readonly dealers: readonly string[];
  private readonly members: readonly string[];
  private readonly newThreshold: number;
  private readonly old: FrostKeyPublic;
  private readonly oldDec: DecodedKey;
  private readonly key: FrostKeyShare | undefined;
  private readonly ids: Map<string, bigint>;
  private readonly context: Uint8Array;
  private readonly isDealer: boolean;
  private readonly isMember: boolean;
  private coeffs: bigint[] = [];
  private readonly commitments = new Map<string, Point[]>();
  private readonly received = new Map<string, bigint>();
  private ownR1: Uint8Array = new Uint8Array(0);
  private myEcho: Uint8Array = new Uint8Array(0);
  private outcome: ReshareResult | undefined;
  private outcomeDigest: Uint8Array = new Uint8Array(0);

  constructor(input: ReshareOptions) {
    // Dealers and the new committee are sets: canonicalised (sorted) so every party runs the same session.
    const opts: ReshareOptions = {
      ...input,
      dealers: [...input.dealers].sort(),
      newParticipants: [...input.newParticipants].sort(),
    };
    const union = [...opts.dealers, ...opts.newParticipants.filter((p) => !opts.dealers.includes(p))];
    super({ sessionId: opts.sessionId, self: opts.self, participants: union }, 3, 256 + 32 * 1024);
    this.group = opts.group ?? getGroup('ed25519');
    const suite = ed25519Suite(this.group);
    const rng = opts.rng ?? systemRng;
    this.old = opts.oldPublic;
    this.oldDec = decodeKeyPublic(opts.oldPublic, this.group);
    const n2 = opts.newParticipants.length;
    if (new Set(opts.dealers).size !== opts.dealers.length)
      throw new InvalidArgumentError('dealer list has duplicates');
    if (new Set(opts.newParticipants).size !== n2) throw new InvalidArgumentError('new committee has duplicates');
    if (opts.dealers.length < opts.oldPublic.threshold + 1)
      throw new InvalidArgumentError('resharing needs at least t+1 dealers of the old version');
    for (const d of opts.dealers)
      if (!opts.oldPublic.participants.includes(d))
        throw new InvalidArgumentError('a dealer does not hold the old version');
    if (!Number.isInteger(opts.newThreshold) || opts.newThreshold < 1 || opts.newThreshold + 1 > n2 || n2 > 1024) {
      throw new InvalidArgumentError("new threshold t' must satisfy 1 ≤ t' and t'+1 ≤ n' ≤ 1024");
    }
    if (opts.oldPublic.version >= 0xffffffff) throw new InvalidArgumentError('version overflow');
    this.dealers = Object.freeze([...opts.dealers]);
    this.members = Object.freeze([...opts.newParticipants]);
    this.newThreshold = opts.newThreshold;
    this.isDealer = opts.dealers.includes(opts.self);
    this.isMember = opts.newParticipants.includes(opts.self);
    if (this.isDealer) {
      const k = opts.keyShare;
      if (!k || k.isDisposed) throw new InvalidArgumentError('a dealer needs its live key share of the old version');
      if (k.self !== opts.self || !sameKeyPublic(k.public, opts.oldPublic))
        throw new InvalidArgumentError('the key share does not belong to this party and old version');
      this.key = k;
    }
    this.ids = partyIdentifiers(suite, union);
    const t = new Uint8Array(2);
    new DataView(t.buffer).setUint16(0, opts.newThreshold);
    this.context = taggedHash(
      'sha256',
      'tessera/frost/reshare/context/v1',
      utf8(opts.sessionId),
      keyPublicDigest(opts.oldPublic),
      new ByteWriter().u16(opts.dealers.length).finish(),
      ...opts.dealers.map(utf8),
      new ByteWriter().u16(n2).finish(),
      ...opts.newParticipants.map(utf8),
      t,
    );
    // Coefficients drawn from randomness hedged with the context and, for a dealer, its old share:
    // a replayed random stream under another session id deals an independent polynomial [5/R-D].
    // Every message is a function of the polynomial alone (no answer to a peer's message depends on
    // a secret), so a repeat of the same context only repeats its messages.
    const secret = this.key ? this.group.encodeScalar(this.key.secretScalar(this.group)) : undefined;
    this.rng = setupRng(rng, 'tessera/frost/reshare', this.context, opts.self, { secret });
    secret?.fill(0);
  }

  private get otherDealers(): string[] {
    return this.dealers.filter((d) => d !== this.self);
  }

  protected expect(round: number): RoundExpectation {
    if (round === 1) return { broadcast: this.otherDealers, direct: this.isMember ? this.otherDealers : [] };
    if (round === 2) return { broadcast: this.participants.filter((p) => p !== this.self), direct: [] };
    return { broadcast: this.members.filter((p) => p !== this.self), direct: [] };
  }

  protected begin(): Outgoing[] {
    if (!this.isDealer) return [];
    const g = this.group;
    const xs = this.dealers.map((d) => this.ids.get(d)!);
    const lambda = lagrangeCoefficient(g, xs, this.ids.get(this.self)!);
    this.coeffs = [mod(lambda * this.key!.secretScalar(g), g.order)];
    for (let k = 1; k <= this.newThreshold; k++) this.coeffs.push(randomScalar(g, this.rng));
    const C = commitPolynomial(g, this.coeffs);
    this.commitments.set(this.self, C);
    const w = new ByteWriter().tag(R1_TAG).raw(this.context).u16(C.length);
    for (const c of C) w.raw(g.encodePoint(c));
    this.ownR1 = w.finish();
    const out: Outgoing[] = [{ to: null, payload: this.ownR1 }];
    for (const m of this.members) {
      const s = evalPolynomial(g, this.coeffs, this.ids.get(m)!);
      if (m === this.self) {
        this.received.set(m, s);
        continue;
      }
      const sb = g.encodeScalar(s);
      try {
        out.push({ to: m, payload: new ByteWriter().tag(SHARE_TAG).raw(this.context).raw(sb).finish() });
      } finally {
        sb.fill(0);
      }
    }
    this.coeffs.fill(0n);
    this.coeffs = [];
    return out;
  }

  protected process(round: number, inbox: RoundInbox): RoundStep<ReshareResult> {
    if (round === 1) return this.round1(inbox);
    if (round === 2) return this.round2(inbox);
    return this.round3(inbox);
  }

  private round3(inbox: RoundInbox): RoundStep<ReshareResult> {
    const others = this.members.filter((m) => m !== this.self);
    this.checkConfirmations(
      inbox,
      others,
      R3_TAG,
      this.outcomeDigest,
      'a new member confirmed a different key package',
    );
    return { result: this.outcome! };
  }

  private round1(inbox: RoundInbox): RoundStep<ReshareResult> {
    const g = this.group;
    const xs = this.dealers.map((d) => this.ids.get(d)!);
    const bad = new Set<string>();
    for (const d of this.otherDealers) {
      const payload = inbox.broadcast.get(d)!;
      const C = this.parse(d, 'reshare commitment', () => {
        const r = new ByteReader(payload);
        r.expectTag(R1_TAG);
        if (!bytesEqual(r.raw(32), this.context))
          throw new ProtocolAbortedError('reshare context mismatch (another session, key version or committee)', [d]);
        const count = r.u16();
        if (count !== this.newThreshold + 1)
          throw new ProtocolAbortedError('reshare commitment has the wrong degree', [d]);
        const C: Point[] = [];
        for (let i = 0; i < count; i++) C.push(g.decodePoint(r.raw(g.pointLength)));
        r.end();
        return C;
      });
      const lambda = lagrangeCoefficient(g, xs, this.ids.get(d)!);
      if (!g.equals(C[0]!, g.mul(this.oldDec.verifyingShares.get(d)!, lambda))) bad.add(d);
      this.commitments.set(d, C);
    }
    if (this.isMember) {
      const x = this.ids.get(this.self)!;
      for (const d of this.otherDealers) {
        const payload = inbox.direct.get(d)!;
        const s = this.parse(d, 'reshare share', () => {
          const r = new ByteReader(payload);
          r.expectTag(SHARE_TAG);
          if (!bytesEqual(r.raw(32), this.context))
            throw new ProtocolAbortedError('reshare context mismatch (another session, key version or committee)', [d]);
          const raw = r.raw(g.scalarLength);
          try {
            const s = g.decodeScalar(raw);
            r.end();
            return s;
          } finally {
            raw.fill(0);
          }
        });
        payload.fill(0); // the inbox copy of a secret share
        if (!g.equals(g.baseMul(s), evalCommitment(g, this.commitments.get(d)!, x))) bad.add(d);
        this.received.set(d, s);
      }
    }
    if (bad.size > 0) throw new ProtocolAbortedError('dealer contribution failed verification', [...bad]);
    const all = new Map(inbox.broadcast);
    if (this.isDealer) all.set(this.self, this.ownR1);
    this.myEcho = echoVector(this.sessionId, 1, this.dealers, all);
    return { send: [{ to: null, payload: new ByteWriter().tag(R2_TAG).bytes(this.myEcho).finish() }] };
  }

  private round2(inbox: RoundInbox): RoundStep<ReshareResult> {
    const g = this.group;
    const echoes = new EchoCollector(this.self, this.dealers, this.myEcho);
    for (const p of this.participants) {
      if (p === this.self) continue;
      const payload = inbox.broadcast.get(p)!;
      const echo = this.parse(p, 'reshare echo', () => {
        const r = new ByteReader(payload);
        r.expectTag(R2_TAG);
        const e = r.bytes(32 * this.dealers.length);
        r.end();
        return e;
      });
      echoes.add(p, echo);
    }
    echoes.verdict();
    const summed: Point[] = [];
    for (let k = 0; k <= this.newThreshold; k++) {
      let acc = g.identity;
      for (const d of this.dealers) acc = g.add(acc, this.commitments.get(d)![k]!);
      summed.push(acc);
    }
    if (!g.equals(summed[0]!, this.oldDec.groupPublicKey))
      throw new ProtocolAbortedError('reshared key differs from the old group key', []);
    const yPoints = new Map<string, Point>();
    const verifyingShares = new Map<string, Uint8Array>();
    for (const m of this.members) {
      const y = evalCommitment(g, summed, this.ids.get(m)!);
      if (g.isIdentity(y)) throw new ProtocolAbortedError('a verifying share is the identity', []);
      yPoints.set(m, y);
      verifyingShares.set(m, g.encodePoint(y));
    }
    const pub: FrostKeyPublic = {
      keyType: KEY_TYPE,
      version: this.old.version + 1,
      threshold: this.newThreshold,
      participants: this.members,
      verifyingShares,
      groupPublicKey: Uint8Array.from(this.old.groupPublicKey),
    };
    const confirm = (result: ReshareResult): RoundStep<ReshareResult> => {
      this.outcome = result;
      this.outcomeDigest = taggedHash(
        'sha256',
        'tessera/frost/reshare/confirm/v1',
        this.context,
        keyPublicDigest(result.public),
      );
      if (!this.isMember) return { send: [] };
      return { send: [this.confirmationMessage(R3_TAG, this.outcomeDigest)] };
    };
    if (!this.isMember) {
      decodeKeyPublic(pub, g);
      return confirm({ public: pub });
    }
    let s = 0n;
    for (const d of this.dealers) s = mod(s + this.received.get(d)!, g.order);
    this.received.clear();
    const bytes = g.encodeScalar(s);
    try {
      const share = shareFromComputed(
        pub,
        { groupPublicKey: this.oldDec.groupPublicKey, verifyingShares: yPoints },
        this.self,
        bytes,
        g,
      );
      return confirm({ public: share.public, share });
    } finally {
      bytes.fill(0);
    }
  }

  /**
   * The outcome this party validated in round 2 (new public package, and the new share for a new
   * member), before the confirmation round: present once its own checks passed, whether it then
   * finished, aborted in the confirmation round or still waits for confirmations. It is NOT wiped
   * when only the confirmation round fails: a member that withholds its confirmation must not make
   * an honest member lose a valid version v+1 share that the others activate. The node layer stores
   * the share as a pending vault version, activates it once every new member's confirmation is
   * known (docs/tss.md §4), or disposes it when the reshare is abandoned. Undefined before round 2
   * completed or if this party's own checks failed.
   */
  pendingResult(): ReshareResult | undefined {
    return this.outcome;
  }

  /** Wipes the secret temporaries. A pending (validated) outcome is left to the node layer (see pendingResult). */
  protected wipe(): void {
    this.coeffs.fill(0n);
    this.coeffs = [];
    this.received.clear();
  }
}
