/**
 * One conformance suite per transport capability, run against every implementation (memory now,
 * NATS later) — the pattern of Vault's `testBarrier`: whatever the node relies on is pinned here.
 */
import { describe, expect, it } from 'vitest';
import type { Bus, BusMessage, DroppedMessage, KeyValue, WorkMessage, WorkQueue } from '../../src/transport/index.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Waits until `cond()` holds (polling), failing after `ms`. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * `sync()`, when given, waits until subscriptions and watches made so far are in effect at the
 * server (NATS: a flush round trip, a watch's consumer created); the memory transports need none.
 */
export function busConformance(
  name: string,
  connect: () => Promise<{ a: Bus; b: Bus; sync?(): Promise<void>; done(): Promise<void> }>,
): void {
  describe(`${name}: node-to-node bus`, () => {
    it('a published message reaches every matching subscriber, in order, with its headers; wildcards match as NATS does', async () => {
      const { a, b, sync, done } = await connect();
      const got: string[] = [];
      b.subscribe('tss.*.msg', (m) => {
        got.push(`${m.subject}:${text(m.data)}:${m.headers.get('h') ?? ''}`);
      });
      const rest: string[] = [];
      b.subscribe('tss.>', (m) => {
        rest.push(m.subject);
      });
      await sync?.();
      for (let i = 0; i < 20; i++) a.publish(`tss.s${i % 2}.msg`, bytes(String(i)), { headers: { h: 'x' } });
      a.publish('tss.s1.other.deep', bytes('d'));
      await until(() => got.length === 20 && rest.length === 21);
      expect(got.map((g) => g.split(':')[1])).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
      expect(got[0]).toBe('tss.s0.msg:0:x');
      await done();
    });

    it('a queue group delivers each message to one member; an unsubscribed handler gets nothing', async () => {
      const { a, b, sync, done } = await connect();
      const seen: string[] = [];
      b.subscribe(
        'work.x',
        () => {
          seen.push('m1');
        },
        { queue: 'g' },
      );
      b.subscribe(
        'work.x',
        () => {
          seen.push('m2');
        },
        { queue: 'g' },
      );
      const off = b.subscribe('work.x', () => {
        seen.push('gone');
      });
      off.unsubscribe();
      await sync?.();
      for (let i = 0; i < 10; i++) a.publish('work.x', bytes('.'));
      await until(() => seen.length === 10);
      expect(seen).not.toContain('gone');
      expect(seen.filter((s) => s === 'm1').length + seen.filter((s) => s === 'm2').length).toBe(10);
      await done();
    });

    it('a request gets the first answer; with no responder it fails at once, and a silent one times out', async () => {
      const { a, b, sync, done } = await connect();
      b.subscribe('svc.echo', (m: BusMessage) => {
        b.publish(m.reply!, Uint8Array.from([...m.data, 1]));
      });
      await sync?.();
      const r = await a.request('svc.echo', Uint8Array.of(7), { timeoutMs: 2000 });
      expect([...r.data]).toEqual([7, 1]);
      await expect(a.request('svc.nobody', Uint8Array.of(1), { timeoutMs: 2000 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      b.subscribe('svc.silent', () => {});
      await sync?.();
      await expect(a.request('svc.silent', Uint8Array.of(1), { timeoutMs: 50 })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      await done();
    });

    it('a handler that throws does not stop its subscription; a closed connection refuses to publish', async () => {
      const { a, b, sync, done } = await connect();
      let n = 0;
      b.subscribe('err.x', () => {
        n++;
        throw new Error('boom');
      });
      await sync?.();
      a.publish('err.x', bytes('1'));
      a.publish('err.x', bytes('2'));
      await until(() => n === 2);
      await a.close();
      expect(() => a.publish('err.x', bytes('3'))).toThrow(/closed/);
      expect(() => b.publish('bad subject', bytes('x'))).toThrow();
      expect(() => b.subscribe('a.>.b', () => {})).toThrow();
      await done();
    });
  });
}

export function kvConformance(
  name: string,
  open: (
    ttlMs: number,
  ) => Promise<{ a: KeyValue; b: KeyValue; advance?(ms: number): void; sync?(): Promise<void>; done(): Promise<void> }>,
): void {
  describe(`${name}: key-value bucket`, () => {
    it('puts, gets, deletes and lists keys with increasing revisions; both handles see one bucket', async () => {
      const { a, b, done } = await open(0);
      const r1 = await a.put('peer.n1', bytes('id-1'));
      const r2 = await a.put('peer.n2', bytes('id-2'));
      expect(r2).toBeGreaterThan(r1);
      expect(text((await b.get('peer.n1'))!.value)).toBe('id-1');
      expect((await b.keys()).sort()).toEqual(['peer.n1', 'peer.n2']);
      await b.delete('peer.n1');
      expect(await a.get('peer.n1')).toBeNull();
      await expect(a.put('bad key!', bytes('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await done();
    });

    it('a watcher sees puts and deletes of other handles; an entry not put again within the TTL disappears and its watchers see a DEL', async () => {
      const { a, b, advance, sync, done } = await open(200);
      const events: string[] = [];
      const w = b.watch((e) => events.push(`${e.operation}:${e.key}`));
      await sync?.();
      await a.put('ready.n1', bytes('1'));
      await a.put('ready.n2', bytes('1'));
      await a.delete('ready.n2');
      await until(() => events.length === 3);
      advance?.(250);
      await until(() => events.includes('DEL:ready.n1'));
      expect(await a.get('ready.n1')).toBeNull();
      w.stop();
      await done();
    });
  });
}

export function workQueueConformance(
  name: string,
  connect: () => Promise<{ a: WorkQueue; b: WorkQueue; done(): Promise<void> }>,
): void {
  const cfg = { stream: 'req', durable: 'workers', filter: 'req.*', maxDeliver: 3, ackWaitMs: 100, maxAckPending: 10 };
  describe(`${name}: client work queue`, () => {
    it('each message goes to one member of a durable consumer shared by two nodes, and an acked message is not delivered again', async () => {
      const { a, b, done } = await connect();
      await a.ensureStream({ name: 'req', subjects: ['req.*'] });
      const got: string[] = [];
      const take = (who: string) => (m: WorkMessage) => {
        got.push(`${who}:${text(m.data)}`);
        m.ack();
      };
      a.consume(cfg, take('a'));
      b.consume(cfg, take('b'));
      for (let i = 0; i < 10; i++) await b.publish(`req.${i}`, bytes(String(i)));
      await until(() => got.length === 10);
      await new Promise((r) => setTimeout(r, 250));
      expect(got.length).toBe(10);
      expect(new Set(got.map((g) => g.split(':')[1])).size).toBe(10);
      await done();
    });

    it('a message id seen within the window is stored once; a consumer sees it as the Nats-Msg-Id header', async () => {
      const { a, b, done } = await connect();
      await a.ensureStream({ name: 'res', subjects: ['res.>'] });
      const first = await a.publish('res.x', bytes('1'), { msgId: 'id-1', headers: { h: 'x' } });
      const again = await a.publish('res.x', bytes('1'), { msgId: 'id-1' });
      expect(again).toEqual({ seq: first.seq, duplicate: true });
      expect((await a.publish('res.x', bytes('2'), { msgId: 'id-2' })).duplicate).toBe(false);
      await a.publish('res.x', bytes('3'));
      await expect(a.publish('nowhere.x', bytes('1'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const got: string[] = [];
      b.consume({ ...cfg, stream: 'res', durable: 'ids', filter: 'res.>' }, (m) => {
        got.push(`${text(m.data)}:${m.headers.get('Nats-Msg-Id') ?? '-'}:${m.headers.get('h') ?? '-'}`);
        m.ack();
      });
      await until(() => got.length === 3);
      expect(got.sort()).toEqual(['1:id-1:x', '2:id-2:-', '3:-:-']);
      await done();
    });

    it('a nak, a throwing handler or a missed ack wait redelivers (deliveryCount grows); after maxDeliver the message is dropped with an advisory that carries its headers', async () => {
      const { a, b, done } = await connect();
      await a.ensureStream({ name: 'req', subjects: ['req.*'] });
      const counts: number[] = [];
      const dropped: { seq: number; client: string | undefined }[] = [];
      b.consume(
        cfg,
        (m) => {
          counts.push(m.deliveryCount);
          if (m.deliveryCount === 1) m.nak();
          else if (m.deliveryCount === 2) throw new Error('handler failed');
          // third delivery: never acked → dropped after the ack wait
        },
        { onMaxDeliveries: (m) => dropped.push({ seq: m.seq, client: m.headers.get('ClientID') }) },
      );
      const { seq } = await a.publish('req.1', bytes('x'), { headers: { ClientID: 'svc-a' } });
      await until(() => dropped.length === 1);
      expect(counts).toEqual([1, 2, 3]);
      // the dropped message comes with its headers (the node scopes its answer by the client id)
      expect(dropped).toEqual([{ seq, client: 'svc-a' }]);
      await done();
    });

    it('the max-deliveries listener gets the stored message: subject, sequence, data and the publisher headers', async () => {
      const { a, b, done } = await connect();
      await a.ensureStream({ name: 'req', subjects: ['req.*'] });
      const dropped: DroppedMessage[] = [];
      b.consume({ ...cfg, maxDeliver: 1 }, () => {}, { onMaxDeliveries: (m) => dropped.push(m) });
      const headers = { ClientID: 'svc-a', 'Mpc-Reply-To': '_INBOX.r1' };
      const { seq } = await a.publish('req.h', bytes('{"tx_id":"t"}'), { msgId: 'm-1', headers });
      await until(() => dropped.length === 1);
      const m = dropped[0]!;
      expect([m.subject, m.seq, text(m.data)]).toEqual(['req.h', seq, '{"tx_id":"t"}']);
      expect(m.headers.get('ClientID')).toBe('svc-a');
      expect(m.headers.get('Mpc-Reply-To')).toBe('_INBOX.r1');
      expect(m.headers.get('Nats-Msg-Id')).toBe('m-1');
      await done();
    });
  });
}
