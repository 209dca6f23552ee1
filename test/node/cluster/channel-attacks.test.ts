import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { localSigner, MpcClient } from '../../../src/client/index.js';
import type { Logger } from '../../../src/common/log.js';
import { LocalCluster } from '../../../src/node/index.js';
import type { BusMessage } from '../../../src/transport/index.js';

interface Line {
  node: string;
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function capture(lines: Line[]): (node: string) => Logger {
  return (node) => {
    const at = (level: string) => (fields: Readonly<Record<string, unknown>>, msg: string) =>
      lines.push({ node, level, msg, fields: { ...fields } });
    return { debug: () => {}, info: () => {}, warn: at('warn'), error: at('error') };
  };
}

/**
 * Starts a cluster and a spy on the node-to-node bus that, for the first protocol frame of a
 * signing session it sees, publishes a forged copy (`forge`) to the same node right after it.
 */
async function attack(forge: (frame: Uint8Array) => Uint8Array) {
  const lines: Line[] = [];
  const cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log: capture(lines) });
  const client = await MpcClient.create({
    workQueue: cluster.clientQueue(),
    initiator: localSigner(cluster.initiatorKey),
  });
  await client.createWallet('w-attack');
  const spy = cluster.broker.bus();
  let done = false;
  spy.subscribe('tessera.node.*.msg', (m: BusMessage) => {
    if (done || !Buffer.from(m.data).includes(Buffer.from('/sign'))) return;
    done = true;
    spy.publish(m.subject, forge(m.data));
  });
  const out = await client.sign({ walletId: 'w-attack', keyType: 'secp256k1', tx: randomBytes(32) }).then(
    () => 'success',
    (e: Error) => e.message,
  );
  await client.close();
  return { cluster, lines, out, spy };
}

describe('channel attacks against a running cluster', () => {
  let cluster: LocalCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  for (const [name, forge] of [
    ['a replayed frame', (f: Uint8Array) => Uint8Array.from(f)],
    [
      'a frame with one ciphertext byte flipped',
      (f: Uint8Array) => {
        const g = Uint8Array.from(f);
        g[g.length - 20]! ^= 1;
        return g;
      },
    ],
  ] as const) {
    it(`${name} is refused and does not end the session it names (anyone on the bus could send it): the first attempt signs`, async () => {
      const r = await attack(forge);
      cluster = r.cluster;
      const refused = r.lines.filter((l) => l.msg === 'refused a channel message');
      expect(refused.length).toBeGreaterThan(0);
      expect(cluster.nodeIds).toContain(refused[0]!.fields.peer as string);
      expect(r.lines.filter((l) => l.msg === 'session ended without a result')).toEqual([]);
      expect(r.lines.filter((l) => l.msg === 'signing attempt failed')).toEqual([]);
      expect(r.out).toBe('success');
    }, 120_000);
  }
});
