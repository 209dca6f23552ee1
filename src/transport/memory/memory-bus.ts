/**
 * The bus inside one process: a {@link MemoryBroker} is the "server", each node connects with
 * `broker.bus()`. Delivery is asynchronous (a message is never handled inside `publish`) and in
 * order per subscription, as on a NATS connection; queue groups pick members round-robin.
 */
import { InvalidStateError, NotFoundError, TimeoutError } from '../../common/errors.js';
import type { Bus, BusMessage, PublishOptions, Subscription } from '../bus.js';
import { inOrder } from '../in-order.js';
import { checkPattern, checkPublishSubject, subjectMatches } from '../subject.js';

interface Sub {
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly deliver: (m: BusMessage) => void;
  active: boolean;
}

/** The in-process message hub that several {@link Bus} connections share. */
export class MemoryBroker {
  private readonly subs = new Set<Sub>();
  private readonly rr = new Map<string, number>();
  private inboxes = 0;

  /** A new connection to this broker. Does not throw. */
  bus(): Bus {
    return new MemoryBus(this);
  }

  /** @internal */
  add(sub: Sub): void {
    this.subs.add(sub);
  }

  /** @internal */
  remove(sub: Sub): void {
    this.subs.delete(sub);
  }

  /** @internal A fresh reply subject. */
  inbox(): string {
    return `_INBOX.${++this.inboxes}`;
  }

  /** @internal Routes a message; returns how many subscriptions got it. */
  route(m: BusMessage): number {
    const plain: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    for (const s of this.subs) {
      if (!s.active || !subjectMatches(s.pattern, m.subject)) continue;
      if (s.queue === undefined) plain.push(s);
      else {
        const key = `${s.queue}\u0000${s.pattern}`;
        const g = groups.get(key) ?? [];
        g.push(s);
        groups.set(key, g);
      }
    }
    for (const s of plain) s.deliver(m);
    for (const [key, g] of groups) {
      const i = (this.rr.get(key) ?? 0) % g.length;
      this.rr.set(key, i + 1);
      g[i]!.deliver(m);
    }
    return plain.length + groups.size;
  }
}

class MemoryBus implements Bus {
  private closed = false;
  private readonly mine = new Set<Sub>();
  private readonly pending = new Set<(e: Error) => void>();

  constructor(private readonly broker: MemoryBroker) {}

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the bus connection is closed');
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): void {
    this.assertOpen();
    checkPublishSubject(subject);
    this.broker.route({
      subject,
      data: Uint8Array.from(data),
      headers: new Map(Object.entries(opts.headers ?? {})),
      reply: opts.reply,
    });
  }

  subscribe(
    pattern: string,
    handler: (m: BusMessage) => void | Promise<void>,
    opts: { queue?: string } = {},
  ): Subscription {
    this.assertOpen();
    checkPattern(pattern);
    // one queue per subscription keeps its messages in order even when a handler is async
    const sub: Sub = {
      pattern,
      queue: opts.queue,
      active: true,
      deliver: inOrder(handler, () => sub.active),
    };
    this.broker.add(sub);
    this.mine.add(sub);
    return {
      unsubscribe: () => {
        sub.active = false;
        this.broker.remove(sub);
        this.mine.delete(sub);
      },
    };
  }

  request(
    subject: string,
    data: Uint8Array,
    opts: { timeoutMs: number; headers?: Readonly<Record<string, string>> },
  ): Promise<BusMessage> {
    this.assertOpen();
    checkPublishSubject(subject);
    const reply = this.broker.inbox();
    return new Promise<BusMessage>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (f: () => void) => {
        clearTimeout(timer);
        sub.unsubscribe();
        this.pending.delete(fail);
        f();
      };
      const fail = (e: Error) => done(() => reject(e));
      const sub = this.subscribe(reply, (m) => done(() => resolve(m)));
      this.pending.add(fail);
      timer = setTimeout(() => fail(new TimeoutError(`request on ${subject}`, opts.timeoutMs)), opts.timeoutMs);
      const delivered = this.broker.route({
        subject,
        data: Uint8Array.from(data),
        headers: new Map(Object.entries(opts.headers ?? {})),
        reply,
      });
      if (delivered === 0)
        fail(
          new NotFoundError(`a responder on ${subject}`, 'no node listens there; check that the cluster is running'),
        );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const fail of [...this.pending]) fail(new InvalidStateError('the bus connection was closed'));
    for (const s of [...this.mine]) {
      s.active = false;
      this.broker.remove(s);
    }
    this.mine.clear();
    this.closed = true;
  }
}
