import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID_HEADER,
  encodeSignTxRequest,
  REPLY_TO_HEADER,
  requestSubject,
  resultMessageId,
  type SignTxRequest,
  signingResult,
  unauthenticatedResultMessageId,
  validateReplySubject,
} from '../../src/api/index.js';
import {
  type KeygenOutcome,
  OperationFailedError,
  type ReshareOutcome,
  type ResultEvent,
  type SignOutcome,
} from '../../src/client/index.js';
import { digest, losingAcks, resultsHeld, setup, until } from './helpers.js';
import type { Received } from './stand-in-node.js';

const ED = (n: number) => new Uint8Array(32).fill(n);
const XY = (n: number) => new Uint8Array(64).fill(n);

async function take(it: AsyncIterator<ResultEvent>): Promise<ResultEvent> {
  const r = await it.next();
  if (r.done) throw new Error('iterator ended');
  return r.value;
}

describe('each result settles its own request', () => {
  it('among 40 concurrent requests (keygen, secp256k1 and ed25519 signing, reshare) answered in reverse order, every promise gets the result naming its id', async () => {
    const s = await setup({ client: { clientId: 'svc' } });
    const calls: Promise<KeygenOutcome | SignOutcome | ReshareOutcome>[] = [];
    for (let i = 0; i < 10; i++) {
      calls.push(s.client.createWallet(`w${i}`));
      calls.push(s.client.sign({ walletId: 'w', keyType: 'secp256k1', tx: digest(i), txId: `ec${i}` }));
      calls.push(s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(i), txId: `ed${i}` }));
      calls.push(
        s.client.reshare({
          walletId: `w${i}`,
          keyType: 'ed25519',
          newThreshold: 1,
          nodeIds: ['a', 'b'],
          sessionId: `s${i}`,
        }),
      );
    }
    const got: Received[] = [];
    while (got.length < 40) got.push(await s.node.next());
    for (const r of got.reverse()) {
      if (r.op === 'keygen')
        await s.node.replyKeygen(r, {
          ecdsaPublicKeyXY: XY(Number(r.request.walletId.slice(1))),
          eddsaPublicKey: ED(1),
        });
      else if (r.op === 'reshare')
        await s.node.replyReshare(r, { publicKey: ED(Number(r.request.sessionId.slice(1))) });
      else if (r.request.keyType === 'ed25519')
        await s.node.replySigning(r, { keyType: 'ed25519', signature: new Uint8Array(64).fill(r.request.tx[0]!) });
      else await s.node.replySigning(r, { keyType: 'secp256k1', r: r.request.tx, s: digest(9), recoveryId: 0 });
    }
    const out = await Promise.all(calls);
    for (let i = 0; i < 10; i++) {
      expect(out[4 * i]).toMatchObject({ walletId: `w${i}`, ecdsaPublicKey: XY(i) });
      expect(out[4 * i + 1]).toMatchObject({ txId: `ec${i}`, keyType: 'secp256k1', r: digest(i) });
      expect(out[4 * i + 2]).toMatchObject({ txId: `ed${i}`, signature: new Uint8Array(64).fill(i) });
      expect(out[4 * i + 3]).toMatchObject({ sessionId: `s${i}`, publicKey: ED(i) });
    }
    expect(s.client.pendingRequests).toBe(0);
    await until(() => resultsHeld(s.server) === 0); // every result acked
    await s.done();
  });

  it('an error result rejects with OperationFailedError carrying its ERROR_* code, reason and timeout flag', async () => {
    const s = await setup();
    const kg = s.client.createWallet('w-dup');
    await s.node.replyKeygen(await s.node.next(), {
      code: 'ERROR_KEY_ALREADY_EXISTS',
      reason: 'Key already exists: w-dup',
    });
    const e1 = await kg.catch((e) => e);
    expect(e1).toBeInstanceOf(OperationFailedError);
    expect(e1).toMatchObject({
      code: 'OPERATION_FAILED',
      operation: 'keygen',
      id: 'w-dup',
      errorCode: 'ERROR_KEY_ALREADY_EXISTS',
      reason: 'Key already exists: w-dup',
      isTimeout: false,
    });
    const sg = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 't-late' });
    const r = await s.node.next();
    await s.node.replySigning(r, { code: 'ERROR_MAX_DELIVERY_ATTEMPTS', reason: 'gave up', isTimeout: true });
    await expect(sg).rejects.toMatchObject({ errorCode: 'ERROR_MAX_DELIVERY_ATTEMPTS', isTimeout: true });
    await s.done();
  });

  it('a success result of the wrong shape rejects with ERROR_MESSAGE_FORMAT instead of resolving', async () => {
    const s = await setup();
    const sg = s.client.sign({ walletId: 'w', keyType: 'secp256k1', tx: digest(1), txId: 't1' });
    const r = await s.node.next();
    // an ed25519-shaped success for a secp256k1 request
    await s.node.replySigning(r, { keyType: 'ed25519', signature: new Uint8Array(64) });
    await expect(sg).rejects.toMatchObject({ errorCode: 'ERROR_MESSAGE_FORMAT', operation: 'signing' });
    await s.done();
  });

  it('a result naming the tx id of a request for another wallet does not settle it', async () => {
    const s = await setup();
    const sg = s.client.sign({ walletId: 'w-mine', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 't1' });
    const r = await s.node.next();
    const it = s.client.results();
    await s.node.publish(
      'signing',
      't1',
      undefined,
      signingResult(
        { walletId: 'w-other', txId: 't1', networkInternalCode: '' },
        { keyType: 'ed25519', signature: new Uint8Array(64) },
      ),
      'another operation', // the node's own message id would make JetStream drop the real result
    );
    expect((await take(it)).operation).toBe('signing');
    expect(s.client.pendingRequests).toBe(1);
    await s.node.replySigning(r, { keyType: 'ed25519', signature: new Uint8Array(64).fill(5) });
    await expect(sg).resolves.toMatchObject({ walletId: 'w-mine', signature: new Uint8Array(64).fill(5) });
    await s.done();
  });
});

describe('duplicates, forgeries and waiting', () => {
  it('a redelivered result (its ack lost) is handled once: it neither settles a later request with the same id nor shows twice', async () => {
    let wq: ReturnType<typeof losingAcks> | undefined;
    const s = await setup({ wrap: (inner) => (wq = losingAcks(inner)) });
    const it = s.client.results();
    const first = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 'same' });
    await s.node.replySigning(await s.node.next(), { keyType: 'ed25519', signature: new Uint8Array(64).fill(1) });
    await expect(first).resolves.toMatchObject({ signature: new Uint8Array(64).fill(1) });
    const e1 = await take(it);

    const second = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(2), txId: 'same' });
    const r2 = await s.node.next();
    await wq!.redeliver(); // the first result again, same stream sequence
    expect(s.client.pendingRequests).toBe(1);
    await until(() => resultsHeld(s.server) === 0); // the redelivery was acked
    // a second result for the same tx id needs its own message id (within the window JetStream would drop it)
    const sig2 = { keyType: 'ed25519' as const, signature: new Uint8Array(64).fill(2) };
    await s.node.publish('signing', 'same', undefined, signingResult(r2.request as SignTxRequest, sig2), 'second');
    await wq!.redeliver();
    await expect(second).resolves.toMatchObject({ signature: new Uint8Array(64).fill(2) });
    const e2 = await take(it);
    expect(e2.seq).not.toBe(e1.seq);
    expect(e2.operation === 'signing' && e2.result.signature).toEqual(new Uint8Array(64).fill(2));
    await s.client.close();
    expect((await it.next()).done).toBe(true); // nothing else was yielded
    await s.done();
  });

  it("an error result for someone else's unauthenticated request naming this tx id does not fail this request", async () => {
    const s = await setup({ client: { clientId: 'svc' } });
    const mine = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 'victim' });
    const r = await s.node.next();
    const it = s.client.results();
    // someone the node does not trust reuses the tx id and the client id header
    const forged = encodeSignTxRequest({
      keyType: 'ed25519',
      walletId: 'w',
      networkInternalCode: '',
      txId: 'victim',
      tx: Uint8Array.of(2),
      signature: Uint8Array.of(1, 2, 3),
      derivationPath: null,
      authorizerSignatures: [],
    });
    await s.server
      .connect()
      .publish(requestSubject('signing', 'victim'), forged, { headers: { [CLIENT_ID_HEADER]: 'svc' } });
    const ev = await take(it);
    expect(ev.operation === 'signing' && ev.result.errorCode).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');
    expect(s.node.refused.map((x) => x.code)).toEqual(['ERROR_INVALID_INITIATOR_SIGNATURE']);
    expect(s.client.pendingRequests).toBe(1);
    await s.node.replySigning(r, { keyType: 'ed25519', signature: new Uint8Array(64).fill(3) });
    await expect(mine).resolves.toMatchObject({ txId: 'victim' });
    await s.done();
  });

  it("a node's conflict, refusal or error answer to another request's bytes naming this tx id (e.g. a copy with another unsigned derivation_path) does not fail this request; its own does", async () => {
    const s = await setup({ client: { clientId: 'svc' } });
    const mine = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 'pay-42' });
    const r = await s.node.next();
    if (r.op !== 'signing') throw new Error('expected a signing request');
    const copy = JSON.parse(Buffer.from(r.data).toString()) as Record<string, unknown>;
    copy.derivation_path = [7];
    const copyDigest = createHash('sha256')
      .update(Buffer.from(JSON.stringify(copy)))
      .digest('hex');
    const base = resultMessageId('signing', 'pay-42', 'svc');
    const dup = signingResult(r.request, { code: 'ERROR_SESSION_DUPLICATE', reason: 'Duplicate session: …' });
    for (const tail of [`:conflict:${copyDigest}`, `:refused:${copyDigest}:9`, `:error:${copyDigest}`])
      await s.node.publish('signing', 'pay-42', 'svc', dup, `${base}${tail}`);
    await new Promise((res) => setTimeout(res, 50));
    expect(s.client.pendingRequests).toBe(1);
    // the same answer about this request's own bytes settles it
    const own = createHash('sha256').update(r.data).digest('hex');
    await s.node.publish('signing', 'pay-42', 'svc', dup, `${base}:conflict:${own}`);
    await expect(mine).rejects.toMatchObject({ errorCode: 'ERROR_SESSION_DUPLICATE' });
    await s.done();
  });

  it('a request without a result rejects with TimeoutError naming what to check; the late result only reaches results()', async () => {
    const s = await setup({ client: { clientId: 'svc' } });
    const p = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 't1', timeoutMs: 50 });
    const r = await s.node.next();
    const e = await p.catch((x) => x);
    expect(e).toMatchObject({ code: 'TIMEOUT', name: 'TimeoutError' });
    expect(e.message).toMatch(/signing request t1 got no answer within 50 ms/);
    expect(e.message).toMatch(/event_initiator_pubkey/);
    expect(e.message).toMatch(/mpc_signing_result_svc/);
    expect(s.client.pendingRequests).toBe(0);
    const it = s.client.results();
    await s.node.replySigning(r, { keyType: 'ed25519', signature: new Uint8Array(64) });
    expect((await take(it)).operation).toBe('signing');
    await expect(s.client.createWallet('w2', { timeoutMs: 30 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await s.done();
  });

  it('one request per id is in flight, maxPending bounds the waiting requests, close rejects those waiting', async () => {
    const s = await setup({ client: { maxPending: 2 } });
    const a = s.client.createWallet('a');
    await expect(s.client.createWallet('a')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    const b = s.client.sign({ walletId: 'a', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 'a' }); // other operation
    await expect(s.client.createWallet('c')).rejects.toMatchObject({ code: 'INVALID_STATE', message: /2 requests/ });
    expect(s.client.pendingRequests).toBe(2);
    await until(() => s.node.received.length === 2); // the refused ones were not published
    await s.client.close();
    await expect(a).rejects.toMatchObject({ code: 'INVALID_STATE', message: /closed before the keygen result for a/ });
    await expect(b).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(s.client.createWallet('d')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(s.node.received.length).toBe(2);
    await s.done();
  });

  it('synchronousResults: each request names its own reply subject; a reply settles only its request, by the same rules as the stream', async () => {
    const s = await setup({ client: { clientId: 'svc', synchronousResults: true } });
    const bus = s.broker.bus();
    const p1 = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(1), txId: 't1' });
    const p2 = s.client.sign({ walletId: 'w', keyType: 'ed25519', tx: Uint8Array.of(2), txId: 't2' });
    const r1 = await s.node.next();
    const r2 = await s.node.next();
    const to1 = r1.headers.get(REPLY_TO_HEADER)!;
    const to2 = r2.headers.get(REPLY_TO_HEADER)!;
    expect(to1).toMatch(/^_INBOX\.[0-9a-f]{32}\.\d+$/);
    expect(to2).not.toBe(to1);
    expect(validateReplySubject(to1, ['tessera', '_INBOX_tessera'])).toBe(to1);
    const sig = (n: number) => ({ keyType: 'ed25519' as const, signature: new Uint8Array(64).fill(n) });
    const result = (r: Received, n: number) => signingResult(r.request as SignTxRequest, sig(n));
    // t2's result on t1's subject, another wallet's, an error under someone else's unauthenticated id, junk: nothing settles
    bus.publish(to1, result(r2, 7), { headers: { 'Nats-Msg-Id': 'x' } });
    bus.publish(to1, signingResult({ walletId: 'other', txId: 't1', networkInternalCode: '' }, sig(7)));
    const forgedError = signingResult(r1.request as SignTxRequest, { code: 'ERROR_SIGNING_FAILURE', reason: 'no' });
    bus.publish(to1, forgedError, {
      headers: { 'Nats-Msg-Id': unauthenticatedResultMessageId('signing', 'ab'.repeat(32), 'svc') },
    });
    bus.publish(to1, Uint8Array.of(1, 2, 3));
    bus.publish(`${to1}9`, result(r1, 7));
    await new Promise((r) => setTimeout(r, 50));
    expect(s.client.pendingRequests).toBe(2);
    // its own result settles it, without the stream
    bus.publish(to1, result(r1, 1), { headers: { 'Nats-Msg-Id': 'mpc.mpc_signing_result.svc:t1' } });
    await expect(p1).resolves.toMatchObject({ txId: 't1', signature: new Uint8Array(64).fill(1) });
    // the stream copy settles the other; a later reply for it settles nothing and does not throw
    await s.node.replySigning(r2, sig(2));
    await expect(p2).resolves.toMatchObject({ txId: 't2', signature: new Uint8Array(64).fill(2) });
    bus.publish(to2, result(r2, 3));
    expect(s.client.pendingRequests).toBe(0);
    await bus.close();
    await s.done();
    await expect(setup({ client: { synchronousResults: true, bus: undefined } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
