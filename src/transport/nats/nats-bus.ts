/**
 * The {@link Bus} over core NATS. One `NatsBus` is a view of a shared connection: `close()` stops
 * its own subscriptions and rejects its own pending requests, and leaves the connection (which the
 * work queue and key-value views may share) to its owner. Handlers run one at a time per
 * subscription, in arrival order, even when async (as `memory-bus.ts`).
 */
import { errors, type Msg, type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { InvalidStateError, NotFoundError, TimeoutError } from '../../common/errors.js';
import type { Bus, BusMessage, PublishOptions, Subscription } from '../bus.js';
import { inOrder } from '../in-order.js';
import { checkPattern, checkPublishSubject } from '../subject.js';

/** Headers of a NATS message as a plain map. Does not throw. */
export function headerMap(h: MsgHdrs | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!h) return out;
  for (const k of h.keys()) out.set(k, h.get(k));
  return out;
}

/** nats.js headers from a record (undefined when empty). Does not throw on valid header names. */
export function toHeaders(h: Readonly<Record<string, string>> | undefined): MsgHdrs | undefined {
  if (!h || Object.keys(h).length === 0) return undefined;
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
}

function toBusMessage(m: Msg): BusMessage {
  return {
    subject: m.subject,
    data: Uint8Array.from(m.data),
    headers: headerMap(m.headers),
    reply: m.reply || undefined,
  };
}

export class NatsBus implements Bus {
  private closed = false;
  private readonly subs = new Set<{ unsubscribe(): void }>();
  private readonly pending = new Set<(e: Error) => void>();

  constructor(private readonly nc: NatsConnection) {}

  private assertOpen(): void {
    if (this.closed || this.nc.isClosed()) throw new InvalidStateError('the bus connection is closed');
  }

  publish(subject: string, data: Uint8Array, opts: PublishOptions = {}): void {
    this.assertOpen();
    checkPublishSubject(subject);
    this.nc.publish(subject, data, { headers: toHeaders(opts.headers), reply: opts.reply });
  }

  subscribe(
    pattern: string,
    handler: (m: BusMessage) => void | Promise<void>,
    opts: { queue?: string } = {},
  ): Subscription {
    this.assertOpen();
    checkPattern(pattern);
    let active = true;
    const deliver = inOrder(handler, () => active);
    const sub = this.nc.subscribe(pattern, {
      queue: opts.queue,
      callback: (err, m) => {
        if (err || !active) return;
        deliver(toBusMessage(m));
      },
    });
    const handle = {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        this.subs.delete(handle);
        try {
          sub.unsubscribe();
        } catch {
          // the connection is closed already
        }
      },
    };
    this.subs.add(handle);
    return handle;
  }

  request(
    subject: string,
    data: Uint8Array,
    opts: { timeoutMs: number; headers?: Readonly<Record<string, string>> },
  ): Promise<BusMessage> {
    this.assertOpen();
    checkPublishSubject(subject);
    return new Promise<BusMessage>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        this.pending.delete(fail);
        reject(e);
      };
      this.pending.add(fail);
      this.nc.request(subject, data, { timeout: opts.timeoutMs, headers: toHeaders(opts.headers) }).then(
        (m) => {
          if (settled) return;
          settled = true;
          this.pending.delete(fail);
          resolve(toBusMessage(m));
        },
        (e: unknown) => {
          const cause = e instanceof errors.RequestError && e.cause ? e.cause : e;
          if (cause instanceof errors.NoRespondersError || (e instanceof errors.RequestError && e.isNoResponders()))
            fail(
              new NotFoundError(
                `a responder on ${subject}`,
                'no node listens there; check that the cluster is running',
              ),
            );
          else if (cause instanceof errors.TimeoutError)
            fail(new TimeoutError(`request on ${subject}`, opts.timeoutMs));
          else if (this.closed || this.nc.isClosed()) fail(new InvalidStateError('the bus connection was closed'));
          else fail(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fail of [...this.pending]) fail(new InvalidStateError('the bus connection was closed'));
    for (const s of [...this.subs]) s.unsubscribe();
  }
}
