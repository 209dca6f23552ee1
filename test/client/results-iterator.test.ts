import { describe, expect, it } from 'vitest';
import { keygenResult } from '../../src/api/index.js';
import type { ResultEvent } from '../../src/client/index.js';
import { resultsHeld, setup, until } from './helpers.js';

const ok = (n: number) =>
  keygenResult(`w${n}`, { ecdsaPublicKeyXY: new Uint8Array(64), eddsaPublicKey: new Uint8Array(32) });
const walletOf = (e: ResultEvent) => (e.operation === 'keygen' ? e.result.walletId : `${e.operation}?`);

async function read(it: AsyncIterator<ResultEvent>, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(walletOf(r.value));
  }
  return out;
}

describe('results(): every result in order, bounded', () => {
  it('yields results in the order received — first those that arrived while no iterator was open — whether or not they settle a request', async () => {
    const s = await setup({ client: { clientId: 'svc' } });
    for (let i = 0; i < 5; i++) await s.node.publish('keygen', `w${i}`, 'svc', ok(i));
    await until(() => resultsHeld(s.server) === 0); // consumed (into the backlog) and acked
    const it = s.client.results();
    const mine = s.client.createWallet('w5');
    await s.node.replyKeygen(await s.node.next(), {
      ecdsaPublicKeyXY: new Uint8Array(64),
      eddsaPublicKey: new Uint8Array(32),
    });
    for (let i = 6; i < 30; i++) await s.node.publish('keygen', `w${i}`, 'svc', ok(i));
    await expect(mine).resolves.toMatchObject({ walletId: 'w5' });
    expect(await read(it, 30)).toEqual(Array.from({ length: 30 }, (_, i) => `w${i}`));
    // a second iterator sees only what comes after it opened; both see that
    const later = s.client.results();
    await s.node.publish('keygen', 'w30', 'svc', ok(30));
    expect(await read(it, 1)).toEqual(['w30']);
    expect(await read(later, 1)).toEqual(['w30']);
    await later.return!();
    expect((await later.next()).done).toBe(true);
    await s.client.close();
    expect((await it.next()).done).toBe(true);
    await s.done();
  });

  it('backpressure: while an iterator is full the client stops acking (the stream keeps the results), promises still settle, and reading resumes in order', async () => {
    const s = await setup({ client: { resultBufferSize: 2 } });
    const it = s.client.results();
    const mine = s.client.createWallet('w6');
    const req = await s.node.next();
    for (let i = 0; i < 6; i++) await s.node.publish('keygen', `w${i}`, undefined, ok(i));
    await s.node.replyKeygen(req, { ecdsaPublicKeyXY: new Uint8Array(64), eddsaPublicKey: new Uint8Array(32) });
    await expect(mine).resolves.toMatchObject({ walletId: 'w6' }); // settled though its result waits for the reader
    await until(() => resultsHeld(s.server) === 5); // 2 buffered and acked, 5 held unacked
    await new Promise((r) => setTimeout(r, 50));
    expect(resultsHeld(s.server)).toBe(5);
    expect(await read(it, 7)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
    await until(() => resultsHeld(s.server) === 0);
    await s.done();
  });

  it('with no iterator open only the newest resultBufferSize results are kept; droppedResults counts the others', async () => {
    const s = await setup({ client: { resultBufferSize: 3 } });
    for (let i = 0; i < 8; i++) await s.node.publish('keygen', `w${i}`, undefined, ok(i));
    await until(() => resultsHeld(s.server) === 0);
    expect(s.client.droppedResults).toBe(5);
    const it = s.client.results();
    expect(await read(it, 3)).toEqual(['w5', 'w6', 'w7']);
    await s.done();
  });

  it('a result no client can read (not JSON, a mistyped field) is terminated: not yielded, not redelivered', async () => {
    const s = await setup();
    const it = s.client.results();
    await s.node.publish('keygen', 'bad', undefined, new TextEncoder().encode('{"wallet_id": 7}'));
    await s.node.publish('keygen', 'w1', undefined, ok(1));
    expect(await read(it, 1)).toEqual(['w1']);
    await until(() => resultsHeld(s.server) === 0);
    await s.done();
  });
});
