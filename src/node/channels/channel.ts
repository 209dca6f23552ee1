/**
 * One established channel with a peer: two directional AES-256-GCM keys and their counters.
 *
 * Nonce uniqueness: a key encrypts in one direction only (the initiator's send key is the
 * responder's receive key and vice versa), every handshake derives fresh keys (both ephemerals are
 * fresh), and the 96-bit nonce is the direction's counter, which only `seal` advances, strictly
 * increasing from 1 and never reset; at {@link MAX_COUNTER} the channel is exhausted and refuses to
 * seal (the owner re-handshakes). The receiver accepts a counter only above the last one it
 * accepted in that direction (replays and reordering refused) and only after the tag verified.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { InvalidStateError } from '../../common/errors.js';
import type { ChannelKeys } from './handshake.js';
import { type DataFrame, type DataHeader, encodeDataFrame, encodeDataHeader, GCM_TAG_BYTES } from './wire.js';

/** The last counter a direction may use (2^32 − 1 messages per channel direction). */
export const MAX_COUNTER = 0xffff_ffff;

function nonce(counter: number): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(counter, 8);
  return iv;
}

export class Channel {
  readonly id: Uint8Array;
  /** The id as a map key (public: it travels in every frame). */
  readonly idHex: string;
  readonly peer: string;
  readonly peerEpoch: Uint8Array;
  readonly initiator: boolean;
  /** A responder's channel is confirmed by the first frame that decrypts on it; an initiator's at once. */
  confirmed: boolean;
  private sendKey: Buffer;
  private recvKey: Buffer;
  private sendCounter: number;
  private recvCounter = 0;
  private wiped = false;

  /** Takes ownership of the key buffers (it wipes them). `startCounter` exists for tests of exhaustion. Does not throw. */
  constructor(keys: ChannelKeys, startCounter = 0) {
    this.id = keys.channelId;
    this.idHex = Buffer.from(keys.channelId).toString('hex');
    this.peer = keys.peer;
    this.peerEpoch = keys.peerEpoch;
    this.initiator = keys.initiator;
    this.confirmed = keys.initiator;
    this.sendKey = keys.sendKey;
    this.recvKey = keys.recvKey;
    this.sendCounter = startCounter;
  }

  /** True once the send direction used its last counter (or the keys were wiped). Does not throw. */
  get exhausted(): boolean {
    return this.wiped || this.sendCounter >= MAX_COUNTER;
  }

  /**
   * Encrypts `plaintext` under the next counter and returns the whole data frame. Throws
   * `InvalidStateError` if the channel is exhausted or wiped, `InvalidArgumentError` on an
   * out-of-range header field (then no counter is used).
   */
  seal(h: Omit<DataHeader, 'channelId' | 'counter'>, plaintext: Uint8Array): Uint8Array {
    if (this.exhausted) throw new InvalidStateError('the channel is exhausted; it must be re-keyed');
    const counter = this.sendCounter + 1;
    const aad = encodeDataHeader({ ...h, channelId: this.id, counter });
    this.sendCounter = counter;
    const c = createCipheriv('aes-256-gcm', this.sendKey, nonce(counter), { authTagLength: GCM_TAG_BYTES });
    c.setAAD(aad);
    const sealed = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    return encodeDataFrame(aad, sealed);
  }

  /** True if `counter` is above the last accepted one of the receive direction. Does not throw. */
  isFresh(counter: number): boolean {
    return counter > this.recvCounter;
  }

  /**
   * Decrypts a frame addressed to this channel; returns the plaintext (the caller wipes it) and
   * advances the receive counter, or `undefined` if the counter is not fresh or the tag does not
   * verify (nothing changes then). Does not throw.
   */
  open(f: DataFrame): Buffer | undefined {
    if (this.wiped || !this.isFresh(f.counter)) return undefined;
    const ctLength = f.sealed.length - GCM_TAG_BYTES;
    let out: Buffer | undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.recvKey, nonce(f.counter), { authTagLength: GCM_TAG_BYTES });
      d.setAuthTag(f.sealed.subarray(ctLength));
      d.setAAD(f.aad);
      out = d.update(f.sealed.subarray(0, ctLength));
      const rest = d.final();
      if (rest.length > 0) out = Buffer.concat([out, rest]);
    } catch {
      out?.fill(0);
      return undefined;
    }
    this.recvCounter = f.counter;
    return out;
  }

  /** Zeroes both keys; the channel seals and opens nothing afterwards. Does not throw. */
  wipe(): void {
    this.sendKey.fill(0);
    this.recvKey.fill(0);
    this.wiped = true;
  }
}
