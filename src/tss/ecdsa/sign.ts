/**
 * Threshold ECDSA signing, DKLs23 (ePrint 2023/765, Protocol 3.6), three rounds, by any ≥ t+1
 * holders of a key over a 32-byte digest. Every signer is its own combiner.
 *
 *  1 broadcast: context (session id, key package, digest, derivation, signers) and a commitment
 *              to the instance point R_i = r_i·G.
 *    direct to j: the id of the OT setup this party's pair with j comes from, and the first
 *              multiplication message with this party as Bob (random χ_ij).
 *  2 direct to j: echo of the round-1 broadcasts; opening of R_i; pk_i = sk_i·G (sk_i the
 *              Lagrange-weighted, zero-share re-randomised additive key share); Γ^u = c^u·G and
 *              Γ^v = c^v·G for this party's multiplication outputs as Alice with inputs (r_i, sk_i);
 *              ψ_ij = φ_i − χ_ij; the multiplication answer.
 *  3 broadcast: u_i, w_i.
 *  combine: s = Σw / Σu, low-S, recovery id; verified against the (derived) key before returning.
 *
 * Consistency checks (what DKLs23 relies on, the multiplication layer does not check Alice's γ):
 *   χ_ij·R_j = Γ^u_j + d^u_ij·G  and  χ_ij·pk_j = Γ^v_j + d^v_ij·G
 * bind j's effective multiplication inputs to R_j and pk_j (χ_ij is hidden from j), and
 * Σ_j pk_j = PK binds the additive shares to the key. Failures name j and burn the pair with j.
 */

import { createHash } from 'node:crypto';
import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { bytesToBigBE, mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, sha512, taggedHash, utf8 } from '../math/hash.js';
import { invert } from '../math/polynomial.js';
import { type Rng, systemRng } from '../math/rng.js';
import { EchoCollector, echoVector } from '../session/echo.js';
import { ProtocolAbortedError } from '../session/errors.js';
import {
  type Outgoing,
  type RoundExpectation,
  type RoundInbox,
  RoundProtocol,
  type RoundStep,
} from '../session/party.js';
import { claimSigningContext, claimSigningStep, type SigningLog } from '../session/signing-log.js';
import { isOtEvidence, OtEvidenceAbortError, withOtAbort } from './abort.js';
import { deriveTweak, type EcdsaDerivation } from './hd.js';
import { type EcdsaKeyShare, ecdsaKeyPublicDigest, ecdsaLagrange } from './key-share.js';
import { type MulReceiverPending, mulReceiverFinish, mulReceiverStart, mulSenderRespond } from './multiply.js';
import type { PairwiseOt } from './pairwise.js';
import { zeroShare } from './zero-share.js';

/** A hedged byte source handed to one multiplication; `dispose` wipes its key. */
interface HedgedStream {
  readonly random: (n: number) => Uint8Array;
  dispose(): void;
}

const R1B_TAG = 'tessera/ecdsa/sign/r1b/v1';
const R1D_TAG = 'tessera/ecdsa/sign/r1d/v1';
const R2_TAG = 'tessera/ecdsa/sign/r2/v1';
const R3_TAG = 'tessera/ecdsa/sign/r3/v1';

/** Inputs of one signer. */
export interface EcdsaSignOptions {
  readonly sessionId: string;
  readonly self: string;
  /** The signers (≥ t+1 members of the key's committee), in the order all signers agreed on. */
  readonly signers: readonly string[];
  readonly keyShare: EcdsaKeyShare;
  /** The 32-byte digest to sign (mpcium's `tx` for ECDSA). */
  readonly digest: Uint8Array;
  /** Optional non-hardened HD derivation (mpcium §4): sign under the child key. */
  readonly derivation?: EcdsaDerivation;
  /**
   * Where this signer records the contexts it has started: `start()` refuses a context recorded
   * before (`SigningContextReusedError`), because a retried context with replayed randomness gives
   * away the key [2/F2]. A node passes its vault's durable log.
   */
  readonly signingLog: SigningLog;
  readonly rng?: Rng;
}

/** The signature. */
export interface EcdsaSignResult {
  /** 32-byte big-endian r. */
  readonly r: Uint8Array;
  /** 32-byte big-endian s, low-S normalised (s ≤ q/2). */
  readonly s: Uint8Array;
  /** Recovery id (parity of R.y after normalisation): 0 or 1. */
  readonly recoveryId: 0 | 1;
  /** r ‖ s (64 bytes, IEEE P1363 / compact). */
  readonly signature: Uint8Array;
  /** 33-byte compressed key the signature verifies under (the derived child key with a derivation). */
  readonly publicKey: Uint8Array;
}

/** Signing context: binds session id, key package, digest, derivation and ordered signers. Does not throw. */
export function ecdsaSignContext(
  sessionId: string,
  keyDigest: Uint8Array,
  digest: Uint8Array,
  derivationBytes: Uint8Array,
  signers: readonly string[],
): Uint8Array {
  return taggedHash(
    'sha256',
    'tessera/ecdsa/sign/context/v1',
    utf8(sessionId),
    keyDigest,
    digest,
    derivationBytes,
    ...signers.map(utf8),
  );
}

interface Peer {
  readonly id: string;
  readonly pair: PairwiseOt;
  /** Id of the DKG / reshare / re-setup this pair comes from (both ends must hold the same). */
  readonly setupId: Uint8Array;
  /** Round 1: this party as Bob with j as Alice. */
  pending?: MulReceiverPending;
  chi?: bigint;
  commitment?: Uint8Array;
  /** Round 2: this party as Alice (outputs c^u, c^v). */
  cu?: bigint;
  cv?: bigint;
}

/**
 * One signer of a DKLs23 session. Construction throws `InvalidArgumentError` / `InvalidStateError`
 * (burnt pair, disposed share).
 */
export class EcdsaSignParty extends RoundProtocol<EcdsaSignResult> {
  protected readonly g: Group = getGroup('secp256k1');
  private readonly share: EcdsaKeyShare;
  private readonly rng: Rng;
  private readonly signingLog: SigningLog;
  private readonly others: string[];
  private readonly ctx: Uint8Array;
  private readonly e: bigint;
  private readonly tweak: bigint;
  private readonly publicKey: Point;
  private readonly peers = new Map<string, Peer>();
  private r = 0n;
  private phi = 0n;
  private sk = 0n;
  private R: Point | undefined;
  private salt: Uint8Array = new Uint8Array(0);
  private ownR1: Uint8Array = new Uint8Array(0);
  private myEcho: Uint8Array = new Uint8Array(0);
  private bigR: Point | undefined;
  private ownU = 0n;
  private ownW = 0n;

  constructor(opts: EcdsaSignOptions) {
    super({ sessionId: opts.sessionId, self: opts.self, participants: opts.signers }, 3, 128 * 1024);
    const share = opts.keyShare;
    if (share.isDisposed) throw new InvalidStateError('key share was disposed');
    if (share.self !== opts.self) throw new InvalidArgumentError('key share belongs to another party');
    for (const p of opts.signers)
      if (!share.participants.includes(p)) throw new InvalidArgumentError('a signer is not a member of this key');
    if (opts.signers.length < share.threshold + 1) throw new InvalidArgumentError('fewer than t+1 signers');
    if (!(opts.digest instanceof Uint8Array) || opts.digest.length !== 32)
      throw new InvalidArgumentError('digest must be 32 bytes');
    if (typeof opts.signingLog?.claim !== 'function')
      throw new InvalidArgumentError("a signing log is required (the vault's durable log in a node)");
    this.share = share;
    this.signingLog = opts.signingLog;
    this.rng = opts.rng ?? systemRng;
    this.others = opts.signers.filter((p) => p !== opts.self);
    for (const p of this.others) {
      const st = share.peers.get(p);
      const ot = st?.ot;
      if (st === undefined || ot === undefined || ot.burned)
        throw new InvalidStateError(`the OT pair with ${p} is burnt; run a pairwise re-setup first`);
      this.peers.set(p, { id: p, pair: ot, setupId: st.otSetupId });
    }
    const g = this.g;
    const d = deriveTweak(share.public.groupPublicKey, opts.derivation);
    this.tweak = d.tweak;
    this.publicKey = g.decodePoint(d.publicKey);
    this.ctx = ecdsaSignContext(
      opts.sessionId,
      ecdsaKeyPublicDigest(share.public),
      opts.digest,
      d.encoded,
      opts.signers,
    );
    this.e = mod(bytesToBigBE(opts.digest), g.order);
  }

  protected expect(round: number): RoundExpectation {
    if (round === 1) return { broadcast: this.others, direct: this.others };
    if (round === 2) return { broadcast: [], direct: this.others };
    return { broadcast: this.others, direct: [] };
  }

  /** Every payload carries the context: a message replayed from another session is refused (blame its sender). */
  private expectContext(r: ByteReader, from: string): void {
    if (!bytesEqual(r.raw(32), this.ctx))
      throw new ProtocolAbortedError('signing context differs (another session, message, key version or signer set)', [
        from,
      ]);
  }

  private commitment(id: string, R: Uint8Array, salt: Uint8Array): Uint8Array {
    return taggedHash('sha256', 'tessera/ecdsa/sign/commit/v1', this.ctx, utf8(id), R, salt);
  }

  /**
   * Hedged secret randomness: H(label, rng(32), own secret share, ctx) mod q, non-zero — a weak
   * or repeated RNG output alone does not repeat r_i across sessions or digests.
   */
  private hedgedScalar(label: string): bigint {
    const g = this.g;
    const fresh = this.rng(32);
    const secret = g.encodeScalar(this.share.secretScalar());
    try {
      for (let i = 0; ; i++) {
        const x = g.reduceBytes(
          sha512(utf8(`tessera/ecdsa/sign/${label}/v1`), Uint8Array.of(i), fresh, secret, this.ctx),
        );
        if (x !== 0n) return x;
      }
    } finally {
      fresh.fill(0);
      secret.fill(0);
    }
  }

  /**
   * Hedged byte stream for one purpose of this session: key = tagged hash of (fresh rng(32), own
   * secret share, signing context, self, peer, purpose); output n of call
   * i = SHAKE256(key ‖ i ‖ n). A repeated RNG stream alone (VM snapshot, fork) does not repeat the
   * multiplication pads ã, â, Bob's ω / KOS padding or the salt σ across sessions or digests
   * [1/H1]. The hedge inputs are wiped; `dispose` wipes the key.
   */
  private hedgedStream(peer: string, purpose: string, bind?: Uint8Array): HedgedStream {
    const g = this.g;
    const fresh = this.rng(32);
    const secret = g.encodeScalar(this.share.secretScalar());
    // `bind` ties the stream to the message being answered: a replayed RNG answering a different
    // message (e.g. an extension with flipped choice bits) must not reuse σ and the pads [2/F1].
    const parts = [fresh, secret, this.ctx, utf8(this.self), utf8(peer), utf8(purpose), ...(bind ? [bind] : [])];
    const key = taggedHash('sha256', 'tessera/ecdsa/sign/hedge/v1', ...parts);
    fresh.fill(0);
    secret.fill(0);
    let counter = 0;
    let disposed = false;
    const ctr = new Uint8Array(8);
    const dv = new DataView(ctr.buffer);
    return {
      random: (n: number) => {
        if (disposed) throw new InvalidStateError('hedged randomness was disposed');
        dv.setUint32(0, counter++);
        dv.setUint32(4, n);
        const d = createHash('shake256', { outputLength: n }).update(key).update(ctr).digest();
        const out = new Uint8Array(d);
        d.fill(0);
        return out;
      },
      dispose: () => {
        disposed = true;
        key.fill(0);
      },
    };
  }

  /**
   * The signing context (session id, key package incl. version, digest, derivation, ordered
   * signers): what the signing log records.
   */
  get context(): Uint8Array {
    return Uint8Array.from(this.ctx);
  }

  protected begin(): Outgoing[] {
    // Before any secret randomness exists: a context started before is refused [2/F2].
    claimSigningContext(this.signingLog, this.ctx);
    const g = this.g;
    this.r = this.hedgedScalar('instance-key');
    this.phi = this.hedgedScalar('inversion-mask');
    this.R = g.baseMul(this.r);
    const saltSource = this.hedgedStream(this.self, 'commitment-salt');
    this.salt = saltSource.random(32);
    saltSource.dispose();
    this.ownR1 = new ByteWriter()
      .tag(R1B_TAG)
      .raw(this.ctx)
      .raw(this.commitment(this.self, g.encodePoint(this.R), this.salt))
      .finish();
    const out: Outgoing[] = [{ to: null, payload: this.ownR1 }];
    for (const peer of this.peers.values()) {
      const hedge = this.hedgedStream(peer.id, 'mul-receiver');
      let started: ReturnType<typeof mulReceiverStart>;
      try {
        started = withOtAbort(peer.id, 'multiplication', () =>
          mulReceiverStart(peer.pair.in_, this.ctx, 2, hedge.random),
        );
      } finally {
        hedge.dispose();
      }
      const { message, pending, b } = started;
      peer.pending = pending;
      this.share.extensionStarted(peer.id, pending.index);
      peer.chi = g.decodeScalar(b);
      b.fill(0);
      out.push({
        to: peer.id,
        payload: new ByteWriter().tag(R1D_TAG).raw(this.ctx).raw(peer.setupId).bytes(message).finish(),
      });
    }
    return out;
  }

  protected process(round: number, inbox: RoundInbox): RoundStep<EcdsaSignResult> {
    // Rounds 1 and 2 produce messages that depend on r_i, φ_i and sk_i: each is taken once, durably
    // (a process resumed from a mid-session snapshot must not answer again) [4/M-1].
    if (round === 1) {
      claimSigningStep(this.signingLog, this.ctx, 2);
      return this.round1(inbox);
    }
    if (round === 2) {
      claimSigningStep(this.signingLog, this.ctx, 3);
      return this.round2(inbox);
    }
    return this.round3(inbox);
  }

  /** The inputs this party feeds, as Alice, into the multiplication with `peer` (a test hook for a cheating signer). */
  protected multiplicationInputs(_peer: string, r: bigint, sk: bigint): [bigint, bigint] {
    return [r, sk];
  }

  private round1(inbox: RoundInbox): RoundStep<EcdsaSignResult> {
    const g = this.g;
    for (const p of this.others) {
      const { ctx, com } = this.parse(p, 'signing commitment', () => {
        const r = new ByteReader(inbox.broadcast.get(p)!);
        r.expectTag(R1B_TAG);
        const ctx = r.raw(32);
        const com = r.raw(32);
        r.end();
        return { ctx, com };
      });
      if (!bytesEqual(ctx, this.ctx))
        throw new ProtocolAbortedError(
          'signing context differs (another session, message, key version or signer set)',
          [p],
        );
      this.peers.get(p)!.commitment = com;
    }
    const all = new Map(inbox.broadcast);
    all.set(this.self, this.ownR1);
    this.myEcho = echoVector(this.sessionId, 1, this.participants, all);
    // Additive, re-randomised key share: sk_i = λ_i·(x_i + δ) + ζ_i, so Σ sk_i = x + δ.
    const seeds = new Map<string, Uint8Array>();
    for (const p of this.others) seeds.set(p, this.share.peers.get(p)!.zeroSeed);
    const zeta = zeroShare(this.self, seeds, this.participants, this.ctx);
    const lambda = ecdsaLagrange(g, this.participants, this.self);
    this.sk = mod(lambda * mod(this.share.secretScalar() + this.tweak, g.order) + bytesToBigBE(zeta), g.order);
    zeta.fill(0);
    const pk = g.encodePoint(g.baseMul(this.sk));
    const R = g.encodePoint(this.R!);
    const requests = new Map<string, Uint8Array>();
    const outOfSync: string[] = [];
    for (const peer of this.peers.values()) {
      const { setupId, m } = this.parse(peer.id, 'multiplication request', () => {
        const r = new ByteReader(inbox.direct.get(peer.id)!);
        r.expectTag(R1D_TAG);
        this.expectContext(r, peer.id);
        const setupId = r.raw(32);
        const m = r.bytes(64 * 1024);
        r.end();
        return { setupId, m };
      });
      if (!bytesEqual(setupId, peer.setupId)) outOfSync.push(peer.id);
      requests.set(peer.id, m);
    }
    if (outOfSync.length > 0) {
      // The two ends of a pair come from different setups: an OT re-setup that was confirmed on one
      // side only (a member withheld its confirmation [2/L1]) — either side may be the stale one,
      // so blaming the peer could name an honest party — or a tampered message, which gains its
      // sender nothing but this abort. No blame; nothing has been answered. The pair is useless
      // until a re-setup, so it is burnt here (the node persists that).
      for (const p of outOfSync) this.share.burnPair(p);
      throw new ProtocolAbortedError(
        `the OT pair with ${outOfSync.join(', ')} comes from a different setup on the ` +
          `other side (an interrupted OT re-setup; not attributable); run an OT re-setup`,
        [],
      );
    }
    const out: Outgoing[] = [];
    for (const peer of this.peers.values()) {
      const msg1 = requests.get(peer.id)!;
      const inputs = this.multiplicationInputs(peer.id, this.r, this.sk).map((x) => g.encodeScalar(x));
      const hedge = this.hedgedStream(peer.id, 'mul-sender', createHash('sha256').update(msg1).digest());
      let answered: ReturnType<typeof mulSenderRespond>;
      try {
        answered = withOtAbort(peer.id, 'multiplication', () =>
          mulSenderRespond(peer.pair.out, this.ctx, inputs, msg1, hedge.random),
        );
      } finally {
        hedge.dispose();
      }
      const { message, shares } = answered;
      for (const x of inputs) x.fill(0);
      peer.cu = g.decodeScalar(shares[0]!);
      peer.cv = g.decodeScalar(shares[1]!);
      for (const x of shares) x.fill(0);
      const psi = mod(this.phi - peer.chi!, g.order);
      const payload = new ByteWriter()
        .tag(R2_TAG)
        .raw(this.ctx)
        .bytes(this.myEcho)
        .raw(R)
        .raw(this.salt)
        .raw(pk)
        .raw(g.encodePoint(g.baseMul(peer.cu)))
        .raw(g.encodePoint(g.baseMul(peer.cv)))
        .raw(g.encodeScalar(psi))
        .bytes(message)
        .finish();
      out.push({ to: peer.id, payload });
    }
    return { send: out };
  }

  private round2(inbox: RoundInbox): RoundStep<EcdsaSignResult> {
    const g = this.g;
    const echoes = new EchoCollector(this.self, this.participants, this.myEcho);
    const parsed = new Map<
      string,
      { R: Point; pk: Point; gu: Point; gv: Point; psi: bigint; msg2: Uint8Array; Rb: Uint8Array; salt: Uint8Array }
    >();
    for (const p of this.others) {
      const v = this.parse(p, 'signing round-2 message', () => {
        const r = new ByteReader(inbox.direct.get(p)!);
        r.expectTag(R2_TAG);
        this.expectContext(r, p);
        const echo = r.bytes(32 * this.participants.length);
        const Rb = r.raw(33);
        const salt = r.raw(32);
        const R = g.decodePoint(Rb);
        const pk = g.decodePoint(r.raw(33));
        const gu = g.decodePoint(r.raw(33));
        const gv = g.decodePoint(r.raw(33));
        const psi = g.decodeScalar(r.raw(32));
        const msg2 = r.bytes(128 * 1024);
        r.end();
        return { echo, R, Rb, salt, pk, gu, gv, psi, msg2 };
      });
      echoes.add(p, v.echo);
      parsed.set(p, v);
    }
    echoes.verdict();
    for (const p of this.others) {
      const v = parsed.get(p)!;
      if (!bytesEqual(this.commitment(p, v.Rb, v.salt), this.peers.get(p)!.commitment!)) {
        throw new ProtocolAbortedError('instance point does not match its commitment', [p]);
      }
    }
    let phiSum = this.phi;
    let u = 0n;
    let v = 0n;
    // Every peer's multiplication and consistency checks run before any abort, so that each peer
    // with OT evidence against it is blamed (and its pair burnt): one failing peer must not shield
    // another whose check failed earlier or later in this loop.
    const bad: string[] = [];
    const reasons = new Set<string>();
    let other: ProtocolAbortedError | undefined;
    for (const p of this.others) {
      const peer = this.peers.get(p)!;
      const m = parsed.get(p)!;
      let d: [bigint, bigint];
      try {
        d = withOtAbort(p, 'multiplication', () => mulReceiverFinish(peer.pair.in_, peer.pending!, m.msg2)).map((x) => {
          const s = g.decodeScalar(x);
          x.fill(0);
          return s;
        }) as [bigint, bigint];
      } catch (e) {
        if (isOtEvidence(e)) {
          bad.push(...e.blame);
          reasons.add(e.reason);
        } else if (e instanceof ProtocolAbortedError) other ??= e;
        else throw e;
        continue;
      }
      const [du, dv] = d;
      this.share.extensionSettled(p, peer.pending!.index);
      peer.pending = undefined;
      // DKLs23 consistency checks: j's multiplication inputs must be the discrete logs of R_j and pk_j.
      const chi = peer.chi!;
      const okU = g.equals(g.mulSecret(m.R, chi), g.add(m.gu, g.baseMul(du)));
      const okV = g.equals(g.mulSecret(m.pk, chi), g.add(m.gv, g.baseMul(dv)));
      if (!okU || !okV) {
        bad.push(p);
        reasons.add('multiplication inputs inconsistent with the committed instance point or key share');
      }
      phiSum = mod(phiSum + m.psi, g.order);
      u = mod(u + peer.cu! + du, g.order);
      v = mod(v + peer.cv! + dv, g.order);
    }
    if (bad.length > 0) throw new OtEvidenceAbortError([...reasons].join('; '), [...new Set(bad)]);
    if (other) throw other;
    let pkSum = g.baseMul(this.sk);
    let bigR = this.R!;
    for (const p of this.others) {
      pkSum = g.add(pkSum, parsed.get(p)!.pk);
      bigR = g.add(bigR, parsed.get(p)!.R);
    }
    if (!g.equals(pkSum, this.publicKey))
      throw new ProtocolAbortedError('the signers’ key shares do not add up to the public key', []);
    if (g.isIdentity(bigR)) throw new ProtocolAbortedError('the instance point is the identity', []);
    this.bigR = bigR;
    const rx = mod(g.affine(bigR).x, g.order);
    u = mod(u + this.r * phiSum, g.order);
    v = mod(v + this.sk * phiSum, g.order);
    const w = mod(this.e * this.phi + rx * v, g.order);
    this.r = 0n;
    this.sk = 0n;
    this.phi = 0n;
    this.ownU = u;
    this.ownW = w;
    return {
      send: [
        {
          to: null,
          payload: new ByteWriter().tag(R3_TAG).raw(this.ctx).raw(g.encodeScalar(u)).raw(g.encodeScalar(w)).finish(),
        },
      ],
    };
  }

  private round3(inbox: RoundInbox): RoundStep<EcdsaSignResult> {
    const g = this.g;
    const q = g.order;
    let u = this.ownU;
    let w = this.ownW;
    for (const p of this.others) {
      const [uj, wj] = this.parse(p, 'signing round-3 message', () => {
        const r = new ByteReader(inbox.broadcast.get(p)!);
        r.expectTag(R3_TAG);
        this.expectContext(r, p);
        const uj = g.decodeScalar(r.raw(32));
        const wj = g.decodeScalar(r.raw(32));
        r.end();
        return [uj, wj];
      });
      u = mod(u + uj, q);
      w = mod(w + wj, q);
    }
    const unattributable =
      'signature does not verify (a signer sent inconsistent u, w or ψ; not attributable in DKLs23)';
    if (u === 0n) throw new ProtocolAbortedError(unattributable, []);
    let s = mod(w * invert(g, u), q);
    const R = this.bigR!;
    const { x, y } = g.affine(R);
    if (x >= q)
      throw new ProtocolAbortedError(
        'instance point x-coordinate exceeds the group order (recovery id > 1); sign again',
        [],
      );
    const rx = x;
    if (s === 0n || rx === 0n) throw new ProtocolAbortedError(unattributable, []);
    // Verify s·R = e·G + r·PK (this also fixes R, hence the recovery id).
    if (!g.equals(g.mul(R, s), g.add(g.baseMul(this.e), g.mul(this.publicKey, rx))))
      throw new ProtocolAbortedError(unattributable, []);
    let recoveryId = Number(y & 1n) as 0 | 1;
    if (s > q >> 1n) {
      s = q - s;
      recoveryId = (recoveryId ^ 1) as 0 | 1;
    }
    const rb = g.encodeScalar(rx);
    const sb = g.encodeScalar(s);
    const signature = new Uint8Array(64);
    signature.set(rb, 0);
    signature.set(sb, 32);
    return { result: { r: rb, s: sb, recoveryId, signature, publicKey: g.encodePoint(this.publicKey) } };
  }

  protected wipe(): void {
    this.r = 0n;
    this.phi = 0n;
    this.sk = 0n;
    this.ownU = 0n;
    this.ownW = 0n;
    this.salt.fill(0);
    // Bob's side of every unfinished multiplication: wipe ω (the bits of χ_ij) and the OT keys, and
    // let the share stop counting the extension as in flight [5/R-F].
    for (const peer of this.peers.values()) {
      if (peer.pending === undefined) continue;
      peer.pending.dispose();
      this.share.extensionSettled(peer.id, peer.pending.index);
      peer.pending = undefined;
    }
    // Burn the OT pair with every peer the abort names **only when the abort is OT evidence**
    // (DKLs23 selective-abort defence, docs/ecdsa.md "Burning"): a failed KOS, multiplication or
    // χ·R / χ·pk consistency check, a malformed multiplication message or a reused index
    // (`OtEvidenceAbortError`, set where those checks fail). Context mismatches, envelope errors,
    // unparsable non-OT fields and echo verdicts burn nothing [5/R-A, 4/L-2].
    const abort = this.abortError;
    if (isOtEvidence(abort)) for (const p of abort.blame) if (this.peers.has(p)) this.share.burnPair(p);
    // A direction the OT layer destroyed after a failed check burns the whole pair too.
    for (const peer of this.peers.values()) if (peer.pair.burned) this.share.burnPair(peer.id);
    this.peers.clear();
  }
}
