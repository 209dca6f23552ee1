/**
 * A graceful stop of a node while signing requests of both curves are in flight: the node leaves
 * the cluster first (peers stop choosing it), keeps routing the messages of the sessions under
 * way until they finish, and answers a start that chose it just before it left with "stopping" —
 * so no session has to wait for its timeout, and every request is signed.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { localSigner, MpcClient, verifySignOutcome } from '../../../src/client/index.js';
import type { Logger } from '../../../src/common/log.js';
import { LocalCluster } from '../../../src/node/index.js';
import { type NodeMetrics, noMetrics } from '../../../src/node/metrics.js';

describe('a graceful stop under load', () => {
  let cluster: LocalCluster | undefined;
  let client: MpcClient | undefined;
  afterEach(async () => {
    await client?.close();
    await cluster?.stop();
    cluster = client = undefined;
  });

  it('the sessions under way finish, no session waits for its timeout, every request in flight is signed', async () => {
    const warnings: string[] = [];
    const log = (node: string): Logger => ({
      debug: () => {},
      info: () => {},
      warn: (f, m) => void warnings.push(`${node} ${m} ${JSON.stringify(f)}`),
      error: (f, m) => void warnings.push(`${node} ERROR ${m} ${JSON.stringify(f)}`),
    });
    // node 1 is stopped while it has a signing session under way (a few into the run)
    let stop: Promise<void> | undefined;
    let armed = false;
    let started = 0;
    const active = { coordinator: 0, member: 0 };
    const metrics = (node: string): NodeMetrics => ({
      ...noMetrics,
      sessionStarted: (op, role) => {
        if (node !== 'node1' || op !== 'sign') return;
        active[role as 'coordinator' | 'member']++;
        if (armed && ++started >= 6 && stop === undefined) stop = cluster!.stopNode(1);
      },
      sessionEnded: (op, role) => {
        if (node === 'node1' && op === 'sign') active[role as 'coordinator' | 'member']--;
      },
    });
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log, metrics });
    client = await MpcClient.create({
      workQueue: cluster.clientQueue(),
      bus: cluster.clientBus(),
      initiator: localSigner(cluster.initiatorKey),
      resultTimeoutMs: 120_000,
    });
    const wallet = await client.createWallet('w-stop');
    armed = true;
    const requests = Array.from({ length: 60 }, (_, i) => {
      const keyType = i % 2 === 0 ? ('secp256k1' as const) : ('ed25519' as const);
      const tx = randomBytes(32);
      return client!.sign({ walletId: wallet.walletId, keyType, tx }).then((o) => {
        const key = keyType === 'secp256k1' ? wallet.ecdsaPublicKey : wallet.eddsaPublicKey;
        return verifySignOutcome(o, key, tx);
      });
    });
    const verified = await Promise.all(requests);
    await stop;
    expect(stop).toBeDefined();
    expect(verified.every(Boolean)).toBe(true);
    const stalled = warnings.filter((w) => /timed out|got no answer|stop bound ran out/.test(w));
    expect(stalled, stalled.join('\n')).toEqual([]);
  }, 120_000);
});
