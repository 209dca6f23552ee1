/**
 * mpcium PR #106's protocol fields through an in-process cluster: the protocols Tessera runs are
 * accepted by the coordinator and by every member (they re-parse the request bytes); any other is
 * refused before authentication, under the unauthenticated message id of the request bytes — so a
 * replay of someone's signed request with a protocol added fails only itself.
 */
import { createHash, sign as edSign, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ID_HEADER,
  generateKeySignedBytes,
  type Operation,
  RESULT_STREAM,
  requestSubject,
  resultConsumer,
  resultMessageId,
  unauthenticatedResultMessageId,
} from '../../../src/api/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import type { WorkQueue } from '../../../src/transport/index.js';
import { ClusterClient } from '../../helpers/cluster-client.js';
import { testLog } from '../../helpers/test-log.js';
import { until } from '../../transport/conformance.js';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
type Result = Record<string, unknown> & { readonly msgId?: string; readonly subject: string };

describe('protocol fields through the cluster', () => {
  let cluster: LocalCluster;
  let signer: ClusterClient;
  let queue: WorkQueue;
  const stops: { stop(): void }[] = [];

  const results = (op: Operation, clientId: string): Result[] => {
    const got: Result[] = [];
    const { durable, filter } = resultConsumer(op, clientId);
    stops.push(
      queue.consume(
        { stream: RESULT_STREAM, durable, filter, maxDeliver: 3, ackWaitMs: 30_000, maxAckPending: 1000 },
        (m) => {
          got.push({
            ...JSON.parse(Buffer.from(m.data).toString('utf8')),
            msgId: m.headers.get('Nats-Msg-Id'),
            subject: m.subject,
          });
          m.ack();
        },
      ),
    );
    return got;
  };
  /** A request's JSON with `extra` fields appended (after the signed ones, as a newer Go client would send them). */
  const withFields = (data: Uint8Array, extra: Record<string, unknown>) =>
    Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(data).toString('utf8')), ...extra }));
  const keygenRequest = (walletId: string, extra: Record<string, unknown> = {}) =>
    Buffer.from(
      JSON.stringify({
        wallet_id: walletId,
        signature: b64(edSign(null, generateKeySignedBytes({ walletId }), cluster.initiatorKey)),
        ...extra,
      }),
    );

  beforeAll(async () => {
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log: testLog });
    signer = new ClusterClient(cluster);
    queue = cluster.clientQueue();
  }, 120_000);

  afterAll(async () => {
    for (const s of stops) s.stop();
    await queue?.close();
    await cluster?.stop();
  });

  it('keygen: ecdsa_protocol dkls23 and eddsa_protocol frost create the wallet; gg18 gets ERROR_MSG_VALIDATION under the unauthenticated id', async () => {
    const got = results('keygen', 'kg');
    const headers = { [CLIENT_ID_HEADER]: 'kg' };
    const refused = keygenRequest('w-proto', { ecdsa_protocol: 'gg18' });
    await queue.publish(requestSubject('keygen', 'w-proto'), refused, { headers });
    await until(() => got.length === 1, 30_000);
    expect(got[0]).toMatchObject({ wallet_id: 'w-proto', result_type: 'error', error_code: 'ERROR_MSG_VALIDATION' });
    expect(got[0]!.error_reason).toMatch(/ecdsa_protocol: Tessera does not run "gg18"/);
    expect(got[0]!.msgId).toBe(unauthenticatedResultMessageId('keygen', sha256hex(refused), 'kg'));
    for (let i = 0; i < 3; i++) expect(() => cluster.vault(i).getWallet('ecdsa', 'w-proto')).toThrow();

    const ok = keygenRequest('w-proto', { ecdsa_protocol: 'dkls23', eddsa_protocol: 'frost' });
    await queue.publish(requestSubject('keygen', 'w-proto'), ok, { headers });
    await until(() => got.length === 2, 60_000);
    expect(got[1]).toMatchObject({ wallet_id: 'w-proto', result_type: 'success' });
    expect(got[1]!.msgId).toBe(resultMessageId('keygen', 'w-proto', 'kg'));
  }, 90_000);

  it("signing: the protocol of the key type signs on every member; another is refused, and a replay of someone's signed request with a protocol added does not fail it", async () => {
    const victim = results('signing', 'svc');
    const headers = { [CLIENT_ID_HEADER]: 'svc' };
    // accepted: dkls23 for secp256k1, FROST (any case) for ed25519
    for (const [keyType, protocol, txId] of [
      ['secp256k1', 'dkls23', 'p-ecdsa'],
      ['ed25519', 'FROST', 'p-eddsa'],
    ] as const) {
      const tx = keyType === 'secp256k1' ? randomBytes(32) : randomBytes(40);
      const data = withFields(signer.signRequest({ walletId: 'w-proto', keyType, tx, txId }), { protocol });
      await queue.publish(requestSubject('signing', txId), data, { headers });
    }
    await until(() => victim.length === 2, 60_000);
    expect(victim.map((r) => [r.tx_id, r.result_type, r.error_reason])).toEqual(
      expect.arrayContaining([
        ['p-ecdsa', 'success', ''],
        ['p-eddsa', 'success', ''],
      ]),
    );

    // someone copies a signed request and adds a protocol (not signed): its error takes no id of the victim's
    const signed = signer.signRequest({ walletId: 'w-proto', keyType: 'secp256k1', tx: randomBytes(32), txId: 'v-1' });
    for (const protocol of ['cggmp21', 'frost', 'taproot']) {
      const replay = withFields(signed, { protocol });
      await queue.publish(requestSubject('signing', 'v-1'), replay, { headers });
      await until(() =>
        victim.some((r) => r.msgId === unauthenticatedResultMessageId('signing', sha256hex(replay), 'svc')),
      );
    }
    const errors = victim.filter((r) => r.tx_id === 'v-1');
    expect(errors.map((r) => r.error_code)).toEqual([
      'ERROR_MSG_VALIDATION',
      'ERROR_MSG_VALIDATION',
      'ERROR_MSG_VALIDATION',
    ]);
    expect(errors[1]!.error_reason).toMatch(/protocol: "frost" is the protocol of key type ed25519, not secp256k1/);
    expect(errors.every((r) => String(r.msgId).startsWith(unauthenticatedResultMessageId('signing', '')))).toBe(true);
    // the victim's own request still signs, under the operation's id (no tx id was claimed by the refusals)
    await queue.publish(requestSubject('signing', 'v-1'), signed, { headers });
    await until(() => victim.some((r) => r.tx_id === 'v-1' && r.result_type === 'success'), 60_000);
    expect(victim.find((r) => r.tx_id === 'v-1' && r.result_type === 'success')!.msgId).toBe(
      resultMessageId('signing', 'v-1', 'svc'),
    );
  }, 120_000);
});
