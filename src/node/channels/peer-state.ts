/**
 * What a node keeps per peer: at most {@link MAX_CHANNELS_PER_PEER} channels, the one sends use,
 * the peer's boot epoch, its send queue and the token buckets bounding what it can make us do.
 *
 * Confirmation: an initiator's channel is confirmed when the signed reply to our fresh hello
 * arrives; a responder's when the first frame decrypts on it (the initiator holds the keys, so the
 * hello was not a replay). Only a confirmed channel becomes `current`, and only a confirmed channel
 * can reveal that the peer restarted (a new epoch): then every channel of the old epoch goes, and
 * the caller forgets the peer's inbound session sequences. A replayed hello can therefore only add
 * an unconfirmed channel — and unconfirmed channels are evicted first.
 */
import type { KeyObject } from 'node:crypto';
import type { Channel } from './channel.js';
import { TokenBucket } from './replay-window.js';
import type { ChannelMessage } from './types.js';

export const MAX_CHANNELS_PER_PEER = 4;
/** Validly signed hellos answered per peer: a burst of 8, then 2 a second. */
const HELLO_BURST = 8;
const HELLO_PER_SECOND = 2;
/** Rekey notices sent to, and acted on from, one peer. */
const NOTICE_BURST = 4;
const NOTICE_PER_SECOND = 2;

/** A message waiting for (or being given to) a channel. */
export interface Outgoing {
  readonly msg: ChannelMessage;
  /** The broadcast signature, signed when the message was sent. */
  readonly signature: Uint8Array | undefined;
  /** True if `msg.payload` is our own copy (a queued message), wiped once sent or failed. */
  readonly ownsPayload: boolean;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

export class PeerState {
  /** Oldest first. */
  private list: Channel[] = [];
  /** The confirmed channel sends go out on. */
  current: Channel | undefined;
  /** The peer's boot epoch, as the last confirmed channel showed it. */
  private epoch: Uint8Array | undefined;
  /** The running outgoing handshake (one at a time). */
  handshake: Promise<void> | undefined;
  queue: Outgoing[] = [];
  readonly hellos = new TokenBucket(HELLO_BURST, HELLO_PER_SECOND);
  /**
   * Hashes of the hellos answered lately (bounded): a replayed hello — validly signed, so it would
   * pass the signature check — is refused before it spends the peer's handshake budget.
   */
  private readonly answered = new Set<string>();

  /** True if this hello was answered before (as far as remembered). Does not throw. */
  answeredBefore(hash: string): boolean {
    return this.answered.has(hash);
  }

  /** Remembers an answered hello (the newest 1024). Does not throw. */
  rememberAnswered(hash: string): void {
    this.answered.add(hash);
    if (this.answered.size > 1024) this.answered.delete(this.answered.values().next().value as string);
  }
  readonly noticesOut = new TokenBucket(NOTICE_BURST, NOTICE_PER_SECOND);
  readonly noticesIn = new TokenBucket(NOTICE_BURST, NOTICE_PER_SECOND);

  /** `byId` is the node-wide index of channels by id (shared by every peer). */
  constructor(
    readonly id: string,
    readonly publicKey: KeyObject,
    private readonly byId: Map<string, Channel>,
  ) {}

  /** The channels, oldest first. Does not throw. */
  get channels(): readonly Channel[] {
    return this.list;
  }

  /** True if a send can go out at once (nothing queued, a usable current channel). Does not throw. */
  get ready(): boolean {
    return this.queue.length === 0 && this.current !== undefined && !this.current.exhausted;
  }

  /**
   * Adds a new channel, evicting one beyond the bound (an unconfirmed one first, the current one
   * last); a confirmed one is confirmed at once (see `confirm`). Returns `confirm`'s answer. Throws
   * `Error` on a channel id already in use (then the channel is wiped).
   */
  install(ch: Channel): boolean {
    if (this.byId.has(ch.idHex)) {
      ch.wipe();
      throw new Error('channel id collision');
    }
    if (this.list.length >= MAX_CHANNELS_PER_PEER) {
      const victim = this.list.find((c) => !c.confirmed) ?? this.list.find((c) => c !== this.current) ?? this.list[0]!;
      this.drop(victim);
    }
    this.list.push(ch);
    this.byId.set(ch.idHex, ch);
    return ch.confirmed ? this.confirm(ch) : false;
  }

  /**
   * Marks `ch` proven fresh and makes it current. Returns true if it shows a new boot epoch of
   * the peer (it restarted): the channels of other epochs are dropped, and the caller must forget
   * the peer's inbound session sequences. Does not throw.
   */
  confirm(ch: Channel): boolean {
    ch.confirmed = true;
    const restarted = this.epoch !== undefined && !sameBytes(this.epoch, ch.peerEpoch);
    if (restarted) for (const c of [...this.list]) if (!sameBytes(c.peerEpoch, ch.peerEpoch)) this.drop(c);
    this.epoch = ch.peerEpoch;
    this.current = ch;
    return restarted;
  }

  /** Removes and wipes `ch`; if it was current, the newest other confirmed one takes over. Does not throw. */
  drop(ch: Channel): void {
    this.list = this.list.filter((c) => c !== ch);
    this.byId.delete(ch.idHex);
    ch.wipe();
    if (this.current === ch) this.current = this.list.findLast((c) => c.confirmed);
  }

  /** Drops every channel. Does not throw. */
  dropAll(): void {
    for (const c of [...this.list]) this.drop(c);
  }
}
