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
import { createHash, sign } from 'node:crypto';
import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError, NotFoundError, TimeoutError } from '../../common/errors.js';
import type { Bus, BusMessage, Subscription } from '../../transport/index.js';
import { Channel } from './channel.js';
import { ChannelError, Refused } from './errors.js';
import { answerHello, checkHelloNames, createHello, finishHello, type HandshakeContext } from './handshake.js';
import { checkMessage, resolveOptions } from './options.js';
import { type Outgoing, PeerState } from './peer-state.js';
import { SessionSequences } from './replay-window.js';
import { broadcastSignedBytes, signBroadcast, verifyEd25519 } from './signed-broadcast.js';
import {
  type ChannelMessage,
  type ChannelRejection,
  type ChannelsOptions,
  type InboundMessage,
  MAX_CHANNEL_PAYLOAD_BYTES,
} from './types.js';
import {
  type DataFrame,
  decodeDataFrame,
  decodeHello,
  decodeRekey,
  MODE_BROADCAST,
  MODE_DIRECT,
  rekeyBody,
  SIGNATURE_BYTES,
  withSignature,
} from './wire.js';

export class Channels {
  private readonly ctx: HandshakeContext;
  private readonly bus: Bus;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly peers = new Map<string, PeerState>();
  /** Every channel by id (hex), across peers. */
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
    const r = resolveOptions(opts);
    this.ctx = r.ctx;
    for (const [id, key] of r.peerKeys) this.peers.set(id, new PeerState(id, key, this.byId));
    this.bus = opts.bus;
    this.timeoutMs = r.timeoutMs;
    this.maxPending = r.maxPending;
    this.outSeq = new SessionSequences(r.maxTracked);
    this.inSeq = new SessionSequences(r.maxTracked);
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
    const queued = targets.filter((p) => !p.ready).length;
    if (this.pending + queued > this.maxPending)
      throw new InvalidStateError(
        `${this.pending} messages already wait for handshakes (limit ${this.maxPending}); retry later`,
      );
    const signature = msg.to === null ? signBroadcast(this.ctx.identityKey, msg, this.ctx.self) : undefined;
    const done = targets.map(
      (p) => new Promise<void>((resolve, reject) => this.enqueue(p, msg, signature, resolve, reject)),
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
    this.peers.get(peer)?.dropAll();
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
      p.dropAll();
    }
    this.outSeq.clear();
    this.inSeq.clear();
  }

  // ---- sending ---------------------------------------------------------------------------------

  /**
   * Sends at once if the peer is ready; otherwise queues (with a copy of the payload, so that what
   * goes out later is what was signed now) and flushes or starts the handshake.
   */
  private enqueue(
    p: PeerState,
    msg: ChannelMessage,
    signature: Uint8Array | undefined,
    resolve: () => void,
    reject: (e: unknown) => void,
  ): void {
    if (p.ready) {
      this.transmit(p, p.current!, { msg, signature, ownsPayload: false, resolve, reject });
      return;
    }
    const copy = { ...msg, payload: msg.payload.slice() };
    p.queue.push({ msg: copy, signature, ownsPayload: true, resolve, reject });
    this.pending++;
    this.flush(p);
  }

  /** Sends the queue in order on the current channel, or starts a handshake for it. */
  private flush(p: PeerState): void {
    while (p.queue.length > 0) {
      const ch = p.current;
      if (ch === undefined) {
        this.ensureHandshake(p);
        return;
      }
      if (ch.exhausted) {
        p.drop(ch);
        continue;
      }
      const item = p.queue.shift()!;
      this.pending--;
      this.transmit(p, ch, item);
    }
  }

  /** Seals and publishes one message; its session sequence advances only once it is published. */
  private transmit(p: PeerState, ch: Channel, item: Outgoing): void {
    const { msg, signature } = item;
    let plaintext: Uint8Array | undefined;
    try {
      const seq = this.outSeq.get(p.id, msg.sessionId);
      if (seq > 0xffff_ffff) throw new InvalidStateError('a session sent 2^32 messages to one peer');
      plaintext =
        signature === undefined
          ? msg.payload
          : new ByteWriter(SIGNATURE_BYTES + msg.payload.length).raw(signature).raw(msg.payload).finish();
      const mode = signature === undefined ? MODE_DIRECT : MODE_BROADCAST;
      const h = {
        from: this.ctx.self,
        to: p.id,
        sessionId: msg.sessionId,
        kind: msg.kind,
        round: msg.round,
        mode,
        seq,
      };
      this.bus.publish(this.subject(p.id, 'msg'), ch.seal(h, plaintext));
      this.outSeq.set(p.id, msg.sessionId, seq + 1);
      item.resolve();
    } catch (e) {
      item.reject(e);
    } finally {
      if (signature !== undefined) plaintext?.fill(0);
      if (item.ownsPayload) msg.payload.fill(0);
    }
  }

  private ensureHandshake(p: PeerState): void {
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

  private failQueue(p: PeerState, e: unknown): void {
    const items = p.queue;
    p.queue = [];
    this.pending -= items.length;
    for (const item of items) {
      item.msg.payload.fill(0);
      item.reject(e);
    }
  }

  /** Runs one handshake as initiator and installs its (confirmed) channel. Rejects as `send` documents. */
  private async handshake(p: PeerState): Promise<void> {
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
    let ch: Channel;
    try {
      ch = new Channel(finishHello(this.ctx, hello, reply.data, p.publicKey));
    } catch (e) {
      if (e instanceof ChannelError) this.report(p.id, undefined, `handshake reply refused: ${e.reason}`);
      throw e;
    }
    this.install(p, ch);
  }

  // ---- channel bookkeeping ---------------------------------------------------------------------

  /** Installs `ch` for `p`; a peer shown restarted has its inbound session sequences forgotten. */
  private install(p: PeerState, ch: Channel): void {
    try {
      if (p.install(ch)) this.inSeq.clearPeer(p.id);
    } catch {
      throw new ChannelError(p.id, 'channel id collision');
    }
  }

  // ---- receiving -------------------------------------------------------------------------------

  private report(peer: string | undefined, sessionId: string | undefined, reason: string, authenticated = false): void {
    for (const h of this.rejectHandlers) {
      try {
        h({ peer, sessionId, reason, authenticated });
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
      if (e instanceof Refused) this.report(e.peer, e.sessionId, e.reason, e.authenticated);
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
      // a hello answered before was verified before: a replay is refused before it spends the peer's budget
      const hash = createHash('sha256').update(m.data).digest('hex');
      if (p.answeredBefore(hash)) throw new Refused('replayed hello (answered before)');
      const { reply, keys } = answerHello(this.ctx, h, m.data, p.publicKey, () => p.hellos.take());
      p.rememberAnswered(hash);
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
      if (!ch.confirmed && p.confirm(ch)) this.inSeq.clearPeer(p.id);
      this.accept(p, f, plain);
    } finally {
      plain.fill(0);
    }
  }

  /** The checks after decryption: the broadcast signature and the session sequence; then delivery. */
  private accept(p: PeerState, f: DataFrame, plain: Buffer): void {
    const refused = (reason: string) => new Refused(reason, p.id, f.sessionId, true);
    let payload: Uint8Array;
    let signature: Uint8Array | undefined;
    if (f.mode === MODE_BROADCAST) {
      if (plain.length < SIGNATURE_BYTES) throw refused('broadcast without its signature');
      const r = new ByteReader(plain);
      signature = r.raw(SIGNATURE_BYTES);
      payload = r.raw(r.remaining);
      if (!verifyEd25519(p.publicKey, broadcastSignedBytes({ ...f, payload }, p.id), signature))
        throw refused('broadcast signature does not verify');
    } else payload = new Uint8Array(plain);
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
    if (!verifyEd25519(p.publicKey, n.body, n.signature)) throw refused('rekey notice signature does not verify');
    if (!p.noticesIn.take()) throw refused('too many rekey notices from this peer; notice dropped');
    const ch = this.byId.get(Buffer.from(n.channelId).toString('hex'));
    if (ch === undefined || ch.peer !== p.id) return; // already gone: nothing to do
    p.drop(ch);
    if (p.current === undefined) this.ensureHandshake(p);
  }
}
