/**
 * Pairwise OT re-setup: members of an existing key (any ≥ 2 of its committee) run a fresh
 * `PairwiseOtSetup` between every two of them and install the new pairs into their key shares.
 * This is how a pair burnt by an aborted signing (DKLs23 selective-abort defence) is restored.
 * The key itself (shares, public package, zero-sharing seeds) is unchanged.
 *
 *  1–5 direct: OT flights 1–5 (both directions interleaved) with every other member.
 *  6 broadcast: confirmation H(context); a party installs its new pairs only when every member
 *               confirmed, i.e. every pair setup succeeded on both ends.
 *
 * The context binds session id, the key package digest (incl. version) and the ordered member
 * list; it is the setup id every new pair's OT context derives from.
 */

import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { getGroup } from '../group/index.js';
import { bytesEqual, taggedHash, utf8 } from '../math/hash.js';
import { type Rng, setupRng, systemRng } from '../math/rng.js';
import { ProtocolAbortedError } from '../session/errors.js';
import {
  type Outgoing,
  type RoundExpectation,
  type RoundInbox,
  RoundProtocol,
  type RoundStep,
} from '../session/party.js';
import { claimSetupContext, claimSetupStep, type SetupLog } from '../session/signing-log.js';
import { withOtAbort } from './abort.js';
import { type EcdsaKeyShare, ecdsaKeyPublicDigest } from './key-share.js';
import { type PairwiseOt, PairwiseOtSetup } from './pairwise.js';

const OT_TAG = 'tessera/ecdsa/ot-resetup/ot/v1';
const CONFIRM_TAG = 'tessera/ecdsa/ot-resetup/confirm/v1';

/** Inputs of one member. */
export interface EcdsaOtResetupOptions {
  /** Unique per re-setup: a session id already used with the same members for this key is refused. */
  readonly sessionId: string;
  readonly self: string;
  /** Members that set up fresh pairs among themselves (≥ 2, members of the key, same order everywhere). */
  readonly members: readonly string[];
  readonly keyShare: EcdsaKeyShare;
  /**
   * The node's durable setup log (the vault's `claimSetupContext`): the re-setup claims its context
   * before drawing any secret and a marker before each step that answers a peer's OT message, so a
   * session id used before (even one whose pairs were never installed) is refused (see
   * `EcdsaDkgOptions.setupLog`) [5/R-D].
   */
  readonly setupLog: SetupLog;
  readonly rng?: Rng;
}

/** What a member gets: its key share, with the new pairs installed, and the peers that got one. */
export interface EcdsaOtResetupResult {
  readonly keyShare: EcdsaKeyShare;
  readonly peers: readonly string[];
}

/** Runs {@link PairwiseOtSetup} with every other member over five rounds, then confirms. */
export class EcdsaOtResetupParty extends RoundProtocol<EcdsaOtResetupResult> {
  private readonly share: EcdsaKeyShare;
  private readonly ctx: Uint8Array;
  private readonly others: string[];
  private readonly setups = new Map<string, PairwiseOtSetup>();
  private readonly pairs = new Map<string, PairwiseOt>();
  private readonly rng: Rng;
  private readonly setupLog: SetupLog;

  /** Throws `InvalidArgumentError` on bad inputs and `InvalidStateError` for a disposed share. */
  constructor(opts: EcdsaOtResetupOptions) {
    super({ sessionId: opts.sessionId, self: opts.self, participants: opts.members }, 6, 64 * 1024);
    if (opts.keyShare.isDisposed) throw new InvalidStateError('key share was disposed');
    if (opts.keyShare.self !== opts.self) throw new InvalidArgumentError('key share belongs to another party');
    for (const m of opts.members)
      if (!opts.keyShare.participants.includes(m)) throw new InvalidArgumentError('a member is not part of this key');
    if (typeof opts.setupLog?.claim !== 'function')
      throw new InvalidArgumentError("a re-setup party needs the node's setup log (setupLog)");
    this.share = opts.keyShare;
    this.setupLog = opts.setupLog;
    this.others = opts.members.filter((p) => p !== opts.self);
    this.ctx = taggedHash(
      'sha256',
      'tessera/ecdsa/ot-resetup/context/v1',
      utf8(opts.sessionId),
      ecdsaKeyPublicDigest(opts.keyShare.public),
      ...opts.members.map(utf8),
    );
    // Hedged with the context and the key share's secret, so a replayed random stream under another
    // context draws an independent Δ and base-OT keys [5/R-D].
    const secret = getGroup('secp256k1').encodeScalar(opts.keyShare.secretScalar());
    this.rng = setupRng(opts.rng ?? systemRng, 'tessera/ecdsa/ot-resetup', this.ctx, opts.self, { secret });
    secret.fill(0);
    // The setup id of the new pairs is this context: a re-setup repeated with the same session id
    // and members would install pairs with the same id as the earlier one, so ends from the two
    // attempts could not be told apart at signing. Refuse the repeat [4/Info].
    for (const p of this.others) {
      const st = opts.keyShare.peers.get(p);
      if (st !== undefined && bytesEqual(st.otSetupId, this.ctx))
        throw new InvalidArgumentError(
          'this re-setup session id was already used with these members for this key; use a new session id',
        );
    }
  }

  protected expect(round: number): RoundExpectation {
    return round === 6 ? { broadcast: this.others, direct: [] } : { broadcast: [], direct: this.others };
  }

  private wrap(msg: Uint8Array): Uint8Array {
    return new ByteWriter().tag(OT_TAG).raw(this.ctx).bytes(msg).finish();
  }

  protected begin(): Outgoing[] {
    claimSetupContext(this.setupLog, this.ctx);
    return this.others.map((p) => {
      const s = new PairwiseOtSetup({ setupId: this.ctx, selfId: this.self, peerId: p }, this.rng);
      this.setups.set(p, s);
      return { to: p, payload: this.wrap(s.round(1)) };
    });
  }

  protected process(round: number, inbox: RoundInbox): RoundStep<EcdsaOtResetupResult> {
    if (round === 6) return this.confirm(inbox);
    // Rounds 1–4 answer the peers' OT flights with this party's fixed secrets: each once, durably.
    if (round <= 4) claimSetupStep(this.setupLog, this.ctx, round + 1);
    const out: Outgoing[] = [];
    for (const p of this.others) {
      const msg = this.parse(p, 'OT setup message', () => {
        const r = new ByteReader(inbox.direct.get(p)!);
        r.expectTag(OT_TAG);
        if (!bytesEqual(r.raw(32), this.ctx))
          throw new ProtocolAbortedError('re-setup context differs (another session, key or member set)', [p]);
        const m = r.bytes(64 * 1024);
        r.end();
        return m;
      });
      const setup = this.setups.get(p)!;
      if (round < 5)
        out.push({ to: p, payload: this.wrap(withOtAbort(p, 'pairwise OT setup', () => setup.round(round + 1, msg))) });
      else
        this.pairs.set(
          p,
          withOtAbort(p, 'pairwise OT setup', () => setup.finish(msg)),
        );
    }
    if (round < 5) return { send: out };
    this.setups.clear();
    return { send: [this.confirmationMessage(CONFIRM_TAG, this.confirmDigest())] };
  }

  private confirmDigest(): Uint8Array {
    return taggedHash('sha256', 'tessera/ecdsa/ot-resetup/confirmation/v1', this.ctx);
  }

  private confirm(inbox: RoundInbox): RoundStep<EcdsaOtResetupResult> {
    this.checkConfirmations(
      inbox,
      this.others,
      CONFIRM_TAG,
      this.confirmDigest(),
      'a member confirmed another re-setup',
    );
    for (const [p, pair] of this.pairs) this.share.installPair(p, this.ctx, pair);
    this.pairs.clear();
    return { result: { keyShare: this.share, peers: [...this.others] } };
  }

  protected wipe(): void {
    for (const p of this.pairs.values()) p.burn();
    this.pairs.clear();
    for (const st of this.setups.values()) st.abandon();
    this.setups.clear();
  }
}
