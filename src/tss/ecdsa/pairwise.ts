/**
 * Both directions of the OT state between this party and one peer, as the key share stores it,
 * and a driver that sets both up in five rounds (one message each way per round).
 *
 * Direction "out" (self → peer): this party is the OT-extension SENDER (multiplication sender,
 * Alice). Direction "in" (peer → self): this party is the OT-extension RECEIVER (Bob).
 *
 * Round r (1..5): `PairwiseOtSetup.round(r, incoming)` takes the peer's round-(r−1) message
 * (none for r = 1) and returns this party's round-r message; `finish(peer's round-5 message)`
 * returns the `PairwiseOt`. Odd rounds carry the base-OT sender's flights of the "in" direction,
 * even rounds the base-OT receiver's flights of the "out" direction, and vice versa for what comes
 * in. Any failure burns everything of this pair; a burnt pair must be set up again from scratch.
 */
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { concat } from '../math/hash.js';
import { type Rng, setupRng, systemRng } from '../math/rng.js';
import { OtStateBurnedError } from '../ot/errors.js';
import { OtExtReceiver, OtExtSender, OtSetupAsReceiver, OtSetupAsSender } from '../ot/kos.js';
import { encodeU32 } from '../ot/wire.js';

const PAIR_VERSION = 1;

/** The pairwise OT state of one party with one peer (both directions). */
export class PairwiseOt {
  #burned = false;
  constructor(
    readonly selfId: string,
    readonly peerId: string,
    /** self → peer: this party is the extension sender (Alice). */
    readonly out: OtExtSender,
    /** peer → self: this party is the extension receiver (Bob). */
    readonly in_: OtExtReceiver,
  ) {
    if (out.senderId !== selfId || out.receiverId !== peerId || in_.senderId !== peerId || in_.receiverId !== selfId) {
      throw new InvalidArgumentError('pairwise OT states do not match the two parties');
    }
  }

  /** True if either direction is burnt (the pair then needs a new setup). */
  get burned(): boolean {
    return this.#burned || this.out.burned || this.in_.burned;
  }

  /** Destroys both directions (call on any abort that involves this peer's OT). */
  burn(): void {
    this.#burned = true;
    this.out.destroy();
    this.in_.destroy();
  }

  /**
   * Canonical serialisation of both directions (secret). Throws `OtStateBurnedError` if either is
   * burnt (and then burns both).
   */
  serialize(): Uint8Array {
    if (this.burned) {
      this.burn();
      throw new OtStateBurnedError(`the pairwise OT state with ${this.peerId}`);
    }
    const a = this.out.serialize();
    const b = this.in_.serialize();
    return concat(Uint8Array.of(PAIR_VERSION), encodeU32(a.length), a, encodeU32(b.length), b);
  }

  /** Inverse of `serialize`. Throws `InvalidArgumentError` on malformed bytes or mismatching parties. */
  static deserialize(bytes: Uint8Array): PairwiseOt {
    const fail = (why: string): never => {
      throw new InvalidArgumentError(`not a valid pairwise OT state: ${why}`);
    };
    if (bytes.length < 9 || bytes[0] !== PAIR_VERSION) fail('wrong version');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const la = dv.getUint32(1, false);
    if (5 + la + 4 > bytes.length) fail('truncated');
    const lb = dv.getUint32(5 + la, false);
    if (9 + la + lb !== bytes.length) fail('length mismatch');
    const out = OtExtSender.deserialize(bytes.subarray(5, 5 + la));
    const in_ = OtExtReceiver.deserialize(bytes.subarray(9 + la));
    return new PairwiseOt(out.senderId, out.receiverId, out, in_);
  }
}

/** Parameters of a pairwise setup: the same `setupId` on both sides (e.g. the DKG session id). */
export interface PairwiseOtParams {
  setupId: Uint8Array;
  selfId: string;
  peerId: string;
}

/** Drives the two base-OT runs with one peer over five rounds. */
export class PairwiseOtSetup {
  readonly #params: PairwiseOtParams;
  readonly #asSender: OtSetupAsSender; // "out": base-OT receiver
  readonly #asReceiver: OtSetupAsReceiver; // "in": base-OT sender
  #round = 0;
  #failed = false;
  #finished = false;
  #inResult: OtExtReceiver | undefined;

  /**
   * Each direction draws from its own stream: `random` hedged with (setup id, self, peer, role), so
   * Δ, the base-OT keys and the proof nonces of a run under another setup id are independent of
   * this one's even if `random` replays [5/R-D]. The protocol parties pass their own stream,
   * already hedged with their key share's secret where they hold one. Throws `InvalidArgumentError`
   * on bad parameters.
   */
  constructor(params: PairwiseOtParams, random: Rng = systemRng) {
    if (params.selfId === params.peerId) throw new InvalidArgumentError('a pair needs two distinct parties');
    const { setupId, selfId, peerId } = params;
    this.#params = { setupId, selfId, peerId };
    const stream = (role: string) =>
      setupRng(random, `tessera/ot/pair-setup/${role}`, setupId, selfId, { peer: peerId });
    this.#asSender = new OtSetupAsSender({ setupId, senderId: selfId, receiverId: peerId }, stream('extension-sender'));
    this.#asReceiver = new OtSetupAsReceiver(
      { setupId, senderId: peerId, receiverId: selfId },
      stream('extension-receiver'),
    );
  }

  #guard<T>(f: () => T): T {
    if (this.#failed) throw new OtStateBurnedError(`the pairwise OT setup with ${this.#params.peerId}`);
    try {
      return f();
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  /**
   * Wipes every secret of a setup that will not be finished (both directions' base-OT runs, Δ, a
   * finished incoming direction); every later call throws `OtStateBurnedError`. A finished setup
   * (after `finish`) is unaffected: its state belongs to the returned `PairwiseOt`. Does not throw.
   */
  abandon(): void {
    if (this.#finished) return;
    this.#failed = true;
    this.#inResult?.destroy();
    this.#inResult = undefined;
    this.#asSender.abandon();
    this.#asReceiver.abandon();
  }

  /**
   * Returns this party's message of round `r` (1..5), given the peer's message of round r − 1
   * (`undefined` for r = 1). Throws `InvalidStateError` out of order, and the base OT's
   * `MalformedMessageError` / `OtCheckFailedError` (blaming the peer) — after which the setup is
   * dead and every later call throws `OtStateBurnedError`.
   */
  round(r: number, incoming?: Uint8Array): Uint8Array {
    if (this.#failed) throw new OtStateBurnedError(`the pairwise OT setup with ${this.#params.peerId}`);
    if (r !== this.#round + 1 || r > 5) throw new InvalidStateError(`pairwise OT setup: round ${r} out of order`);
    if ((r === 1) !== (incoming === undefined))
      throw new InvalidArgumentError('round 1 takes no incoming message; later rounds need one');
    return this.#guard(() => {
      this.#round = r;
      const inc = incoming as Uint8Array;
      switch (r) {
        case 1:
          return this.#asReceiver.baseOt.setupMessage(); // in: flight 1
        case 2:
          return this.#asSender.baseOt.onSetup(inc); // out: flight 1 → flight 2
        case 3:
          return this.#asReceiver.baseOt.onChoices(inc); // in: flight 2 → flight 3
        case 4:
          return this.#asSender.baseOt.onChallenges(inc); // out: flight 3 → flight 4
        default: {
          const { message, output } = this.#asReceiver.baseOt.onResponses(inc); // in: flight 4 → flight 5
          this.#inResult = this.#asReceiver.finish(output);
          return message;
        }
      }
    });
  }

  /** Takes the peer's round-5 message and returns the finished pairwise state. Same errors as `round`. */
  finish(incoming: Uint8Array): PairwiseOt {
    if (this.#failed) throw new OtStateBurnedError(`the pairwise OT setup with ${this.#params.peerId}`);
    if (this.#round !== 5 || this.#inResult === undefined)
      throw new InvalidStateError('pairwise OT setup: finish before round 5');
    return this.#guard(() => {
      this.#round = 6;
      const out = this.#asSender.finish(this.#asSender.baseOt.onOpenings(incoming)); // out: flight 5
      const pair = new PairwiseOt(this.#params.selfId, this.#params.peerId, out, this.#inResult!);
      this.#finished = true;
      return pair;
    });
  }
}
