/**
 * Threshold ECDSA (DKLs23) distributed key generation for t+1 of n (mpcium semantics), as a
 * six-round {@link RoundProtocol}:
 *
 *  1 broadcast: Feldman commitment C_i = [a_i0·G … a_it·G] and a Schnorr proof of knowledge of a_i0
 *              (challenge bound to the context: session id, t, ordered participants, own id).
 *    direct:   pairwise OT setup flight 1 and the zero-sharing seed commitment, to each peer.
 *  2 direct:   echo of the round-1 broadcasts, the Shamir share f_i(x_j), OT flight 2, the
 *              zero-sharing seed opening.
 *  3–5 direct: OT flights 3, 4, 5 (both directions interleaved, `PairwiseOtSetup`).
 *              After flight 5 the party's share is complete and validated: its *pending* result
 *              ({@link EcdsaDkgParty.pendingResult}).
 *  6 broadcast: confirmation — digest of (context, public key package); a party returns a result
 *              only if every party confirmed the same package, i.e. every pair setup succeeded.
 *              Confirmations can be withheld from some parties (no broadcast protocol prevents
 *              it), so an abort here keeps the pending share: the node activates it only once
 *              every member's confirmation is known, or disposes of it.
 *
 * Checks: proof of knowledge (blame the dealer), echo (equivocation), Feldman share check (blame
 * every bad dealer), zero-seed opening against its commitment, every OT check (blame the peer),
 * confirmation mismatch (blame the confirming party). Result: a version-1 {@link EcdsaKeyShare}.
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, taggedHash, utf8 } from '../math/hash.js';
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
  ECDSA_KEY_TYPE,
  type EcdsaKeyPublic,
  EcdsaKeyShare,
  ecdsaIdentifiers,
  ecdsaKeyPublicDigest,
} from './key-share.js';
import { type PairwiseOt, PairwiseOtSetup } from './pairwise.js';
import { ZeroSeedPairSetup } from './zero-share.js';

const R1B_TAG = 'tessera/ecdsa/dkg/r1b/v1';
const R1D_TAG = 'tessera/ecdsa/dkg/r1d/v1';
const R2_TAG = 'tessera/ecdsa/dkg/r2/v1';
const ROT_TAG = 'tessera/ecdsa/dkg/ot/v1';
const R6_TAG = 'tessera/ecdsa/dkg/confirm/v1';

/** Inputs of one party's DKG. */
export interface EcdsaDkgOptions {
  readonly sessionId: string;
  readonly self: string;
  /** Ordered committee (every party passes the same order). */
  readonly participants: readonly string[];
  /** mpcium threshold t: t+1 parties will be able to sign; 1 ≤ t, t+1 ≤ n. */
  readonly threshold: number;
  /**
   * The node's durable setup log (the vault's `claimSetupContext`): the DKG claims its context
   * before drawing any secret and a marker before each step that answers a peer's OT message, so a
   * repeated session id or a process resumed from a mid-session snapshot aborts instead of
   * answering twice from the same secrets [5/R-D]. `MemorySigningLog` in tests.
   */
  readonly setupLog: SetupLog;
  readonly rng?: Rng;
}

/** Session context bound into every hash of the DKG (and the OT / zero-seed setups). Does not throw. */
export function ecdsaDkgContext(sessionId: string, threshold: number, participants: readonly string[]): Uint8Array {
  const t = new Uint8Array(2);
  new DataView(t.buffer).setUint16(0, threshold);
  return taggedHash('sha256', 'tessera/ecdsa/dkg/context/v1', utf8(sessionId), t, ...participants.map(utf8));
}

function pokChallenge(g: Group, ctx: Uint8Array, id: string, c0: Point, R: Point): bigint {
  return g.reduceBytes(
    taggedHash('sha256', 'tessera/ecdsa/dkg/pok/v1', ctx, utf8(id), g.encodePoint(c0), g.encodePoint(R)),
  );
}

/** Schnorr proof of knowledge of a0 with C0 = a0·G, bound to ctx and the prover's id: R ‖ μ. */
export function provePok(g: Group, ctx: Uint8Array, id: string, a0: bigint, c0: Point, rng: Rng): Uint8Array {
  const k = randomScalar(g, rng);
  const R = g.baseMul(k);
  const c = pokChallenge(g, ctx, id, c0, R);
  return new ByteWriter()
    .raw(g.encodePoint(R))
    .raw(g.encodeScalar(mod(k + a0 * c, g.order)))
    .finish();
}

/** Verifies a proof of knowledge; false on any malformed or wrong proof (never throws). */
export function verifyPok(g: Group, ctx: Uint8Array, id: string, c0: Point, proof: Uint8Array): boolean {
  if (proof.length !== 65) return false;
  try {
    const R = g.decodePoint(proof.subarray(0, 33));
    const mu = g.decodeScalar(proof.subarray(33));
    return g.equals(g.baseMul(mu), g.add(R, g.mul(c0, pokChallenge(g, ctx, id, c0, R))));
  } catch {
    return false;
  }
}

/** One party of a threshold ECDSA DKG. Construction throws `InvalidArgumentError` on bad inputs. */
export class EcdsaDkgParty extends RoundProtocol<EcdsaKeyShare> implements KeygenParty<EcdsaKeyShare> {
  private readonly g: Group = getGroup('secp256k1');
  private readonly threshold: number;
  private readonly rng: Rng;
  private readonly setupLog: SetupLog;
  private readonly ids: Map<string, bigint>;
  private readonly ctx: Uint8Array;
  private readonly others: string[];
  private coeffs: bigint[] = [];
  private secret = 0n;
  private ownR1: Uint8Array = new Uint8Array(0);
  private myEcho: Uint8Array = new Uint8Array(0);
  private readonly commitments = new Map<string, Point[]>();
  private readonly otSetups = new Map<string, PairwiseOtSetup>();
  private readonly zeroSetups = new Map<string, ZeroSeedPairSetup>();
  private readonly zeroSeeds = new Map<string, Uint8Array>();
  private readonly pairs = new Map<string, PairwiseOt>();
  private pub: EcdsaKeyPublic | undefined;
  private confirmDigest: Uint8Array = new Uint8Array(0);
  private pending: EcdsaKeyShare | undefined;

  constructor(opts: EcdsaDkgOptions) {
    super(opts, 6, 64 * 1024 + 33 * 1024);
    const n = opts.participants.length;
    if (!Number.isInteger(opts.threshold) || opts.threshold < 1 || opts.threshold + 1 > n || n > 1024) {
      throw new InvalidArgumentError('threshold t must satisfy 1 ≤ t and t+1 ≤ n ≤ 1024');
    }
    if (typeof opts.setupLog?.claim !== 'function')
      throw new InvalidArgumentError("a DKG party needs the node's setup log (setupLog)");
    this.threshold = opts.threshold;
    this.ids = ecdsaIdentifiers(this.g, opts.participants);
    this.ctx = ecdsaDkgContext(opts.sessionId, opts.threshold, opts.participants);
    this.setupLog = opts.setupLog;
    this.rng = setupRng(opts.rng ?? systemRng, 'tessera/ecdsa/dkg', this.ctx, opts.self);
    this.others = opts.participants.filter((p) => p !== opts.self);
  }

  protected expect(round: number): RoundExpectation {
    if (round === 1) return { broadcast: this.others, direct: this.others };
    if (round === 6) return { broadcast: this.others, direct: [] };
    return { broadcast: [], direct: this.others };
  }

  protected begin(): Outgoing[] {
    claimSetupContext(this.setupLog, this.ctx);
    const g = this.g;
    for (let i = 0; i <= this.threshold; i++) this.coeffs.push(randomScalar(g, this.rng));
    const C = commitPolynomial(g, this.coeffs);
    this.commitments.set(this.self, C);
    const w = new ByteWriter().tag(R1B_TAG).u16(C.length);
    for (const c of C) w.raw(g.encodePoint(c));
    this.ownR1 = w.raw(provePok(g, this.ctx, this.self, this.coeffs[0]!, C[0]!, this.rng)).finish();
    const out: Outgoing[] = [{ to: null, payload: this.ownR1 }];
    for (const p of this.others) {
      const ot = new PairwiseOtSetup({ setupId: this.ctx, selfId: this.self, peerId: p }, this.rng);
      const zero = new ZeroSeedPairSetup({ sessionId: this.ctx, selfId: this.self, peerId: p }, this.rng);
      this.otSetups.set(p, ot);
      this.zeroSetups.set(p, zero);
      out.push({
        to: p,
        payload: new ByteWriter().tag(R1D_TAG).raw(this.ctx).bytes(ot.round(1)).bytes(zero.commitMessage()).finish(),
      });
    }
    return out;
  }

  protected process(round: number, inbox: RoundInbox): RoundStep<EcdsaKeyShare> {
    // Rounds 1–4 answer the peers' OT flights with this party's fixed secrets: each once, durably.
    if (round <= 4) claimSetupStep(this.setupLog, this.ctx, round + 1);
    switch (round) {
      case 1:
        return this.round1(inbox);
      case 2:
        return this.round2(inbox);
      case 3:
      case 4:
        return {
          send: this.others.map((p) => ({ to: p, payload: this.otFlight(p, round + 1, this.readOt(p, inbox)) })),
        };
      case 5:
        return this.round5(inbox);
      default:
        return this.round6(inbox);
    }
  }

  private readOt(p: string, inbox: RoundInbox): Uint8Array {
    return this.parse(p, 'DKG OT message', () => {
      const r = new ByteReader(inbox.direct.get(p)!);
      r.expectTag(ROT_TAG);
      if (!bytesEqual(r.raw(32), this.ctx))
        throw new ProtocolAbortedError('DKG context differs (another session or committee)', [p]);
      const m = r.bytes(64 * 1024);
      r.end();
      return m;
    });
  }

  private otFlight(p: string, r: number, incoming: Uint8Array): Uint8Array {
    const msg = withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.round(r, incoming));
    return new ByteWriter().tag(ROT_TAG).raw(this.ctx).bytes(msg).finish();
  }

  private round1(inbox: RoundInbox): RoundStep<EcdsaKeyShare> {
    const g = this.g;
    for (const p of this.others) {
      const C = this.parse(p, 'DKG commitment package', () => {
        const r = new ByteReader(inbox.broadcast.get(p)!);
        r.expectTag(R1B_TAG);
        const count = r.u16();
        if (count !== this.threshold + 1) throw new ProtocolAbortedError('commitment has the wrong degree', [p]);
        const C: Point[] = [];
        for (let i = 0; i < count; i++) C.push(g.decodePoint(r.raw(33)));
        const proof = r.raw(65);
        r.end();
        if (!verifyPok(g, this.ctx, p, C[0]!, proof))
          throw new ProtocolAbortedError('invalid proof of knowledge (or a package from another session)', [p]);
        return C;
      });
      this.commitments.set(p, C);
    }
    const all = new Map(inbox.broadcast);
    all.set(this.self, this.ownR1);
    this.myEcho = echoVector(this.sessionId, 1, this.participants, all);
    const out: Outgoing[] = [];
    for (const p of this.others) {
      const { otMsg, zeroCommit } = this.parse(p, 'DKG setup message', () => {
        const r = new ByteReader(inbox.direct.get(p)!);
        r.expectTag(R1D_TAG);
        if (!bytesEqual(r.raw(32), this.ctx))
          throw new ProtocolAbortedError('DKG context differs (another session or committee)', [p]);
        const otMsg = r.bytes(64 * 1024);
        const zeroCommit = r.bytes(64);
        r.end();
        return { otMsg, zeroCommit };
      });
      const zero = this.zeroSetups.get(p)!;
      withOtAbort(p, 'zero-sharing commitment', () => zero.onPeerCommitment(zeroCommit));
      const ot2 = withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.round(2, otMsg));
      const share = evalPolynomial(g, this.coeffs, this.ids.get(p)!);
      const payload = new ByteWriter()
        .tag(R2_TAG)
        .raw(this.ctx)
        .bytes(this.myEcho)
        .raw(g.encodeScalar(share))
        .bytes(ot2)
        .bytes(zero.openingMessage())
        .finish();
      out.push({ to: p, payload });
    }
    this.secret = evalPolynomial(g, this.coeffs, this.ids.get(this.self)!);
    this.coeffs.fill(0n);
    this.coeffs = [];
    return { send: out };
  }

  private round2(inbox: RoundInbox): RoundStep<EcdsaKeyShare> {
    const g = this.g;
    const echoes = new EchoCollector(this.self, this.participants, this.myEcho);
    const parsed = new Map<string, { share: bigint; ot: Uint8Array; opening: Uint8Array }>();
    for (const p of this.others) {
      const v = this.parse(p, 'DKG share package', () => {
        const r = new ByteReader(inbox.direct.get(p)!);
        r.expectTag(R2_TAG);
        if (!bytesEqual(r.raw(32), this.ctx))
          throw new ProtocolAbortedError('DKG context differs (another session or committee)', [p]);
        const echo = r.bytes(32 * this.participants.length);
        const share = g.decodeScalar(r.raw(32));
        const ot = r.bytes(64 * 1024);
        const opening = r.bytes(128);
        r.end();
        return { echo, share, ot, opening };
      });
      echoes.add(p, v.echo);
      parsed.set(p, v);
    }
    echoes.verdict();
    const myId = this.ids.get(this.self)!;
    const bad = this.others.filter(
      (p) => !g.equals(g.baseMul(parsed.get(p)!.share), evalCommitment(g, this.commitments.get(p)!, myId)),
    );
    if (bad.length > 0) throw new ProtocolAbortedError('secret share does not match the dealer commitment', bad);
    for (const p of this.others) {
      const seed = withOtAbort(p, 'zero-sharing opening', () => this.zeroSetups.get(p)!.finish(parsed.get(p)!.opening));
      this.zeroSeeds.set(p, seed);
    }
    let secret = this.secret;
    for (const v of parsed.values()) secret = mod(secret + v.share, g.order);
    this.secret = secret;
    // Public package: PK = Σ C_i0, Y_k = Σ_i C_i(x_k).
    const summed: Point[] = [];
    for (let k = 0; k <= this.threshold; k++) {
      let acc = g.identity;
      for (const p of this.participants) acc = g.add(acc, this.commitments.get(p)![k]!);
      summed.push(acc);
    }
    if (g.isIdentity(summed[0]!)) throw new ProtocolAbortedError('group public key is the identity', []);
    const publicShares = new Map<string, Uint8Array>();
    for (const p of this.participants) {
      const y = evalCommitment(g, summed, this.ids.get(p)!);
      if (g.isIdentity(y)) throw new ProtocolAbortedError('a public share is the identity', []);
      publicShares.set(p, g.encodePoint(y));
    }
    if (secret === 0n || !g.equals(g.baseMul(secret), g.decodePoint(publicShares.get(this.self)!))) {
      throw new ProtocolAbortedError('own share does not match the public package', []);
    }
    this.pub = {
      keyType: ECDSA_KEY_TYPE,
      version: 1,
      threshold: this.threshold,
      participants: this.participants,
      publicShares,
      groupPublicKey: g.encodePoint(summed[0]!),
    };
    return { send: this.others.map((p) => ({ to: p, payload: this.otFlight(p, 3, parsed.get(p)!.ot) })) };
  }

  private round5(inbox: RoundInbox): RoundStep<EcdsaKeyShare> {
    for (const p of this.others) {
      const m = this.readOt(p, inbox);
      this.pairs.set(
        p,
        withOtAbort(p, 'pairwise OT setup', () => this.otSetups.get(p)!.finish(m)),
      );
    }
    this.otSetups.clear();
    this.pending = EcdsaKeyShare.assemble(this.pub!, this.self, this.secret, this.ctx, this.zeroSeeds, this.pairs);
    this.pairs.clear();
    this.zeroSeeds.clear();
    this.secret = 0n;
    this.confirmDigest = taggedHash(
      'sha256',
      'tessera/ecdsa/dkg/confirmation/v1',
      this.ctx,
      ecdsaKeyPublicDigest(this.pub!),
    );
    return { send: [this.confirmationMessage(R6_TAG, this.confirmDigest)] };
  }

  /**
   * The key share this party completed and validated before the confirmation round (after its
   * last OT flight): present from then on, whether the party then finished, aborted in the
   * confirmation round (a party confirmed another package, or withheld its confirmation and a late
   * message ended the session) or still waits. It is NOT wiped by such an abort: the node layer may
   * store it as a pending vault version and activate it only once every member's confirmation is
   * known, or dispose of it. Undefined before the party's own checks all passed.
   */
  pendingResult(): EcdsaKeyShare | undefined {
    return this.pending;
  }

  private round6(inbox: RoundInbox): RoundStep<EcdsaKeyShare> {
    this.checkConfirmations(
      inbox,
      this.others,
      R6_TAG,
      this.confirmDigest,
      'a party confirmed a different key package',
    );
    return { result: this.pending! };
  }

  /**
   * Wipes the secret temporaries and abandons unfinished OT setups. A pending (validated) share is
   * left to the node layer (see pendingResult).
   */
  protected wipe(): void {
    this.coeffs.fill(0n);
    this.coeffs = [];
    this.secret = 0n;
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
