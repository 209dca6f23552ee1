/**
 * A signing request that is delivered `MaxDeliver` (4) times without an answer gets mpcium's
 * ERROR_MAX_DELIVERY_ATTEMPTS result on the result subject of its client id, as mpcium publishes
 * it — a client with a client id consumes only its own subject and would otherwise wait forever.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { localSigner, MpcClient, OperationFailedError } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import type { NodeContext } from '../../../src/node/operations/context.js';
import { signRequestDigest } from '../../../src/node/operations/request-ledger.js';

describe('a signing request nobody answers', () => {
  let cluster: LocalCluster | undefined;
  let client: MpcClient | undefined;
  afterEach(async () => {
    await client?.close();
    await cluster?.stop();
    cluster = client = undefined;
  });

  it('gets ERROR_MAX_DELIVERY_ATTEMPTS (is_timeout) on its client id after the fourth delivery', async () => {
    // an in-flight duplicate is nak'ed for signing_seconds
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      config: { tessera: { timeouts: { signing_seconds: 1 } } },
    });
    client = await MpcClient.create({
      workQueue: cluster.clientQueue(),
      bus: cluster.clientBus(),
      initiator: localSigner(cluster.initiatorKey),
      clientId: 'svc-a',
      resultTimeoutMs: 60_000,
    });
    const wallet = await client.createWallet('w-max');
    const tx = randomBytes(32);
    const txId = 'tx-never';
    const digest = signRequestDigest({
      keyType: 'ed25519',
      walletId: wallet.walletId,
      networkInternalCode: '',
      txId,
      tx,
      derivationPath: null,
    });
    // every node holds the request in flight (a session that never ends): each delivery is nak'ed
    for (const n of cluster.nodes)
      (n as unknown as { ctx: NodeContext }).ctx.ledger.claim(wallet.walletId, txId, digest, 'never-ends');
    const err = await client.sign({ walletId: wallet.walletId, keyType: 'ed25519', tx, txId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationFailedError);
    expect((err as OperationFailedError).errorCode).toBe('ERROR_MAX_DELIVERY_ATTEMPTS');
    expect((err as OperationFailedError).isTimeout).toBe(true);
  }, 90_000);
});
