/**
 * FROST two-round threshold signing (RFC 9591 §5) as a {@link RoundProtocol}. Every signer acts
 * as its own coordinator, so every signer ends with the same signature.
 *
 *  round 1 (broadcast): context digest (key package digest incl. version, message, derivation
 *           path, signer set) ‖ hiding commitment D_i ‖ binding commitment E_i.
 *  round 2 (broadcast): echo vector of all round-1 broadcasts ‖ signature share z_i.
 *  finish:  echo checked, every share verified (cheaters named), shares aggregated, and the
 *           signature verified against the (derived) group key before it is returned.
 * Output: a plain RFC 8032 Ed25519 signature R ‖ S (64 bytes) over the exact message bytes.
 * Nonces are generated per session (RFC 9591 nonce_generate over RNG bytes hedged with the signing
 * context) and consumed by the share computation: never reused.
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError } from '../../common/errors.js';
import { mod } from '../group/group.js';
import { type Group, getGroup, type Point } from '../group/index.js';
import { bytesEqual, taggedHash, utf8 } from '../math/hash.js';
import { hedgedRng, type Rng, systemRng } from '../math/rng.js';
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
import { deriveChild, validatePath } from './hd.js';
import { decodeKeyPublic, type FrostKeyShare } from './key-share.js';
import {
  aggregate,
  commit,
  prepareSigning,
  type SignerCommitment,
  type SigningNonces,
  type SigningPackage,
  signShare,
  verifyShare,
  verifySignature,
} from './signing-core.js';
import { ed25519Suite, type Suite } from './suite.js';

const R1_TAG = 'tessera/frost/sign/r1/v1';
const R2_TAG = 'tessera/frost/sign/r2/v1';

/** Non-hardened derivation to apply to the key for this signature (mpcium derivation_path). */
export interface Derivation {
  readonly chainCode: Uint8Array;
  readonly path: readonly number[];
}

/** Inputs of one signer. */
export interface SignOptions {
  readonly sessionId: string;
  readonly self: string;
  /** The signing set (t+1 or more of the key's participants); order does not matter. */
  readonly signers: readonly string[];
  readonly keyShare: FrostKeyShare;
  readonly message: Uint8Array;
  readonly derivation?: Derivation;
  /**
   * Where this signer records the contexts it has started: `start()` refuses a context recorded
   * before (`SigningContextReusedError`). A node passes its vault's durable log (docs/tss.md).
   */
  readonly signingLog: SigningLog;
  readonly rng?: Rng;
  readonly group?: Group;
}

/** What a signing session returns. */
export interface SignResult {
  /** RFC 8032 signature R ‖ S. */
  readonly signature: Uint8Array;
  /** The key the signature verifies under (the derived child key when a derivation was given). */
  readonly publicKey: Uint8Array;
}

/** One signer of a FROST signing session. Construction throws `InvalidArgumentError` on bad inputs. */
export class FrostSignParty extends RoundProtocol<SignResult> {
  private readonly suite: Suite;
  private readonly group: Group;
  private readonly rng: Rng;
  private readonly signingLog: SigningLog;
  private readonly share: FrostKeyShare;
  private readonly message: Uint8Array;
  /** Digest of everything this signature is bound to (session, key package, message, derivation, signer set). */
  readonly context: Uint8Array;
  private readonly ids: ReadonlyMap<string, bigint>;
  private readonly publicKey: Point;
  private readonly verifying: ReadonlyMap<string, Point>;
  private readonly tweak: bigint;
  private readonly others: string[];
  private nonces: SigningNonces | undefined;
  private readonly commitments = new Map<string, SignerCommitment>();
  private ownR1: Uint8Array = new Uint8Array(0);
  private ownR2: Uint8Array = new Uint8Array(0);
  private myEcho: Uint8Array = new Uint8Array(0);
  private pkg: SigningPackage | undefined;
  private ownZ = 0n;

  constructor(opts: SignOptions) {
    // The signing set is canonicalised (sorted), so signers that computed it from their own view in
    // different orders still agree on the transcript.
    super({ sessionId: opts.sessionId, self: opts.self, participants: [...opts.signers].sort() }, 2, 256 + 32 * 1024);
    const key = opts.keyShare;
    if (key.isDisposed) throw new InvalidArgumentError('key share was disposed');
    if (key.self !== opts.self) throw new InvalidArgumentError('the key share belongs to another party');
    if (opts.signers.length < key.threshold + 1)
      throw new InvalidArgumentError(`signing needs at least t+1 = ${key.threshold + 1} signers`);
    for (const s of opts.signers)
      if (!key.participants.includes(s)) throw new InvalidArgumentError('a signer is not a participant of the key');
    if (!(opts.message instanceof Uint8Array)) throw new InvalidArgumentError('message must be bytes');
    if (opts.derivation) validatePath(opts.derivation.path);
    this.group = opts.group ?? getGroup('ed25519');
    this.suite = ed25519Suite(this.group);
    if (typeof opts.signingLog?.claim !== 'function')
      throw new InvalidArgumentError("a signing log is required (the vault's durable log in a node)");
    this.signingLog = opts.signingLog;
    this.rng = opts.rng ?? systemRng;
    this.share = key;
    this.message = Uint8Array.from(opts.message);
    this.others = opts.signers.filter((s) => s !== opts.self);
    const dec = decodeKeyPublic(key.public, this.group);
    this.ids = dec.identifiers;
    const g = this.group;
    if (opts.derivation) {
      const child = deriveChild(key.public.groupPublicKey, opts.derivation.chainCode, opts.derivation.path, g);
      this.tweak = child.tweak;
      const dG = g.baseMul(child.tweak);
      this.publicKey = g.add(dec.groupPublicKey, dG);
      this.verifying = new Map(opts.signers.map((s) => [s, g.add(dec.verifyingShares.get(s)!, dG)]));
    } else {
      this.tweak = 0n;
      this.publicKey = dec.groupPublicKey;
      this.verifying = dec.verifyingShares;
    }
    // The package digest comes from the content-keyed decoded cache (never from object identity:
    // a package mutated in place would otherwise keep binding its old digest).
    const kd = dec.digest;
    const path = new ByteWriter().u16(opts.derivation?.path.length ?? 0);
    for (const i of opts.derivation?.path ?? []) path.u32(i);
    this.context = taggedHash(
      'sha256',
      'tessera/frost/sign/context/v1',
      utf8(opts.sessionId),
      kd,
      this.message,
      opts.derivation ? opts.derivation.chainCode : new Uint8Array(0),
      path.finish(),
      ...this.participants.map(utf8),
    );
  }

  protected expect(_round: number): RoundExpectation {
    return { broadcast: this.others, direct: [] };
  }

  protected begin(): Outgoing[] {
    // Before any nonce exists: a context started before is refused [2/F2].
    claimSigningContext(this.signingLog, this.context);
    const g = this.group;
    const s = this.secret();
    // RFC 9591 nonce_generate takes 32 random bytes; they are hedged with the signing context so a
    // failing RNG still cannot repeat nonces across sessions or messages.
    const c = commit(this.suite, s, hedgedRng(this.rng, this.context));
    this.nonces = c.nonces;
    const id = this.ids.get(this.self)!;
    this.commitments.set(this.self, { identifier: id, hiding: c.hiding, binding: c.binding });
    this.ownR1 = new ByteWriter()
      .tag(R1_TAG)
      .raw(this.context)
      .raw(g.encodePoint(c.hiding))
      .raw(g.encodePoint(c.binding))
      .finish();
    return [{ to: null, payload: this.ownR1 }];
  }

  private secret(): bigint {
    return mod(this.share.secretScalar(this.group) + this.tweak, this.group.order);
  }

  protected process(round: number, inbox: RoundInbox): RoundStep<SignResult> {
    if (round === 1) {
      // z_i depends on the nonces and the share: computed once, durably (a process resumed from a
      // mid-session snapshot must not answer other commitments with the same nonces).
      claimSigningStep(this.signingLog, this.context, 2);
      return this.round1(inbox);
    }
    return this.round2(inbox);
  }

  private round1(inbox: RoundInbox): RoundStep<SignResult> {
    const g = this.group;
    for (const p of this.others) {
      const payload = inbox.broadcast.get(p)!;
      const parsed = this.parse(p, 'signing commitment', () => {
        const r = new ByteReader(payload);
        r.expectTag(R1_TAG);
        const ctx = r.raw(32);
        if (!bytesEqual(ctx, this.context)) {
          throw new ProtocolAbortedError(
            'signing context mismatch (key version, message, derivation or signer set differ)',
            [p],
          );
        }
        const hiding = g.decodePoint(r.raw(g.pointLength));
        const binding = g.decodePoint(r.raw(g.pointLength));
        r.end();
        return { hiding, binding };
      });
      this.commitments.set(p, { identifier: this.ids.get(p)!, ...parsed });
    }
    const all = new Map(inbox.broadcast);
    all.set(this.self, this.ownR1);
    this.myEcho = echoVector(this.sessionId, 1, this.participants, all);
    const pkg = prepareSigning(this.suite, this.publicKey, [...this.commitments.values()], this.message);
    this.pkg = pkg;
    const nonces = this.nonces;
    if (!nonces || nonces.isUsed) throw new ProtocolAbortedError('signing nonces already used', []);
    this.ownZ = signShare(this.suite, pkg, this.ids.get(this.self)!, this.secret(), nonces);
    this.ownR2 = new ByteWriter().tag(R2_TAG).bytes(this.myEcho).raw(g.encodeScalar(this.ownZ)).finish();
    return { send: [{ to: null, payload: this.ownR2 }] };
  }

  private round2(inbox: RoundInbox): RoundStep<SignResult> {
    const g = this.group;
    const pkg = this.pkg!;
    const zs = new Map<string, bigint>([[this.self, this.ownZ]]);
    const echoes = new EchoCollector(this.self, this.participants, this.myEcho);
    for (const p of this.others) {
      const payload = inbox.broadcast.get(p)!;
      const { echo, z } = this.parse(p, 'signature share', () => {
        const r = new ByteReader(payload);
        r.expectTag(R2_TAG);
        const echo = r.bytes(32 * this.participants.length);
        const z = g.decodeScalar(r.raw(g.scalarLength));
        r.end();
        return { echo, z };
      });
      echoes.add(p, echo);
      zs.set(p, z);
    }
    echoes.verdict();
    const cheaters = this.others.filter(
      (p) => !verifyShare(this.suite, pkg, this.ids.get(p)!, this.verifying.get(p)!, zs.get(p)!),
    );
    if (cheaters.length > 0) throw new ProtocolAbortedError('invalid signature share', cheaters);
    const signature = aggregate(
      this.suite,
      pkg,
      this.participants.map((p) => zs.get(p)!),
    );
    if (!verifySignature(this.suite, this.publicKey, this.message, signature)) {
      throw new ProtocolAbortedError('aggregate signature does not verify', []);
    }
    return { result: { signature, publicKey: g.encodePoint(this.publicKey) } };
  }

  protected wipe(): void {
    this.nonces?.dispose();
    this.ownZ = 0n;
  }
}
