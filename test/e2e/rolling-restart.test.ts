/**
 * A rolling restart of all three nodes under load (issue: "rolling restart of all nodes under
 * load"): while a client keeps a steady stream of signing requests of both curves going, each
 * node in turn gets SIGTERM, must exit 0 after a clean shutdown, is started again from its vault
 * and must be ready (peers 3/3 everywhere) before the next one goes. In a 2-of-3 cluster two nodes
 * are always up, so every request must end in a valid signature: zero failures. A real cluster:
 * nats-server -js and three `tessera start` processes, driven by the SDK over NATS.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MpcClient } from '../../src/client/index.js';
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

/** Requests the client keeps in flight. */
const IN_FLIGHT = 8;
/** The client's result timeout: a hang guard only. */
const HANG_GUARD_MS = 150_000;

/** The messages (pino `msg`) of a node process's log. */
const messages = (lines: readonly string[]) =>
  lines.flatMap((l) => {
    try {
      return [(JSON.parse(l) as { msg?: string }).msg ?? ''];
    } catch {
      return [];
    }
  });

describe('rolling restart of all three nodes under a steady stream of signing requests (2-of-3 over NATS)', () => {
  let cluster: NatsCluster;
  let client: MpcClient;
  let wallet: TestWallet;

  beforeAll(async () => {
    cluster = await NatsCluster.start({ nodes: 3, threshold: 1 });
    client = await cluster.client({ clientId: 'rolling', resultTimeoutMs: HANG_GUARD_MS });
    wallet = await client.createWallet(`w-${randomBytes(4).toString('hex')}`);
    await signVerified(client, wallet, 'secp256k1', 'warm-up');
    await signVerified(client, wallet, 'ed25519', 'warm-up');
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('every request sent while the nodes restart one at a time ends in a valid signature; each SIGTERM exits 0 after a clean shutdown and the node rejoins from its vault', async () => {
    const settled: { restart: number; s: Settled }[] = [];
    let restart = 0; // which restart was under way when a request was sent (for a failure's report)
    let running = true;
    let sent = 0;
    let inFlight = 0;
    const worker = async () => {
      while (running) {
        const keyType: KeyType = sent++ % 2 === 0 ? 'secp256k1' : 'ed25519';
        const at = restart;
        inFlight++;
        const s = await signAndSettle(client, wallet, keyType, txFor(keyType, `rolling ${sent}`));
        inFlight--;
        settled.push({ restart: at, s });
      }
    };
    const workers = Array.from({ length: IN_FLIGHT }, worker);

    const exits: (number | null)[] = [];
    const inFlightAtSigterm: number[] = [];
    for (let i = 0; i < 3; i++) {
      // a few requests go through before each restart
      const before = settled.length;
      while (settled.length < before + 2 * IN_FLIGHT) await new Promise((r) => setTimeout(r, 50));
      restart = i + 1;
      const stopped = cluster.procs[i]!;
      inFlightAtSigterm.push(inFlight);
      exits.push(await cluster.terminate(i));
      // a clean shutdown: the node stopped, the daemon closed everything, the process said so
      const said = messages(stopped.lines);
      expect(said, `${stopped.name}'s log`).toEqual(
        expect.arrayContaining(['node stopped', 'daemon stopped', 'shut down']),
      );
      expect(stopped.lines.filter((l) => /"level":(50|60|"error"|"fatal")/.test(l))).toEqual([]);
      cluster.startNode(i);
      await cluster.ready([0, 1, 2], 90_000, { allPeers: true });
    }
    // and some more once all three are back
    restart = 4;
    const after = settled.length;
    while (settled.length < after + 2 * IN_FLIGHT) await new Promise((r) => setTimeout(r, 50));
    running = false;
    await Promise.all(workers);

    expect(exits).toEqual([0, 0, 0]);
    const outcomes = settled.map((x) => x.s);
    const counts = tally(outcomes);
    console.log(`rolling restart: ${outcomes.length} requests`, counts);
    // the stream was going when each node was told to stop
    for (const n of inFlightAtSigterm) expect(n).toBeGreaterThan(0);
    // zero failures: every request a verified signature (no error result, no timeout)
    const failed = settled.filter((x) => x.s.kind !== 'signed' || !x.s.verified);
    expect(failed, JSON.stringify(counts)).toEqual([]);
  }, 600_000);
});
