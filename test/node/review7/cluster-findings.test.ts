/**
 * Review 2 (node layer) — cluster reproductions on the embedded cluster. Each test states the
 * property that SHOULD hold and fails on the code as reviewed.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSignTxRequest, RESHARE_REQUEST_SUBJECT } from '../../../src/api/index.js';
import { encodeDataFrame, encodeDataHeader } from '../../../src/node/channels/wire.js';
import { LocalCluster } from '../../../src/node/index.js';
import type { NodeContext } from '../../../src/node/operations/context.js';
import { signRequestDigest } from '../../../src/node/operations/request-ledger.js';
import type { SessionRouter } from '../../../src/node/sessions/router.js';
import type { BusMessage } from '../../../src/transport/index.js';
import { ClusterClient } from '../../helpers/cluster-client.js';

describe('review 7: outsiders, replays and redeliveries against a running cluster', () => {
  let cluster: LocalCluster | undefined;
  let client: ClusterClient | undefined;
  afterEach(async () => {
    client?.stop();
    await cluster?.stop();
    cluster = client = undefined;
  });

  it("F-reject: a bus writer without any key cannot end a node's open session or make it blame a member", async () => {
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1 });
    const ids = cluster.nodeIds;
    // an open session on node 0 (as a PartyRunner registers it), watching for failures
    const router = (cluster.nodes[0] as unknown as { router: SessionRouter }).router;
    const failures: { reason: string; blame: readonly string[] }[] = [];
    router.register(
      'victim-session/sign',
      () => {},
      (reason, blame) => failures.push({ reason, blame }),
    );
    // an outsider on the bus: no identity key, no channel key; session ids travel in clear headers
    const outsider = cluster.broker.bus();
    const aad = encodeDataHeader({
      channelId: randomBytes(16),
      from: ids[1]!,
      to: ids[0]!,
      sessionId: 'victim-session/sign',
      kind: 1,
      round: 0,
      mode: 0,
      seq: 0,
      counter: 1,
    });
    outsider.publish(`tessera.node.${ids[0]}.msg`, encodeDataFrame(aad, new Uint8Array(16)));
    await new Promise((r) => setTimeout(r, 200));
    // should hold: the forged frame is dropped, the session lives on, no honest member blamed
    expect(failures).toEqual([]);
  }, 60_000);

  it('F-reshare-replay: a captured reshare request replayed later does not change the committee again', async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      config: { tessera: { timeouts: { reshare_seconds: 10 } } },
    });
    client = await new ClusterClient(cluster).start();
    expect((await client.keygen('w-r')).result_type).toBe('success');
    const ids = cluster.nodeIds;
    const spy = cluster.broker.bus();
    const captured: Uint8Array[] = [];
    spy.subscribe(RESHARE_REQUEST_SUBJECT, (m: BusMessage) => void captured.push(Uint8Array.from(m.data)));
    // 1. the client expels node 2, 2. later takes it back
    const a = await client.reshare({
      walletId: 'w-r',
      keyType: 'ed25519',
      nodeIds: [ids[0]!, ids[1]!],
      newThreshold: 1,
      sessionId: 'rs-1',
    });
    expect(a.result_type, a.error_reason).toBe('success');
    const b = await client.reshare({
      walletId: 'w-r',
      keyType: 'ed25519',
      nodeIds: ids,
      newThreshold: 1,
      sessionId: 'rs-2',
    });
    expect(b.result_type, b.error_reason).toBe('success');
    expect(cluster.vault(2).getWallet('eddsa', 'w-r').currentVersion).toBe(3);
    // 3. anyone who saw request 1 on the bus replays it
    spy.publish(RESHARE_REQUEST_SUBJECT, captured[0]!);
    await new Promise((r) => setTimeout(r, 8000));
    // node 2's share must still be active (the replay must be refused)
    expect(cluster.vault(2).getWallet('eddsa', 'w-r').currentVersion).toBe(3);
  }, 180_000);

  it('F-inflight-ack: a sign request redelivered while its tx id is held in flight is not acked without a result', async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      config: { tessera: { timeouts: { signing_seconds: 2 } } },
    });
    client = await new ClusterClient(cluster).start();
    expect((await client.keygen('w-c')).result_type).toBe('success');
    const data = client.signRequest({ walletId: 'w-c', keyType: 'ed25519', tx: randomBytes(40), txId: 'tx-c' });
    const req = parseSignTxRequest(data);
    // State every surviving node is in after the coordinator of session 'dead' crashed mid-session
    // (they joined it and hold the tx id in flight until their 2 x signing timeout runs out).
    const ledgers = cluster.nodes.map((n) => (n as unknown as { ctx: NodeContext }).ctx.ledger);
    for (const l of ledgers) l.claim('w-c', 'tx-c', signRequestDigest(req), 'dead');
    // JetStream redelivers the request (the dead coordinator never acked it)
    await client.publishSign('tx-c', data);
    await new Promise((r) => setTimeout(r, 1500));
    // the members' wait for the dead coordinator's result ends: their claims go
    for (const l of ledgers) l.release('w-c', 'tx-c', 'dead');
    // should hold: the client still gets a result (the redelivered request must not have been acked without one)
    const r = await client.waitSign('tx-c', 15_000);
    expect(r.result_type, r.error_reason).toBe('success');
  }, 120_000);
});
