/**
 * Review 16/F1: reshare requests arrive on core NATS, with no back-pressure. A flood (junk or
 * signed) must neither queue without bound behind a running reshare nor be parsed again and again:
 * authenticated requests beyond the waiting line are refused with ERROR_RESOURCE_EXHAUSTED, and
 * what is beyond the handling bound is dropped at once.
 */
import { describe, expect, it, vi } from 'vitest';

let release: () => void = () => {};
let calls = 0;
vi.mock('../../../src/node/operations/reshare.js', () => ({
  coordinateReshare: vi.fn(async () => {
    calls++;
    await new Promise<void>((r) => {
      release = r;
    });
    return { result: new TextEncoder().encode('{"result_type":"success"}'), refused: false };
  }),
}));

import { RESHARE_REQUEST_SUBJECT, RESULT_STREAM, RESULT_SUBJECTS } from '../../../src/api/index.js';
import { RequestHandler } from '../../../src/node/requests/handle.js';
import { MemoryBroker, MemoryJetStream } from '../../../src/transport/index.js';
import { until } from '../../transport/conformance.js';

describe('a flood on mpc:reshare', () => {
  it('while one reshare runs: 64 signed requests wait, the next are refused with ERROR_RESOURCE_EXHAUSTED, 1 MiB junk is dropped unparsed, nothing piles up', async () => {
    const broker = new MemoryBroker();
    const wq = new MemoryJetStream().connect();
    await wq.ensureStream({ name: RESULT_STREAM, subjects: [...RESULT_SUBJECTS] });
    const warned: string[] = [];
    const published: string[] = [];
    const audits: unknown[] = [];
    const log = {
      debug: () => {},
      info: () => {},
      warn: (_f: unknown, m: string) => warned.push(m),
      error: (_f: unknown, m: string) => warned.push(m),
    };
    const ctx = {
      config: {
        max_concurrent_keygen: 2,
        max_concurrent_signing: 20,
        tessera: { reply_subject_prefixes: ['_INBOX.'] },
      },
      log,
      audit: (e: unknown) => audits.push(e),
      authenticate: () => {},
    } as never;
    const realPublish = wq.publish.bind(wq);
    wq.publish = async (s, d, o) => {
      published.push(Buffer.from(d).toString());
      return realPublish(s, d, o);
    };
    const h = new RequestHandler(ctx, wq, broker.bus(), undefined, ['tessera']);
    await h.start();
    const client = broker.bus();
    const req = (sid: string) =>
      Buffer.from(
        JSON.stringify({
          session_id: sid,
          node_ids: ['a', 'b', 'c'],
          new_threshold: 1,
          key_type: 'secp256k1',
          wallet_id: 'w',
          signature: 'AA==',
        }),
      );
    client.publish(RESHARE_REQUEST_SUBJECT, req('s0'));
    await until(() => calls === 1);
    for (let i = 1; i <= 100; i++) client.publish(RESHARE_REQUEST_SUBJECT, req(`s${i}`));
    await until(() => published.filter((p) => p.includes('ERROR_RESOURCE_EXHAUSTED')).length === 36, 10_000);
    const junk = new Uint8Array(1 << 20).fill(0x41);
    for (let i = 0; i < 300; i++) client.publish(RESHARE_REQUEST_SUBJECT, junk);
    await new Promise((r) => setTimeout(r, 200));
    // the junk got no result and no per-message audit entry; its log lines are rate-limited
    expect(published.filter((p) => p.includes('ERROR_RESOURCE_EXHAUSTED')).length).toBe(36);
    expect(audits).toEqual([]);
    expect(warned.length).toBeLessThanOrEqual(21);
    expect(calls).toBe(1);
    release();
    await until(() => calls === 2);
    release();
    await h.stop(100);
    // at stop, the refusals are audited once per operation and code, with their count
    expect(audits).toContainEqual(
      expect.objectContaining({ actor: 'unauthenticated', action: 'reshare', details: expect.anything() }),
    );
  });
});
