/**
 * Authenticated, encrypted node-to-node channels over the {@link Bus} (docs/node.md, "Channels").
 *
 * Subjects: `${prefix}.node.${id}.hs` (handshake requests), `.msg` (data frames), `.rekey`
 * (notices "I hold no such channel"). The sender of a data frame is the peer of the channel it
 * decrypts on — never the subject, never a payload field. Every inbound handler catches everything
 * and reports a {@link ChannelRejection}; no input escapes as an exception. State is bounded: ≤ 4
 * channels per peer, `maxPendingSends` queued messages, `maxTrackedSessions` sequence counters per
 * direction, one outgoing handshake per peer, token buckets on answered hellos and on notices.
 */
import type { KeyObject } from 'node:crypto';
import { createPublicKey, sign } from 'node:crypto';
import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError, NotFoundError, TimeoutError } from '../../common/errors.js';
import { secureRandomBytes } from '../../common/random.js';
import { type Bus, type BusMessage, checkPublishSubject, type Subscription } from '../../transport/index.js';
import { Channel } from './channel.js';
import { ChannelError, Refused } from './errors.js';
import { answerHello, checkHelloNames, createHello, finishHello, type HandshakeContext } from './handshake.js';
import { SessionSequences, TokenBucket } from './replay-window.js';
import { broadcastSignedBytes, ed25519PublicKey, signBroadcast, verifyEd25519 } from './signed-broadcast.js';
import {
  type ChannelMessage,
  type ChannelRejection,
  type ChannelsOptions,
  type InboundMessage,
  MAX_CHANNEL_PAYLOAD_BYTES,
  MAX_SESSION_ID_BYTES,
} from './types.js';
import {
  type DataFrame,
  decodeDataFrame,
  decodeHello,
  decodeRekey,
  EPOCH_BYTES,
  MODE_BROADCAST,
  MODE_DIRECT,
  rekeyBody,
  SIGNATURE_BYTES,
  withSignature,
} from './wire.js';

const NODE_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_CHANNELS_PER_PEER = 4;
/** Hellos answered per peer: a burst of 8, then 2 a second. */
const HELLO_BURST = 8;
const HELLO_PER_SECOND = 2;
/** Rekey notices sent to, and processed from, one peer. */
const NOTICE_BURST = 4;
const NOTICE_PER_SECOND = 2;

interface Outgoing {
  readonly msg: ChannelMessage;
  readonly signature: Uint8Array | undefined;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

interface Peer {
  readonly id: string;
  readonly publicKey: KeyObject;
  /** Oldest first. */
  channels: Channel[];
  /** The confirmed channel sends go out on. */
  current: Channel | undefined;
  /** The peer's boot epoch, as the last confirmed channel showed it. */
  epoch: Uint8Array | undefined;
  handshake: Promise<void> | undefined;
  queue: Outgoing[];
  readonly hellos: TokenBucket;
  readonly noticesOut: TokenBucket;
  readonly noticesIn: TokenBucket;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Checks a message to send. Throws `InvalidArgumentError` naming the bad field. */
function checkMessage(msg: ChannelMessage): void {
  const s = msg.sessionId;
  if (typeof s !== 'string' || !s.isWellFormed() || Buffer.byteLength(s) > MAX_SESSION_ID_BYTES)
    throw new InvalidArgumentError(`sessionId must be well-formed Unicode of at most ${MAX_SESSION_ID_BYTES} bytes`);
  if (!Number.isInteger(msg.kind) || msg.kind < 0 || msg.kind > 0xff)
    throw new InvalidArgumentError('kind must be an integer in 0..255');
  if (!Number.isInteger(msg.round) || msg.round < 0 || msg.round > 0xffff)
    throw new InvalidArgumentError('round must be an integer in 0..65535');
  if (!(msg.payload instanceof Uint8Array) || msg.payload.length > MAX_CHANNEL_PAYLOAD_BYTES)
    throw new InvalidArgumentError(`payload must be at most ${MAX_CHANNEL_PAYLOAD_BYTES} bytes`);
  if (msg.to !== null && typeof msg.to !== 'string') throw new InvalidArgumentError('to must be a node id or null');
}

export class Channels {
  private readonly ctx: HandshakeContext;
  private readonly bus: Bus;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly peers = new Map<string, Peer>();
  private readonly byId = new Map<string, Channel>();
  private readonly outSeq: SessionSequences;
  private readonly inSeq: SessionSequences;
  private readonly messageHandlers: ((m: InboundMessage) => void)[] = [];
  private readonly rejectHandlers: ((r: ChannelRejection) => void)[] = [];
  private subs: Subscription[] = [];
  private state: 'new' | 'started' | 'closed' = 'new';
  private pending = 0;

  /**
   * Checks the options (no I/O). Throws `InvalidArgumentError`: a node id that is not 1–128 of
   * `A-Z a-z 0-9 _ -`, an identity key that is not an Ed25519 private key, a peer key that is not
   * 32 bytes of an Ed25519 key, self listed with another key, a bad subject prefix, timeout,
   * bound or boot epoch.
   */
  constructor(opts: ChannelsOptions) {
    if (typeof opts.self !== 'string' || !NODE_ID_RE.test(opts.self))
      throw new InvalidArgumentError("a node id is 1-128 letters, digits, '_' or '-'");
    const k = opts.identityKey;
    if (k?.type !== 'private' || k.asymmetricKeyType !== 'ed25519')
      throw new InvalidArgumentError('identityKey must be an Ed25519 private key');
    if (typeof opts.subjectPrefix !== 'string' || Buffer.byteLength(opts.subjectPrefix) > 200)
      throw new InvalidArgumentError('subjectPrefix must be a subject of at most 200 bytes');
    checkPublishSubject(`${opts.subjectPrefix}.node.${opts.self}.msg`);
    const timeoutMs = opts.handshakeTimeoutMs ?? 5000;
    const maxPending = opts.maxPendingSends ?? 10_000;
    const maxTracked = opts.maxTrackedSessions ?? 10_000;
    for (const [name, v] of [
      ['handshakeTimeoutMs', timeoutMs],
      ['maxPendingSends', maxPending],
      ['maxTrackedSessions', maxTracked],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    }
    const epoch = opts.bootEpoch ?? secureRandomBytes(EPOCH_BYTES);
    if (!(epoch instanceof Uint8Array) || epoch.length !== EPOCH_BYTES)
      throw new InvalidArgumentError(`bootEpoch must be ${EPOCH_BYTES} bytes`);
    const ownPublic = Buffer.from(createPublicKey(k).export({ format: 'jwk' }).x!, 'base64url');
    for (const [id, raw] of opts.peers) {
      if (typeof id !== 'string' || !NODE_ID_RE.test(id))
        throw new InvalidArgumentError("a peer's node id is 1-128 letters, digits, '_' or '-'");
      if (!(raw instanceof Uint8Array) || raw.length !== 32)
        throw new InvalidArgumentError(`the public key of ${id} must be 32 bytes`);
      if (id === opts.self) {
        if (!ownPublic.equals(raw)) throw new InvalidArgumentError('peers lists this node with another public key');
        continue;
      }
      let publicKey: KeyObject;
      try {
        publicKey = ed25519PublicKey(raw);
      } catch {
        throw new InvalidArgumentError(`the public key of ${id} is not an Ed25519 key`);
      }
      this.peers.set(id, {
        id,
        publicKey,
        channels: [],
        current: undefined,
        epoch: undefined,
        handshake: undefined,
        queue: [],
        hellos: new TokenBucket(HELLO_BURST, HELLO_PER_SECOND),
        noticesOut: new TokenBucket(NOTICE_BURST, NOTICE_PER_SECOND),
        noticesIn: new TokenBucket(NOTICE_BURST, NOTICE_PER_SECOND),
      });
    }
    this.ctx = { cluster: opts.subjectPrefix, self: opts.self, epoch: Uint8Array.from(epoch), identityKey: k };
    this.bus = opts.bus;
    this.timeoutMs = timeoutMs;
    this.maxPending = maxPending;
    this.outSeq = new SessionSequences(maxTracked);
    this.inSeq = new SessionSequences(maxTracked);
  }

  private subject(node: string, what: 'hs' | 'msg' | 'rekey'): string {
    return `${this.ctx.cluster}.node.${node}.${what}`;
  }

  /**
   * Subscribes to this node's subjects. Throws `InvalidStateError` if already started or closed,
   * or the bus's own error (e.g. `InvalidStateError` for a closed bus).
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new InvalidStateError(`the channels are already ${this.state}`);
    const self = this.ctx.self;
    this.subs = [
      this.bus.subscribe(this.subject(self, 'hs'), (m) => this.guard('handshake', () => this.onHello(m))),
      this.bus.subscribe(this.subject(self, 'msg'), (m) => this.guard('data frame', () => this.onData(m))),
      this.bus.subscribe(this.subject(self, 'rekey'), (m) => this.guard('rekey notice', () => this.onRekey(m))),
    ];
    this.state = 'started';
  }

  /**
   * Sends `msg` from this node. A direct message (`msg.to` set; `recipients` ignored) is encrypted
   * to `msg.to`; a broadcast (`msg.to` null) is signed once and sent to each of `recipients` (self
   * skipped, repeats once) over its encrypted channel. Handshakes on demand; preserves send order
   * per peer. Resolves once every frame is published. Rejects with `InvalidArgumentError` (bad
   * field, a direct message to self), `NotFoundError` (a node not in `peers`), `InvalidStateError`
   * (not started, closed, more than `maxPendingSends` queued), `TimeoutError` (the handshake got
   * no answer), `ChannelError` (the peer's handshake answer was refused), or the bus's error.
   * If some recipients fail, the others are still sent to and the promise rejects with one error.
   */
  async send(msg: ChannelMessage, recipients: readonly string[]): Promise<void> {
    if (this.state !== 'started')
      throw new InvalidStateError(this.state === 'new' ? 'call start() before send()' : 'the channels are closed');
    checkMessage(msg);
    const ids = msg.to !== null ? [msg.to] : [...new Set(recipients)].filter((id) => id !== this.ctx.self);
    if (msg.to === this.ctx.self) throw new InvalidArgumentError('a node does not send a direct message to itself');
    const targets = ids.map((id) => {
      const p = typeof id === 'string' ? this.peers.get(id) : undefined;
      if (p === undefined) throw new NotFoundError(`node ${String(id).slice(0, 64)}`, "it is not in this node's peers");
      return p;
    });
    const queued = targets.filter((p) => !this.ready(p)).length;
    if (this.pending + queued > this.maxPending)
      throw new InvalidStateError(
        `${this.pending} messages already wait for handshakes (limit ${this.maxPending}); retry later`,
      );
    const signature = msg.to === null ? signBroadcast(this.ctx.identityKey, msg, this.ctx.self) : undefined;
    const done = targets.map(
      (p) => new Promise<void>((resolve, reject) => this.enqueue(p, { msg, signature, resolve, reject })),
    );
    await Promise.all(done);
  }

  /** Registers a handler of verified messages, called synchronously in arrival order. Does not throw. */
  onMessage(handler: (m: InboundMessage) => void): void {
    this.messageHandlers.push(handler);
  }

  /** Registers a handler of refused inbound messages. Does not throw. */
  onReject(handler: (r: ChannelRejection) => void): void {
    this.rejectHandlers.push(handler);
  }

  /**
   * Drops (and wipes) every key shared with `peer`; the next send re-handshakes. Sequence numbers
   * are kept (a restart of the peer is recognised by its boot epoch in the next handshake). Does
   * nothing for a node that is not a peer. Does not throw.
   */
  resetPeer(peer: string): void {
    const p = this.peers.get(peer);
    if (p !== undefined) for (const c of [...p.channels]) this.drop(p, c);
  }

  /**
   * Unsubscribes, rejects queued sends with `InvalidStateError`, wipes every key. The bus stays
   * open (it is the caller's). Does not throw.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    for (const p of this.peers.values()) {
      this.failQueue(p, new InvalidStateError('the channels were closed'));
      for (const c of [...p.channels]) this.drop(p, c);
    }
    this.outSeq.clear();
    this.inSeq.clear();
  }

  // ---- sending ---------------------------------------------------------------------------------

  private ready(p: Peer): boolean {
    return p.queue.length === 0 && p.current !== undefined && !p.current.exhausted;
  }

  private enqueue(p: Peer, item: Outgoing): void {
    if (this.ready(p)) {
      this.transmit(p, p.current!, item);
      return;
    }
    p.queue.push(item);
    this.pending++;
    this.flush(p);
  }

  /** Sends the queue in order on the current channel, or starts a handshake for it. */
  private flush(p: Peer): void {
    while (p.queue.length > 0) {
      const ch = p.current;
      if (ch === undefined) {
        this.ensureHandshake(p);
        return;
      }
      if (ch.exhausted) {
        this.drop(p, ch);
        continue;
      }
      const item = p.queue.shift()!;
      this.pending--;
      this.transmit(p, ch, item);
    }
  }

  private transmit(p: Peer, ch: Channel, item: Outgoing): void {
    const { msg, signature } = item;
    let plaintext: Uint8Array | undefined;
    try {
      const seq = this.outSeq.get(p.id, msg.sessionId);
      if (seq > 0xffff_ffff) throw new InvalidStateError('a session sent 2^32 messages to one peer');
      plaintext =
        signature === undefined
          ? msg.payload
          : new ByteWriter(SIGNATURE_BYTES + msg.payload.length).raw(signature).raw(msg.payload).finish();
      const frame = ch.seal(
        {
          from: this.ctx.self,
          to: p.id,
          sessionId: msg.sessionId,
          kind: msg.kind,
          round: msg.round,
          mode: signature === undefined ? MODE_DIRECT : MODE_BROADCAST,
          seq,
        },
        plaintext,
      );
      this.bus.publish(this.subject(p.id, 'msg'), frame);
      this.outSeq.set(p.id, msg.sessionId, seq + 1);
      item.resolve();
    } catch (e) {
      item.reject(e);
    } finally {
      if (signature !== undefined) plaintext?.fill(0);
    }
  }

  private ensureHandshake(p: Peer): void {
    if (p.handshake !== undefined || this.state !== 'started') return;
    p.handshake = this.handshake(p).then(
      () => {
        p.handshake = undefined;
        this.flush(p);
      },
      (e: unknown) => {
        p.handshake = undefined;
        this.failQueue(p, e);
      },
    );
  }

  private failQueue(p: Peer, e: unknown): void {
    const items = p.queue;
    p.queue = [];
    this.pending -= items.length;
    for (const item of items) item.reject(e);
  }

  /** Runs one handshake as initiator and installs its (confirmed) channel. Rejects as `send` documents. */
  private async handshake(p: Peer): Promise<void> {
    const hello = createHello(this.ctx, p.id);
    let reply: BusMessage;
    try {
      reply = await this.bus.request(this.subject(p.id, 'hs'), hello.bytes, { timeoutMs: this.timeoutMs });
    } catch (e) {
      if (e instanceof TimeoutError)
        throw new TimeoutError(
          `the channel handshake with ${p.id}`,
          this.timeoutMs,
          'check that the peer runs and lists this node with the same key',
        );
      throw e;
    }
    if (this.state !== 'started') throw new InvalidStateError('the channels were closed');
    try {
      this.install(p, new Channel(finishHello(this.ctx, hello, reply.data, p.publicKey)));
    } catch (e) {
      if (e instanceof ChannelError) this.report(p.id, undefined, `handshake reply refused: ${e.reason}`);
      throw e;
    }
  }

  // ---- channel bookkeeping ---------------------------------------------------------------------

  private install(p: Peer, ch: Channel): void {
    if (this.byId.has(ch.idHex)) {
      ch.wipe();
      throw new ChannelError(p.id, 'channel id collision');
    }
    if (p.channels.length >= MAX_CHANNELS_PER_PEER) {
      // an unconfirmed channel (maybe from a replayed hello) goes first; the current one last
      const victim = p.channels.find((c) => !c.confirmed) ?? p.channels.find((c) => c !== p.current) ?? p.channels[0]!;
      this.drop(p, victim);
    }
    p.channels.push(ch);
    this.byId.set(ch.idHex, ch);
    if (ch.confirmed) this.confirm(p, ch);
  }

  /**
   * A channel proved fresh (our hello answered, or a frame from its initiator decrypted): it
   * becomes current; if it shows a new boot epoch the peer restarted, so its other channels and
   * its inbound session sequences go.
   */
  private confirm(p: Peer, ch: Channel): void {
    ch.confirmed = true;
    if (p.epoch !== undefined && !sameBytes(p.epoch, ch.peerEpoch)) {
      for (const c of [...p.channels]) if (!sameBytes(c.peerEpoch, ch.peerEpoch)) this.drop(p, c);
      this.inSeq.clearPeer(p.id);
    }
    p.epoch = ch.peerEpoch;
    p.current = ch;
  }

  private drop(p: Peer, ch: Channel): void {
    p.channels = p.channels.filter((c) => c !== ch);
    this.byId.delete(ch.idHex);
    ch.wipe();
    if (p.current === ch) p.current = p.channels.findLast((c) => c.confirmed);
  }

  // ---- receiving -------------------------------------------------------------------------------

  private report(peer: string | undefined, sessionId: string | undefined, reason: string): void {
    for (const h of this.rejectHandlers) {
      try {
        h({ peer, sessionId, reason });
      } catch {
        // a failing handler must not stop the others
      }
    }
  }

  /** Runs an inbound handler; whatever it throws becomes a rejection. */
  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      if (e instanceof Refused) this.report(e.peer, e.sessionId, e.reason);
      else if (e instanceof MalformedError) this.report(undefined, undefined, `malformed ${what} (${e.message})`);
      else this.report(undefined, undefined, `${what} refused (${e instanceof Error ? e.name : 'error'})`);
    }
  }

  /** The claimed member id (unauthenticated) or undefined. */
  private claimed(id: string): string | undefined {
    return this.peers.has(id) ? id : undefined;
  }

  private onHello(m: BusMessage): void {
    const h = decodeHello(m.data, false);
    const p = this.peers.get(h.sender);
    try {
      checkHelloNames(this.ctx, h);
      if (p === undefined) throw new Refused('hello from a node that is not a peer');
      if (m.reply === undefined) throw new Refused('hello without a reply subject');
      if (!p.hellos.take()) throw new Refused('too many handshakes from this peer; hello dropped');
      const { reply, keys } = answerHello(this.ctx, h, m.data, p.publicKey);
      this.install(p, new Channel(keys));
      this.bus.publish(m.reply, reply);
    } catch (e) {
      throw e instanceof Refused ? new Refused(e.reason, this.claimed(h.sender)) : e;
    }
  }

  private onData(m: BusMessage): void {
    const f = decodeDataFrame(m.data);
    const refused = (peer: string | undefined, reason: string) => new Refused(reason, peer, f.sessionId);
    if (f.to !== this.ctx.self) throw refused(this.claimed(f.from), 'data frame addressed to another node');
    const ch = this.byId.get(Buffer.from(f.channelId).toString('hex'));
    if (ch === undefined) {
      const noticed = this.sendRekeyNotice(f);
      throw refused(this.claimed(f.from), `unknown channel${noticed ? ' (rekey notice sent)' : ''}`);
    }
    const p = this.peers.get(ch.peer)!;
    if (f.from !== ch.peer) throw refused(p.id, "claimed sender differs from the channel's peer");
    if (!ch.isFresh(f.counter)) throw refused(p.id, 'replayed or reordered frame (channel counter not increasing)');
    const plain = ch.open(f);
    if (plain === undefined) throw refused(p.id, 'authentication failed (ciphertext, tag or header altered)');
    try {
      if (!ch.confirmed) this.confirm(p, ch);
      this.accept(p, f, plain);
    } finally {
      plain.fill(0);
    }
  }

  /** The checks after decryption: the broadcast signature and the session sequence; then delivery. */
  private accept(p: Peer, f: DataFrame, plain: Buffer): void {
    const refused = (reason: string) => new Refused(reason, p.id, f.sessionId);
    let payload: Uint8Array;
    let signature: Uint8Array | undefined;
    if (f.mode === MODE_BROADCAST) {
      if (plain.length < SIGNATURE_BYTES) throw refused('broadcast without its signature');
      const r = new ByteReader(plain);
      signature = r.raw(SIGNATURE_BYTES);
      payload = r.raw(r.remaining);
      if (!verifyEd25519(p.publicKey, broadcastSignedBytes({ ...f, payload }, p.id), signature))
        throw refused('broadcast signature does not verify');
    } else payload = Uint8Array.from(plain);
    if (payload.length > MAX_CHANNEL_PAYLOAD_BYTES) throw refused('payload over the limit');
    const expected = this.inSeq.get(p.id, f.sessionId);
    if (f.seq !== expected) throw refused(`out of sequence in the session (expected ${expected}, got ${f.seq})`);
    this.inSeq.set(p.id, f.sessionId, expected + 1);
    const m: InboundMessage = {
      sessionId: f.sessionId,
      kind: f.kind,
      round: f.round,
      to: f.mode === MODE_BROADCAST ? null : this.ctx.self,
      payload,
      from: p.id,
      ...(signature !== undefined ? { signature } : {}),
    };
    for (const h of this.messageHandlers) {
      try {
        h(m);
      } catch {
        // a handler handles its own errors; it must not stop delivery to the others
      }
    }
  }

  /** Tells the claimed sender of a frame on an unknown channel to re-handshake (signed, rate-limited). */
  private sendRekeyNotice(f: DataFrame): boolean {
    const p = this.peers.get(f.from);
    if (p === undefined || !p.noticesOut.take()) return false;
    const body = rekeyBody({ cluster: this.ctx.cluster, from: this.ctx.self, to: p.id, channelId: f.channelId });
    try {
      this.bus.publish(this.subject(p.id, 'rekey'), withSignature(body, sign(null, body, this.ctx.identityKey)));
      return true;
    } catch {
      return false;
    }
  }

  private onRekey(m: BusMessage): void {
    const n = decodeRekey(m.data);
    const refused = (reason: string) => new Refused(reason, this.claimed(n.from));
    if (n.cluster !== this.ctx.cluster || n.to !== this.ctx.self)
      throw refused('rekey notice for another cluster or node');
    const p = this.peers.get(n.from);
    if (p === undefined) throw refused('rekey notice from a node that is not a peer');
    if (!p.noticesIn.take()) throw refused('too many rekey notices from this peer; notice dropped');
    if (!verifyEd25519(p.publicKey, n.body, n.signature)) throw refused('rekey notice signature does not verify');
    const ch = this.byId.get(Buffer.from(n.channelId).toString('hex'));
    if (ch === undefined || ch.peer !== p.id) return; // already gone: nothing to do
    this.drop(p, ch);
    if (p.current === undefined) this.ensureHandshake(p);
  }
}
