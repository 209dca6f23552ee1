/**
 * The {@link WorkQueue} over NATS JetStream. Streams are created as mpcium's nodes and Go client
 * create them (file storage, Limits retention, MaxAge 7 days, MaxBytes 100 MB, the duplicate
 * window); an existing stream is used as it is. Consumers are durable pull consumers with explicit
 * ack, shared by every node that joins them (the last to create or update one sets its limits, as
 * with mpcium). The MAX_DELIVERIES advisory is heard by one member of the durable (a queue group)
 * and the original message is fetched from the stream by its sequence.
 *
 * One instance is a view of a shared connection: `close()` stops its consumers and leaves the
 * connection to its owner.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '../../common/errors.js';
import { checkPattern, checkPublishSubject } from '../subject.js';
import {
  type ConsumerConfig,
  checkConsumerConfig,
  type DroppedMessage,
  type StreamConfig,
  type WorkMessage,
  type WorkQueue,
} from '../work-queue.js';
import { headerMap, toHeaders } from './nats-bus.js';

const DAY_MS = 24 * 3600 * 1000;
/** mpcium's request-stream limits (`jetstream_broker.go`). */
export const STREAM_MAX_AGE_MS = 7 * DAY_MS;
export const STREAM_MAX_BYTES = 100_000_000;

export interface JetStreamWorkQueueOptions {
  /** Stream replicas on a clustered NATS (default 1). */
  readonly replicas?: number;
  /** Hears errors that happen after `consume` returned (e.g. its stream was deleted). */
  readonly onError?: (e: Error) => void;
}

interface MaxDeliveriesAdvisory {
  stream?: string;
  consumer?: string;
  stream_seq?: number;
}

export class JetStreamWorkQueue implements WorkQueue {
  private closed = false;
  private readonly js: JetStreamClient;
  private jsmP: Promise<JetStreamManager> | undefined;
  private readonly stops = new Set<() => void>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: JetStreamWorkQueueOptions = {},
  ) {
    this.js = jetstream(nc);
  }

  private open(): void {
    if (this.closed || this.nc.isClosed()) throw new InvalidStateError('the work-queue connection is closed');
  }

  private jsm(): Promise<JetStreamManager> {
    this.jsmP ??= jetstreamManager(this.nc).catch((e) => {
      this.jsmP = undefined;
      throw e;
    });
    return this.jsmP;
  }

  async ensureStream(cfg: StreamConfig): Promise<void> {
    this.open();
    if (!cfg.name || cfg.subjects.length === 0) throw new InvalidArgumentError('a stream needs a name and subjects');
    for (const s of cfg.subjects) checkPattern(s);
    const window = cfg.duplicateWindowMs ?? 120_000;
    if (!(window > 0)) throw new InvalidArgumentError('a duplicate window is positive');
    const jsm = await this.jsm();
    try {
      await jsm.streams.info(cfg.name);
      return; // whoever created it first wins (mpcium's Go client, TS client or another node)
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      await jsm.streams.add({
        name: cfg.name,
        description: `Stream for ${cfg.name}`,
        subjects: [...cfg.subjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(STREAM_MAX_AGE_MS),
        max_bytes: STREAM_MAX_BYTES,
        duplicate_window: nanos(window),
        num_replicas: this.opts.replicas ?? 1,
      });
    } catch (e) {
      // another node created it between our look-up and our add
      if (/already in use|already exists/i.test(String((e as Error)?.message))) return;
      throw e;
    }
  }

  async publish(
    subject: string,
    data: Uint8Array,
    opts: { msgId?: string; headers?: Readonly<Record<string, string>> } = {},
  ): Promise<{ seq: number; duplicate: boolean }> {
    this.open();
    checkPublishSubject(subject);
    try {
      const ack = await this.js.publish(subject, data, { msgID: opts.msgId, headers: toHeaders(opts.headers) });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (e) {
      // nobody answers on a subject no stream takes (nats.js calls it "jetstream is not enabled")
      if (errorChain(e).some((x) => /no ?responders|no stream|JetStreamNotEnabled/i.test(`${x.name} ${x.message}`)))
        throw new NotFoundError(`a stream for subject ${subject}`, 'create the stream first');
      throw e;
    }
  }

  consume(
    cfg: ConsumerConfig,
    handler: (m: WorkMessage) => void | Promise<void>,
    opts: { onMaxDeliveries?: (m: DroppedMessage) => void } = {},
  ): { stop(): void } {
    this.open();
    checkPattern(cfg.filter);
    checkConsumerConfig(cfg);
    let stopped = false;
    let messages: ConsumerMessages | undefined;
    let advisory: { unsubscribe(): void } | undefined;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      this.stops.delete(stop);
      advisory?.unsubscribe();
      void messages?.close().catch(() => {});
    };
    this.stops.add(stop);
    const report = (e: unknown) => this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));

    const start = async () => {
      const jsm = await this.jsm();
      try {
        await jsm.streams.info(cfg.stream);
      } catch (e) {
        if (isNotFound(e)) throw new NotFoundError(`stream ${cfg.stream}`, 'create the stream first');
        throw e;
      }
      const config = {
        durable_name: cfg.durable,
        filter_subject: cfg.filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        max_deliver: cfg.maxDeliver,
        ack_wait: nanos(cfg.ackWaitMs),
        max_ack_pending: cfg.maxAckPending,
      };
      try {
        await jsm.consumers.info(cfg.stream, cfg.durable);
        const { durable_name: _, deliver_policy: __, ...update } = config;
        await jsm.consumers.update(cfg.stream, cfg.durable, update);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        await jsm.consumers.add(cfg.stream, config);
      }
      if (stopped) return;
      if (opts.onMaxDeliveries) {
        const onMax = opts.onMaxDeliveries;
        advisory = this.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${cfg.stream}.${cfg.durable}`, {
          queue: `tessera_max_deliveries_${cfg.stream}_${cfg.durable}`,
          callback: (err, m) => {
            if (err) return;
            let a: MaxDeliveriesAdvisory;
            try {
              a = m.json<MaxDeliveriesAdvisory>();
            } catch {
              return;
            }
            const seq = a.stream_seq;
            if (typeof seq !== 'number') return;
            jsm.streams.getMessage(cfg.stream, { seq }).then((sm) => {
              if (!sm) return;
              try {
                onMax({
                  subject: sm.subject,
                  seq: sm.seq,
                  data: Uint8Array.from(sm.data),
                  headers: headerMap(sm.header),
                });
              } catch {
                // a failing listener must not stop the advisory subscription
              }
            }, report);
          },
        });
        await this.nc.flush();
      }
      const consumer = await this.js.consumers.get(cfg.stream, cfg.durable);
      if (stopped) return;
      messages = await consumer.consume({
        max_messages: Math.min(cfg.maxAckPending, 256),
        callback: (jm) => {
          const wm: WorkMessage = {
            subject: jm.subject,
            data: Uint8Array.from(jm.data),
            headers: headerMap(jm.headers),
            seq: jm.seq,
            deliveryCount: jm.info.deliveryCount,
            ack: () => safe(() => jm.ack()),
            nak: (delayMs?: number) => safe(() => jm.nak(delayMs)),
            term: () => safe(() => jm.term()),
            working: () => safe(() => jm.working()),
          };
          if (stopped) return wm.nak();
          Promise.resolve()
            .then(() => handler(wm))
            .catch(() => wm.nak());
        },
      });
      if (stopped) void messages.close().catch(() => {});
    };
    start().catch((e) => {
      stop();
      report(e);
    });
    return { stop };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.stops]) s();
  }
}

function safe(f: () => void): void {
  try {
    f();
  } catch {
    // the connection is closed: the server redelivers after the ack wait
  }
}

function errorChain(e: unknown): Error[] {
  const out: Error[] = [];
  for (let x = e; x instanceof Error && out.length < 5; x = x.cause) out.push(x);
  return out;
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number }; message?: string; name?: string };
  if (err?.api_error?.err_code === 10059 || err?.api_error?.err_code === 10014) return true;
  return /not found/i.test(`${err?.name} ${err?.message}`);
}
