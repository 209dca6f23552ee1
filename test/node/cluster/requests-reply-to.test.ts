/**
 * Synchronous results (`Mpc-Reply-To`, mpcium PR #142) and the max-deliveries result scoped by
 * `ClientID`, through an in-process cluster: what a client gets on its reply subject and in the
 * result stream.
 */
import { createHash, sign as edSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID_HEADER,
  generateKeySignedBytes,
  type Operation,
  REPLY_TO_HEADER,
  RESHARE_REQUEST_SUBJECT,
  RESULT_STREAM,
  requestSubject,
  resharingSignedBytes,
  resultConsumer,
  resultMessageId,
  SIGNING_CONSUMER,
  SIGNING_STREAM,
  unauthenticatedResultMessageId,
} from '../../../src/api/index.js';
import { type ClientOptions, localSigner, MpcClient, verifySignOutcome } from '../../../src/client/index.js';
import type { Logger } from '../../../src/common/log.js';
import { LocalCluster, NODE_INBOX_PREFIX } from '../../../src/node/index.js';
import type { Bus, DroppedMessage, WorkQueue } from '../../../src/transport/index.js';
import { ClusterClient } from '../../helpers/cluster-client.js';
import { testLog } from '../../helpers/test-log.js';
import { until } from '../../transport/conformance.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Got {
  readonly subject: string;
  readonly data: string;
  readonly msgId: string | undefined;
}

describe('Mpc-Reply-To: results on core NATS too', () => {
  let cluster: LocalCluster;
  let signer: ClusterClient;
  let queue: WorkQueue;
  let bus: Bus;
  /** Every message on the bus whose payload is a result event (`result_type`), by subject. */
  const onBus: Got[] = [];
  const warnings: Record<string, unknown>[] = [];
  let keygenReply: Got | undefined;
  let keygenStream: Got[];
  const stops: { stop(): void }[] = [];
  let clients = 0;

  /** The results of one operation for a fresh client id, as they arrive in the stream. */
  const results = (op: Operation, clientId: string): Got[] => {
    const got: Got[] = [];
    const { durable, filter } = resultConsumer(op, clientId);
    stops.push(
      queue.consume(
        { stream: RESULT_STREAM, durable, filter, maxDeliver: 3, ackWaitMs: 30_000, maxAckPending: 1000 },
        (m) => {
          got.push({ subject: m.subject, data: text(m.data), msgId: m.headers.get('Nats-Msg-Id') });
          m.ack();
        },
      ),
    );
    return got;
  };
  const repliesOn = (subject: string) => onBus.filter((g) => g.subject === subject);
  const headers = (clientId: string, replyTo?: string) => ({
    [CLIENT_ID_HEADER]: clientId,
    ...(replyTo === undefined ? {} : { [REPLY_TO_HEADER]: replyTo }),
  });
  const keygenRequest = (walletId: string) =>
    Buffer.from(
      JSON.stringify({
        wallet_id: walletId,
        signature: b64(edSign(null, generateKeySignedBytes({ walletId }), cluster.initiatorKey)),
      }),
    );

  beforeAll(async () => {
    const capture = (node: string): Logger => {
      const base = testLog(node);
      const warn = (f: Readonly<Record<string, unknown>>, m: string) => {
        warnings.push({ ...f, msg: m });
        base.warn(f, m);
      };
      return { ...base, warn };
    };
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log: capture });
    signer = new ClusterClient(cluster);
    queue = cluster.clientQueue();
    bus = cluster.clientBus();
    bus.subscribe('>', (m) => {
      const s = text(m.data);
      if (s.includes('"result_type"')) onBus.push({ subject: m.subject, data: s, msgId: m.headers.get('Nats-Msg-Id') });
    });
    // the wallet of every test, created by a keygen that asks for a synchronous result
    keygenStream = results('keygen', 'kg');
    await queue.publish(requestSubject('keygen', 'w-sync'), keygenRequest('w-sync'), {
      headers: headers('kg', '_INBOX.kg'),
    });
    await until(() => keygenStream.length === 1 && repliesOn('_INBOX.kg').length === 1, 60_000);
    keygenReply = repliesOn('_INBOX.kg')[0];
  }, 120_000);

  afterAll(async () => {
    for (const s of stops) s.stop();
    await bus?.close();
    await queue?.close();
    await cluster?.stop();
  });

  it('a keygen request with Mpc-Reply-To gets its result on the reply subject: the bytes and message id of the stream copy', () => {
    expect(JSON.parse(keygenStream[0]!.data)).toMatchObject({ wallet_id: 'w-sync', result_type: 'success' });
    expect(keygenStream[0]!.subject).toBe('mpc.mpc_keygen_result.kg.w-sync');
    expect(keygenReply!.data).toBe(keygenStream[0]!.data);
    expect(keygenReply!.msgId).toBe(resultMessageId('keygen', 'w-sync', 'kg'));
    expect(keygenReply!.msgId).toBe(keygenStream[0]!.msgId);
  });

  it('a signing request with Mpc-Reply-To gets the same result bytes on the reply subject and in the stream (both curves)', async () => {
    const cid = `c${++clients}`;
    const stream = results('signing', cid);
    const reqs = [
      { keyType: 'secp256k1' as const, tx: randomBytes(32), txId: 'sync-ecdsa' },
      { keyType: 'ed25519' as const, tx: randomBytes(50), txId: 'sync-eddsa' },
    ];
    for (const r of reqs) {
      const data = signer.signRequest({ walletId: 'w-sync', ...r });
      await queue.publish(requestSubject('signing', r.txId), data, {
        headers: headers(cid, `_INBOX.${cid}.${r.txId}`),
      });
    }
    await until(
      () => stream.length === 2 && reqs.every((r) => repliesOn(`_INBOX.${cid}.${r.txId}`).length === 1),
      60_000,
    );
    for (const r of reqs) {
      const inStream = stream.find((g) => JSON.parse(g.data).tx_id === r.txId)!;
      const reply = repliesOn(`_INBOX.${cid}.${r.txId}`)[0]!;
      expect(JSON.parse(inStream.data).result_type, inStream.data).toBe('success');
      expect(reply.data).toBe(inStream.data);
      expect(reply.msgId).toBe(inStream.msgId);
      expect(reply.msgId).toBe(resultMessageId('signing', r.txId, cid));
    }
  }, 60_000);

  it('a request that fails before authentication gets its error on the reply subject too, under the unauthenticated message id', async () => {
    const cid = `c${++clients}`;
    const stream = results('signing', cid);
    const forged = Buffer.from(
      JSON.stringify({
        key_type: 'ed25519',
        wallet_id: 'w-sync',
        network_internal_code: '',
        tx_id: 'forged-1',
        tx: b64(Uint8Array.of(1)),
        signature: b64(new Uint8Array(64)),
        derivation_path: null,
      }),
    );
    await queue.publish(requestSubject('signing', 'forged-1'), forged, { headers: headers(cid, `_INBOX.${cid}`) });
    await until(() => stream.length === 1 && repliesOn(`_INBOX.${cid}`).length === 1);
    expect(JSON.parse(stream[0]!.data).error_code).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');
    expect(repliesOn(`_INBOX.${cid}`)[0]).toEqual({ ...stream[0], subject: `_INBOX.${cid}` });
    expect(stream[0]!.msgId).toBe(unauthenticatedResultMessageId('signing', sha256hex(forged), cid));
  });

  it('a reply subject the node does not answer on is ignored (logged); the stream result still arrives', async () => {
    const cid = `c${++clients}`;
    const stream = results('signing', cid);
    const refused = [
      '_INBOX.*',
      '_INBOX.>',
      '$JS.API.STREAM.DELETE.mpc',
      '$KV.tessera_ready.x',
      'mpc.mpc_signing_result.victim.complete',
      'mpc.signing_request.x',
      'mpc:reshare',
      'tessera.node.x.msg',
      `${NODE_INBOX_PREFIX}.abc`,
      '_INBOX..x',
      '_INBOX. x',
      '_INBOX.\u00e9',
      `_INBOX.${'a'.repeat(300)}`,
      `_INBOX.${'a'.repeat(1 << 20)}`,
      '_INBOX.x\r\nPUB evil 1',
      // not a client inbox (tessera.reply_subject_prefixes: _INBOX.): another application's subject
      'payments.commands.approve',
      '_INBOXX.x',
    ];
    const before = warnings.length;
    // one signature with a wildcard reply subject, the rest as requests refused before authentication
    const good = signer.signRequest({ walletId: 'w-sync', keyType: 'ed25519', tx: randomBytes(9), txId: 'bad-reply' });
    await queue.publish(requestSubject('signing', 'bad-reply'), good, { headers: headers(cid, '_INBOX.*') });
    for (const [i, subject] of refused.entries()) {
      const forged = Buffer.from(JSON.stringify({ key_type: 'ed25519', wallet_id: 'w', tx_id: `f-${i}`, tx: 'AA==' }));
      await queue.publish(requestSubject('signing', `f-${i}`), forged, { headers: headers(cid, subject) });
    }
    await until(() => stream.length === refused.length + 1, 60_000);
    expect(JSON.parse(stream.find((g) => JSON.parse(g.data).tx_id === 'bad-reply')!.data).result_type).toBe('success');
    await new Promise((r) => setTimeout(r, 200));
    const answered = new Set(onBus.map((g) => g.data));
    expect(stream.filter((g) => answered.has(g.data))).toEqual([]);
    const logged = warnings.slice(before).filter((w) => w.header === REPLY_TO_HEADER);
    expect(logged.length).toBe(refused.length + 1);
    // a log line holds at most the start of a hostile value
    expect(logged.every((w) => String(w.value).length <= 80)).toBe(true);
    // the nodes still serve requests
    const again = signer.signRequest({ walletId: 'w-sync', keyType: 'ed25519', tx: randomBytes(9), txId: 'after' });
    await queue.publish(requestSubject('signing', 'after'), again, { headers: headers(cid, `_INBOX.${cid}`) });
    await until(() => repliesOn(`_INBOX.${cid}`).length === 1, 60_000);
  }, 90_000);

  it('a reshare request (core NATS) with Mpc-Reply-To gets its result on the reply subject too', async () => {
    const cid = `c${++clients}`;
    const stream = results('reshare', cid);
    const fields = {
      sessionId: 'rs-sync',
      nodeIds: cluster.nodeIds,
      newThreshold: 1,
      keyType: 'ed25519' as const,
      walletId: 'w-sync',
    };
    const data = Buffer.from(
      JSON.stringify({
        session_id: fields.sessionId,
        node_ids: fields.nodeIds,
        new_threshold: fields.newThreshold,
        key_type: fields.keyType,
        wallet_id: fields.walletId,
        signature: b64(edSign(null, resharingSignedBytes(fields), cluster.initiatorKey)),
      }),
    );
    bus.publish(RESHARE_REQUEST_SUBJECT, data, { headers: headers(cid, `_INBOX.${cid}`) });
    await until(() => stream.length === 1 && repliesOn(`_INBOX.${cid}`).length === 1, 120_000);
    expect(JSON.parse(stream[0]!.data).result_type, stream[0]!.data).toBe('success');
    expect(stream[0]!.subject).toBe(`mpc.mpc_reshare_result.${cid}.rs-sync`);
    expect(repliesOn(`_INBOX.${cid}`)[0]!.data).toBe(stream[0]!.data);
    expect(repliesOn(`_INBOX.${cid}`)[0]!.msgId).toBe(resultMessageId('reshare', 'rs-sync', cid));
  }, 120_000);

  it('the SDK with synchronousResults settles keygen, signing and reshare from the replies alone, errors before authentication too', async () => {
    const real = cluster.clientQueue();
    // a client whose result consumers never get anything: only the replies can settle its requests
    const deaf: WorkQueue = {
      ensureStream: (c) => real.ensureStream(c),
      publish: (subject, data, opts) => real.publish(subject, data, opts),
      consume: () => ({ stop() {} }),
      close: () => real.close(),
    };
    const buses: Bus[] = [];
    const sdk = (opts: Partial<ClientOptions>) => {
      const b = cluster.clientBus();
      buses.push(b);
      return MpcClient.create({
        workQueue: deaf,
        bus: b,
        initiator: localSigner(cluster.initiatorKey),
        resultTimeoutMs: 30_000,
        ...opts,
      });
    };
    try {
      const sync = await sdk({ clientId: 'sdk-sync', synchronousResults: true });
      const keys = await sync.createWallet('w-sdk-sync');
      expect(keys.eddsaPublicKey.length).toBe(32);
      const tx = randomBytes(20);
      const sig = await sync.sign({ walletId: 'w-sdk-sync', keyType: 'ed25519', tx });
      expect(verifySignOutcome(sig, keys.eddsaPublicKey, tx)).toBe(true);
      const rs = await sync.reshare({
        walletId: 'w-sdk-sync',
        keyType: 'ed25519',
        newThreshold: 1,
        nodeIds: cluster.nodeIds,
        sessionId: 'rs-sdk-sync',
      });
      expect(rs).toMatchObject({ sessionId: 'rs-sdk-sync', publicKey: keys.eddsaPublicKey });
      expect(sync.pendingRequests).toBe(0);
      // an error under the unauthenticated message id of the request's bytes (scoped by the client id) settles too
      const forger = await sdk({
        clientId: 'sdk-forger',
        synchronousResults: true,
        initiator: localSigner(generateKeyPairSync('ed25519').privateKey),
      });
      await expect(forger.sign({ walletId: 'w-sdk-sync', keyType: 'ed25519', tx })).rejects.toMatchObject({
        errorCode: 'ERROR_INVALID_INITIATOR_SIGNATURE',
      });
      // without it, the same deaf client hears nothing
      const plain = await sdk({ clientId: 'sdk-plain', resultTimeoutMs: 1500 });
      await expect(plain.sign({ walletId: 'w-sdk-sync', keyType: 'ed25519', tx })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
      for (const c of [sync, forger, plain]) await c.close();
      await expect(
        MpcClient.create({ workQueue: deaf, initiator: localSigner(cluster.initiatorKey), synchronousResults: true }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      for (const b of buses) await b.close();
      await real.close();
    }
  }, 120_000);

  it('ERROR_MAX_DELIVERY_ATTEMPTS goes to the subject scoped by the stored ClientID (svc-a, not svc-b), under its scoped message id, and to its Mpc-Reply-To', async () => {
    const a = results('signing', 'svc-a');
    const b = results('signing', 'svc-b');
    const unscoped = results('signing', '');
    // The transport's event after a request's last delivery (its headers arriving with it is the
    // conformance suite's test): the in-process cluster signs far within any ack wait, so the test
    // hands the event to the signing consumer's members itself, as the work queue would.
    const consumer = cluster.jetstream.streams.get(SIGNING_STREAM)!.consumers.get(SIGNING_CONSUMER)!;
    const listeners = consumer.members.map((m) => m.onMax).filter((f) => f !== undefined);
    expect(listeners.length).toBe(3);
    const data = signer.signRequest({ walletId: 'w-sync', keyType: 'secp256k1', tx: randomBytes(32), txId: 'tx-max' });
    const dropped: DroppedMessage = {
      subject: requestSubject('signing', 'tx-max'),
      seq: 1_000_000,
      data,
      headers: new Map(Object.entries(headers('svc-a', '_INBOX.svc-a'))),
    };
    listeners[0]!(dropped);
    await until(() => a.length === 1 && repliesOn('_INBOX.svc-a').length === 1);
    const max = a[0]!;
    expect(JSON.parse(max.data)).toMatchObject({
      result_type: 'error',
      error_code: 'ERROR_MAX_DELIVERY_ATTEMPTS',
      error_reason: 'Signing failed: maximum delivery attempts exceeded',
      is_timeout: true,
      tx_id: 'tx-max',
      wallet_id: 'w-sync',
    });
    expect(max.subject).toBe('mpc.mpc_signing_result.svc-a.complete');
    expect(max.msgId).toBe(unauthenticatedResultMessageId('signing', sha256hex(data), 'svc-a'));
    expect(repliesOn('_INBOX.svc-a')[0]).toEqual({ ...max, subject: '_INBOX.svc-a' });
    // the same bytes under another client id are another result (JetStream deduplicates across the stream)
    listeners[1]!({ ...dropped, headers: new Map([[CLIENT_ID_HEADER, 'svc-c']]) });
    const c = results('signing', 'svc-c');
    await until(() => c.length === 1);
    expect(c[0]!.data).toBe(max.data);
    // a hostile ClientID is no scope: the unscoped subject, no reply
    listeners[2]!({
      ...dropped,
      headers: new Map([
        [CLIENT_ID_HEADER, 'svc.a>'],
        [REPLY_TO_HEADER, '$JS.API.x'],
      ]),
    });
    await until(() => unscoped.length === 1);
    expect(unscoped[0]!.subject).toBe('mpc.mpc_signing_result.complete');
    expect(unscoped[0]!.msgId).toBe(unauthenticatedResultMessageId('signing', sha256hex(data)));
    await new Promise((r) => setTimeout(r, 200));
    expect(b).toEqual([]);
    expect(a.length).toBe(1);
    expect(onBus.filter((g) => g.data === max.data).map((g) => g.subject)).toEqual(['_INBOX.svc-a']);
  }, 90_000);
});
