/**
 * A signing request delivered to two coordinators at once (JetStream's delivery is at least once:
 * an ack or a consumer's state lost in a NATS outage redelivers a request another node still
 * signs). A signer that holds the identical request in flight for the other session tells the
 * coordinator so; the coordinator retries without it, and when the retry meets the same, it
 * publishes nothing and asks again later (as for its own in-flight claim) — never an error result
 * for a request that is being signed, and no single member can stall a request.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSignTxRequest } from '../../../src/api/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import type { NodeContext } from '../../../src/node/operations/context.js';
import { signRequestDigest } from '../../../src/node/operations/request-ledger.js';
import type { RequestHandler } from '../../../src/node/requests/handle.js';
import { ClusterClient } from '../../helpers/cluster-client.js';

describe('a signing request in flight at two coordinators', () => {
  let cluster: LocalCluster | undefined;
  let client: ClusterClient | undefined;
  afterEach(async () => {
    client?.stop();
    await cluster?.stop();
    cluster = client = undefined;
  });

  it('a coordinator whose signers hold the identical request in flight for another session publishes no error; the client gets the signature', async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      config: { tessera: { timeouts: { signing_seconds: 2 } } },
    });
    client = await new ClusterClient(cluster).start();
    expect((await client.keygen('w-d')).result_type).toBe('success');
    // only node 1 takes requests from the stream; nodes 0 and 2 still sign
    const internals = (i: number) => cluster!.nodes[i] as unknown as { ctx: NodeContext; requests: RequestHandler };
    await internals(0).requests.stop();
    await internals(2).requests.stop();
    for (const keyType of ['ed25519', 'secp256k1'] as const) {
      const txId = `tx-d-${keyType}`;
      const tx = randomBytes(32);
      const data = client.signRequest({ walletId: 'w-d', keyType, tx, txId });
      const digest = signRequestDigest(parseSignTxRequest(data));
      // nodes 0 and 2 coordinate the same request already (another delivery of it): every signer
      // set node 1 can pick holds one of them
      internals(0).ctx.ledger.claim('w-d', txId, digest, 'elsewhere-0');
      internals(2).ctx.ledger.claim('w-d', txId, digest, 'elsewhere-2');
      await client.publishSign(txId, data);
      await new Promise((r) => setTimeout(r, 1500));
      // those sessions end without a result (their coordinators would answer or be redelivered)
      internals(0).ctx.ledger.release('w-d', txId, 'elsewhere-0');
      internals(2).ctx.ledger.release('w-d', txId, 'elsewhere-2');
      const r = await client.waitSign(txId, 30_000);
      expect(r.result_type, r.error_reason).toBe('success');
      expect(client.seen('signing').filter((x) => x.tx_id === txId && x.result_type !== 'success')).toEqual([]);
    }
  }, 120_000);

  it('a member that says it holds the request in flight elsewhere is left out of the retry: the others sign (one member cannot stall a request)', async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      config: { tessera: { timeouts: { signing_seconds: 2 } } },
    });
    client = await new ClusterClient(cluster).start();
    expect((await client.keygen('w-e')).result_type).toBe('success');
    const internals = (i: number) => cluster!.nodes[i] as unknown as { ctx: NodeContext; requests: RequestHandler };
    await internals(0).requests.stop();
    await internals(2).requests.stop();
    for (let i = 0; i < 6; i++) {
      const keyType = i % 2 === 0 ? ('ed25519' as const) : ('secp256k1' as const);
      const txId = `tx-e-${i}`;
      const data = client.signRequest({ walletId: 'w-e', keyType, tx: randomBytes(32), txId });
      // node 0 claims to sign it elsewhere, for good; node 1 coordinates, node 2 is free
      internals(0).ctx.ledger.claim('w-e', txId, signRequestDigest(parseSignTxRequest(data)), 'forever');
      await client.publishSign(txId, data);
      const r = await client.waitSign(txId, 30_000);
      expect(r.result_type, r.error_reason).toBe('success');
    }
  }, 120_000);
});
