/**
 * nats-server restarted while signing requests are in flight (issue: "restart nats-server mid-run:
 * nodes reconnect, no accepted request is lost"): a clean restart (SIGTERM) and a crash (SIGKILL),
 * each on the same port and JetStream store. A request counts as accepted once JetStream
 * acknowledged its publish (the client's work queue is watched for that); every accepted request
 * must be answered with a valid signature after the server is back. A real cluster: nats-server
 * -js and three `tessera start` processes (2-of-3), driven by the SDK over NATS.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MpcClient } from '../../src/client/index.js';
import type { WorkQueue } from '../../src/transport/index.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import {
  type KeyType,
  type Settled,
  signAndSettle,
  signVerified,
  type TestWallet,
  tally,
  txFor,
} from '../helpers/signing.js';

/**
 * The client's result timeout: a hang guard only. A session cut by the outage times out after
 * `signing_seconds` (15 s here) and is retried; a result whose publish failed is answered again
 * from the ledger when JetStream redelivers the request (30 s ack wait).
 */
const HANG_GUARD_MS = 150_000;

interface Tracked {
  readonly txId: string;
  readonly phase: 'before' | 'while down' | 'after';
  readonly settled: Promise<Settled>;
}

describe('nats-server restarted mid-run (2-of-3 over NATS)', () => {
  let cluster: NatsCluster;
  let client: MpcClient;
  let wallet: TestWallet;
  /** Request subjects whose publish JetStream acknowledged. */
  const accepted = new Set<string>();

  beforeAll(async () => {
    // sessions cut by the outage end at the signing timeout and are retried: 15 s instead of 30 s
    // keeps the file short (a real signing session here takes well under a second)
    cluster = await NatsCluster.start({
      nodes: 3,
      threshold: 1,
      config: { tessera: { timeouts: { signing_seconds: 15 } } },
    });
    client = await cluster.client({
      clientId: 'restart',
      resultTimeoutMs: HANG_GUARD_MS,
      wrapWorkQueue: (q: WorkQueue): WorkQueue => ({
        ensureStream: (c) => q.ensureStream(c),
        publish: async (subject, data, o) => {
          const r = await q.publish(subject, data, o);
          accepted.add(subject);
          return r;
        },
        consume: (c, h, o) => q.consume(c, h, o),
        close: () => q.close(),
      }),
    });
    wallet = await client.createWallet(`w-${randomBytes(4).toString('hex')}`);
    await signVerified(client, wallet, 'secp256k1', 'warm-up');
    await signVerified(client, wallet, 'ed25519', 'warm-up');
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  const send = (phase: Tracked['phase'], n: number, out: Tracked[]) => {
    for (let i = 0; i < n; i++)
      for (const keyType of ['secp256k1', 'ed25519'] as KeyType[]) {
        const txId = `${phase.replace(' ', '-')}-${keyType}-${i}-${randomBytes(4).toString('hex')}`;
        out.push({ txId, phase, settled: signAndSettle(client, wallet, keyType, txFor(keyType, txId), txId) });
      }
  };

  /** Waits until every node's /readyz answers and `ok` holds for its report (a hang guard bounds it). */
  const untilEveryNode = async (ok: (r: { ready: boolean; details: Record<string, unknown> }) => boolean) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rs = await Promise.all([0, 1, 2].map((i) => cluster.readyz(i)));
      if (rs.every((r) => r !== undefined && ok(r))) return rs as NonNullable<(typeof rs)[number]>[];
      if (Date.now() > deadline) throw new Error(`nodes never reported it: ${JSON.stringify(rs)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal} to nats-server mid-run: no request JetStream acknowledged is lost (a valid signature, or a session-timeout result where the outage cut its session), every request after the restart is signed; /readyz says NATS is down meanwhile and is ready again after`, async () => {
      const requests: Tracked[] = [];
      send('before', 15, requests);
      // every request of the first batch is in the stream before the server goes (most not answered yet)
      const deadline = Date.now() + 60_000;
      while (!requests.every((r) => accepted.has(`mpc.signing_request.${r.txId}`))) {
        if (Date.now() > deadline) throw new Error('the first batch was never acknowledged');
        await new Promise((r) => setTimeout(r, 10));
      }
      await cluster.server.halt(signal);
      // the nodes notice: not ready, NATS not connected
      const down = await untilEveryNode((r) => r.details.nats_connected === false);
      for (const r of down) expect(r.ready).toBe(false);
      send('while down', 5, requests);
      await cluster.server.restart();
      await cluster.ready([0, 1, 2], 90_000, { allPeers: true });
      const up = await untilEveryNode((r) => r.ready && r.details.nats_connected === true);
      for (const r of up) expect(r.details.peers_ready_count).toBe('3/3');
      // JetStream may need a moment after the connection is back (recovering its store): a client
      // whose publish fails sends again, as a real one would — until one request is accepted
      for (let attempt = 0; ; attempt++) {
        const s = await signAndSettle(client, wallet, 'ed25519', txFor('ed25519', `probe ${attempt}`));
        if (s.kind === 'signed') {
          expect(s.verified).toBe(true);
          if (attempt > 0) console.log(`JetStream accepted again after ${attempt} failed publishes`);
          break;
        }
        expect(s.kind === 'other' && !s.resultTimeout, JSON.stringify(s)).toBe(true);
        if (attempt >= 20) throw new Error(`JetStream never accepted a request again: ${JSON.stringify(s)}`);
      }
      send('after', 10, requests);

      const settled = await Promise.all(requests.map((r) => r.settled));
      const isAccepted = (r: Tracked) => accepted.has(`mpc.signing_request.${r.txId}`);
      const acceptedOutcomes = requests.flatMap((r, i) => (isAccepted(r) ? [settled[i]!] : []));
      const refused = requests.flatMap((r, i) => (isAccepted(r) ? [] : [{ phase: r.phase, s: settled[i]! }]));
      console.log(`nats-server ${signal}: accepted`, tally(acceptedOutcomes), `not accepted: ${refused.length}`, [
        ...new Set(refused.map((r) => (r.s.kind === 'other' ? r.s.error : r.s.kind))),
      ]);
      // the batches before and after the restart were all accepted
      expect(requests.filter((r) => r.phase !== 'while down' && !isAccepted(r))).toEqual([]);
      // no accepted request is lost: each gets a valid signature or an error result (a session whose
      // messages died with the broker times out, and its one retry may meet the outage too) — never
      // a client timeout, never a signature that does not verify
      expect(
        acceptedOutcomes.filter(
          (s) => (s.kind === 'signed' && !s.verified) || (s.kind !== 'signed' && s.kind !== 'error-result'),
        ),
        JSON.stringify(tally(acceptedOutcomes)),
      ).toEqual([]);
      // the errors are the outage's: sessions cut short
      for (const s of acceptedOutcomes)
        if (s.kind === 'error-result')
          expect(s.code, JSON.stringify(s)).toMatch(/ERROR_SESSION_TIMEOUT|ERROR_NETWORK_TIMEOUT/);
      // once the server is back, every request is signed
      expect(
        requests.flatMap((r, i) =>
          r.phase === 'after' && (settled[i]!.kind !== 'signed' || !(settled[i] as { verified?: boolean }).verified)
            ? [settled[i]]
            : [],
        ),
      ).toEqual([]);
      // a request the server never acknowledged failed at its publish (the caller knows it was not
      // accepted), without waiting for a result
      for (const r of refused) {
        expect(r.phase).toBe('while down');
        expect(r.s.kind === 'other' && !r.s.resultTimeout, JSON.stringify(r.s)).toBe(true);
      }
    }, 300_000);
  }
});
