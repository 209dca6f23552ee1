/**
 * A node killed with SIGKILL while signing requests of both curves are in flight (issue: "kill -9
 * a node mid-sign: the request completes from the others or gets a clear error result; nothing
 * hangs"), then the survivors alone, then the killed node restarted from its vault. A real
 * cluster: nats-server -js and three `tessera start` processes (2-of-3), driven by the SDK over
 * NATS; every signature verified with noble.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MpcClient } from '../../src/client/index.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import {
  clearErrorCode,
  type KeyType,
  type Settled,
  signAndSettle,
  signVerified,
  type TestWallet,
  tally,
  txFor,
} from '../helpers/signing.js';

/** The node that is killed. */
const VICTIM = 1;
/** Requests of each curve in flight when it dies. */
const PER_CURVE = 40;
/**
 * The client's result timeout: a hang guard only. A request whose coordinator died is delivered
 * again after JetStream's ack wait (30 s); one whose co-signer died is retried by its coordinator
 * after the signing timeout (30 s); both then finish in well under a second.
 */
const HANG_GUARD_MS = 150_000;

describe('kill -9 of a node while signing requests are in flight (2-of-3 over NATS)', () => {
  let cluster: NatsCluster;
  let client: MpcClient;
  let wallet: TestWallet;

  beforeAll(async () => {
    cluster = await NatsCluster.start({ nodes: 3, threshold: 1 });
    client = await cluster.client({ clientId: 'faults', resultTimeoutMs: HANG_GUARD_MS });
    wallet = await client.createWallet(`w-${randomBytes(4).toString('hex')}`);
    // every pair of nodes has signed on both curves before the fault
    for (let i = 0; i < 3; i++) {
      await signVerified(client, wallet, 'secp256k1', `warm-up ${i}`);
      await signVerified(client, wallet, 'ed25519', `warm-up ${i}`);
    }
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('every request in flight when a node is killed settles with a verified signature or an error result with a clear mpcium code, never a client timeout', async () => {
    let killedAt = -1;
    let settledCount = 0;
    let settledAfterKill = 0;
    let kill: Promise<void> | undefined;
    const requests: Promise<Settled>[] = [];
    for (let i = 0; i < PER_CURVE; i++)
      for (const keyType of ['secp256k1', 'ed25519'] as KeyType[]) {
        const p = signAndSettle(client, wallet, keyType, txFor(keyType, `in flight ${i}`)).then((s) => {
          settledCount++;
          if (killedAt >= 0) settledAfterKill++;
          // kill once a few requests are through: the rest are in the nodes' hands or queued
          if (settledCount === 8 && kill === undefined) {
            killedAt = settledCount;
            kill = cluster.kill(VICTIM);
          }
          return s;
        });
        requests.push(p);
      }
    const settled = await Promise.all(requests);
    await kill;
    expect(killedAt, 'the node was killed while requests were in flight').toBeGreaterThan(0);
    expect(settledAfterKill, 'requests settled after the kill').toBeGreaterThan(0);
    const counts = tally(settled);
    // never a client timeout, a publish failure or anything else than a result
    expect(
      settled.filter((s) => s.kind === 'other'),
      JSON.stringify(counts),
    ).toEqual([]);
    // every signature verifies; every error carries one of mpcium's codes
    expect(
      settled.filter((s) => s.kind === 'signed' && !s.verified),
      JSON.stringify(counts),
    ).toEqual([]);
    for (const s of settled)
      if (s.kind === 'error-result') expect(clearErrorCode(s.code), `${s.code}: ${s.reason}`).toBe(true);
    console.log('kill -9 mid-sign:', counts);
  }, 240_000);

  it('after the kill, the two survivors sign on both curves', async () => {
    for (let i = 0; i < 3; i++) {
      await signVerified(client, wallet, 'secp256k1', `survivors ${i}`);
      await signVerified(client, wallet, 'ed25519', `survivors ${i}`);
    }
  }, 120_000);

  it('the killed node restarted from its vault rejoins: every node ready with peers 3/3', async () => {
    cluster.startNode(VICTIM);
    await cluster.ready([0, 1, 2], 60_000, { allPeers: true });
    for (let i = 0; i < 3; i++) {
      const r = await cluster.readyz(i);
      expect(r?.ready).toBe(true);
      expect(r?.details.peers_ready_count).toBe('3/3');
      expect(r?.details.nats_connected).toBe(true);
    }
  }, 90_000);

  it('the restarted node signs again: with another node stopped, it and the last one sign on both curves', async () => {
    const other = (VICTIM + 1) % 3;
    expect(await cluster.terminate(other)).toBe(0);
    await cluster.ready([0, 1, 2].filter((i) => i !== other));
    // only two nodes run and t+1 = 2 sign: the restarted node is a signer of every request
    for (let i = 0; i < 3; i++) {
      await signVerified(client, wallet, 'secp256k1', `restarted ${i}`);
      await signVerified(client, wallet, 'ed25519', `restarted ${i}`);
    }
    cluster.startNode(other);
    await cluster.ready([0, 1, 2], 60_000, { allPeers: true });
  }, 180_000);
});
