/**
 * The work queue inside one process: a {@link MemoryJetStream} holds the streams and durable
 * consumers; each node connects with `server.connect()`. Work-queue retention: an acked or
 * terminated message leaves the stream.
 */
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '../../common/errors.js';
import { checkPattern, checkPublishSubject, subjectMatches } from '../subject.js';
import {
  type ConsumerConfig,
  checkConsumerConfig,
  type DroppedMessage,
  type StreamConfig,
  type WorkMessage,
  type WorkQueue,
} from '../work-queue.js';

interface Stored {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: ReadonlyMap<string, string>;
}

interface Member {
  readonly handler: (m: WorkMessage) => void | Promise<void>;
  readonly onMax?: (m: DroppedMessage) => void;
  active: boolean;
}

class Consumer {
  readonly queue: number[] = [];
  readonly inflight = new Map<number, { count: number; timer: NodeJS.Timeout | undefined }>();
  readonly deliveries = new Map<number, number>();
  readonly members: Member[] = [];
  private next = 0;

  constructor(
    readonly cfg: ConsumerConfig,
    private readonly stream: Stream,
  ) {}

  pump(): void {
    while (this.queue.length > 0 && this.inflight.size < this.cfg.maxAckPending) {
      const live = this.members.filter((m) => m.active);
      if (live.length === 0) return;
      const seq = this.queue.shift()!;
      const msg = this.stream.messages.get(seq);
      if (!msg) continue;
      const count = (this.deliveries.get(seq) ?? 0) + 1;
      this.deliveries.set(seq, count);
      const member = live[this.next++ % live.length]!;
      this.deliver(member, msg, count);
    }
  }

  private deliver(member: Member, msg: Stored, count: number): void {
    let settled = false;
    const state = { count, timer: undefined as NodeJS.Timeout | undefined };
    const arm = () => {
      clearTimeout(state.timer);
      state.timer = setTimeout(() => settle('redeliver'), this.cfg.ackWaitMs);
      state.timer.unref();
    };
    const settle = (how: 'ack' | 'term' | 'redeliver', delayMs = 0) => {
      if (settled) return;
      settled = true;
      clearTimeout(state.timer);
      this.inflight.delete(msg.seq);
      if (how === 'redeliver' && count < this.cfg.maxDeliver) {
        const requeue = () => {
          this.queue.push(msg.seq);
          this.pump();
        };
        if (delayMs > 0) setTimeout(requeue, delayMs).unref();
        else requeue();
      } else {
        if (how === 'redeliver')
          member.onMax?.({ subject: msg.subject, seq: msg.seq, data: Uint8Array.from(msg.data), headers: msg.headers });
        this.deliveries.delete(msg.seq);
        this.stream.done(msg.seq);
      }
      this.pump();
    };
    this.inflight.set(msg.seq, state);
    arm();
    const wm: WorkMessage = {
      subject: msg.subject,
      data: Uint8Array.from(msg.data),
      headers: msg.headers,
      seq: msg.seq,
      deliveryCount: count,
      ack: () => settle('ack'),
      nak: (delayMs?: number) => settle('redeliver', delayMs),
      term: () => settle('term'),
      working: () => {
        if (!settled) arm();
      },
    };
    setImmediate(async () => {
      if (!member.active) return settle('redeliver');
      try {
        await member.handler(wm);
      } catch {
        settle('redeliver');
      }
    });
  }
}

class Stream {
  readonly messages = new Map<number, Stored>();
  readonly consumers = new Map<string, Consumer>();
  private readonly ids = new Map<string, { seq: number; at: number }>();
  private seq = 0;

  constructor(readonly cfg: StreamConfig) {}

  store(
    subject: string,
    data: Uint8Array,
    headers: ReadonlyMap<string, string>,
    msgId: string | undefined,
    now: number,
  ): { seq: number; duplicate: boolean } {
    const window = this.cfg.duplicateWindowMs ?? 120_000;
    for (const [id, v] of this.ids) if (now - v.at >= window) this.ids.delete(id);
    if (msgId !== undefined) {
      const seen = this.ids.get(msgId);
      if (seen) return { seq: seen.seq, duplicate: true };
    }
    const m: Stored = { seq: ++this.seq, subject, data: Uint8Array.from(data), headers };
    this.messages.set(m.seq, m);
    if (msgId !== undefined) this.ids.set(msgId, { seq: m.seq, at: now });
    for (const c of this.consumers.values()) {
      if (subjectMatches(c.cfg.filter, subject)) {
        c.queue.push(m.seq);
        c.pump();
      }
    }
    return { seq: m.seq, duplicate: false };
  }

  /** Work-queue retention: a message leaves once its consumer is done with it. */
  done(seq: number): void {
    this.messages.delete(seq);
  }
}

/** The in-process "JetStream server" that several {@link WorkQueue} connections share. */
export class MemoryJetStream {
  readonly streams = new Map<string, Stream>();

  constructor(readonly now: () => number = Date.now) {}

  /** A new connection. Does not throw. */
  connect(): WorkQueue {
    return new MemoryWorkQueue(this);
  }
}

class MemoryWorkQueue implements WorkQueue {
  private closed = false;
  private readonly mine: { consumer: Consumer; member: Member }[] = [];

  constructor(private readonly server: MemoryJetStream) {}

  private open(): void {
    if (this.closed) throw new InvalidStateError('the work-queue connection is closed');
  }

  async ensureStream(cfg: StreamConfig): Promise<void> {
    this.open();
    if (!cfg.name || cfg.subjects.length === 0) throw new InvalidArgumentError('a stream needs a name and subjects');
    for (const s of cfg.subjects) checkPattern(s);
    if (!this.server.streams.has(cfg.name)) this.server.streams.set(cfg.name, new Stream(cfg));
  }

  async publish(
    subject: string,
    data: Uint8Array,
    opts: { msgId?: string; headers?: Readonly<Record<string, string>> } = {},
  ): Promise<{ seq: number; duplicate: boolean }> {
    this.open();
    checkPublishSubject(subject);
    for (const s of this.server.streams.values()) {
      if (s.cfg.subjects.some((p) => subjectMatches(p, subject))) {
        // as a NATS server does, the message id travels with the message as its Nats-Msg-Id header
        const headers = new Map(Object.entries(opts.headers ?? {}));
        if (opts.msgId !== undefined) headers.set('Nats-Msg-Id', opts.msgId);
        return s.store(subject, data, headers, opts.msgId, this.server.now());
      }
    }
    throw new NotFoundError(`a stream for subject ${subject}`, 'create the stream first');
  }

  consume(
    cfg: ConsumerConfig,
    handler: (m: WorkMessage) => void | Promise<void>,
    opts: { onMaxDeliveries?: (m: DroppedMessage) => void } = {},
  ): { stop(): void } {
    this.open();
    const stream = this.server.streams.get(cfg.stream);
    if (!stream) throw new NotFoundError(`stream ${cfg.stream}`, 'create the stream first');
    checkPattern(cfg.filter);
    checkConsumerConfig(cfg);
    let consumer = stream.consumers.get(cfg.durable);
    if (!consumer) {
      consumer = new Consumer(cfg, stream);
      stream.consumers.set(cfg.durable, consumer);
      for (const m of stream.messages.values()) if (subjectMatches(cfg.filter, m.subject)) consumer.queue.push(m.seq);
    }
    const member: Member = { handler, onMax: opts.onMaxDeliveries, active: true };
    consumer.members.push(member);
    this.mine.push({ consumer, member });
    consumer.pump();
    const c = consumer;
    return {
      stop: () => {
        member.active = false;
        const i = c.members.indexOf(member);
        if (i >= 0) c.members.splice(i, 1);
      },
    };
  }

  async close(): Promise<void> {
    for (const { consumer, member } of this.mine) {
      member.active = false;
      const i = consumer.members.indexOf(member);
      if (i >= 0) consumer.members.splice(i, 1);
    }
    this.mine.length = 0;
    this.closed = true;
  }
}
