import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { compressSecp256k1PublicKey, localSigner, MpcClient, verifySignOutcome } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import { kill9, startChild } from '../../helpers/child.js';
import { testLog } from '../../helpers/test-log.js';
import { tempDir } from '../../helpers/vault.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'cluster-child.mjs');
const unhex = (s: unknown) => Uint8Array.from(Buffer.from(s as string, 'hex'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withClient<T>(cluster: LocalCluster, f: (c: MpcClient) => Promise<T>): Promise<T> {
  const c = await MpcClient.create({
    workQueue: cluster.clientQueue(),
    bus: cluster.clientBus(),
    initiator: localSigner(cluster.initiatorKey),
    resultTimeoutMs: 60_000,
  });
  try {
    return await f(c);
  } finally {
    await c.close();
  }
}

describe('kill -9 of the cluster process', () => {
  it('in the middle of signing and resharing loses nothing acknowledged; every node restarts clean from its vault, settles half-done reshares on one version and signs', async () => {
    const dir = join(tempDir(), 'cluster');
    let cluster = await LocalCluster.start({ nodes: 3, threshold: 1, dir, log: testLog });
    const keys = await withClient(cluster, (c) => c.createWallet('w-crash'));
    const ecdsaKey = compressSecp256k1PublicKey(keys.ecdsaPublicKey);
    await cluster.stop();
    const acked = { secp256k1: 0, ed25519: 0 };
    let signatures = 0;
    for (let round = 0; round < 4; round++) {
      const child = startChild([dir, `r${round}`], CHILD);
      await child.waitFor((a) => a.op === 'ready', 60_000);
      await sleep(800 + Math.floor(Math.random() * 3500));
      await kill9(child);
      for (const a of child.acks) {
        if (a.op === 'sig') {
          signatures++;
          if (a.keyType === 'secp256k1') {
            const sig = new Uint8Array([...unhex(a.r), ...unhex(a.s)]);
            expect(secp256k1.verify(sig, unhex(a.tx), ecdsaKey, { prehash: false, lowS: true })).toBe(true);
          } else expect(ed25519.verify(unhex(a.signature), unhex(a.tx), keys.eddsaPublicKey)).toBe(true);
        }
        if (a.op === 'reshare') acked[a.keyType as 'secp256k1' | 'ed25519']++;
      }
      // every node restarts from its vault alone
      cluster = await LocalCluster.start({ nodes: 3, threshold: 1, dir, log: testLog });
      try {
        for (const node of cluster.nodes) await node!.reconcileNow();
        for (let i = 0; i < 3; i++) {
          const v = cluster.vault(i);
          expect((await v.verify()).problems).toEqual([]);
          expect(v.verifyAudit().ok).toBe(true);
        }
        for (const [kt, curve] of [
          ['ecdsa', 'secp256k1'],
          ['eddsa', 'ed25519'],
        ] as const) {
          const versions = [0, 1, 2].map((i) => cluster.vault(i).getWallet(kt, 'w-crash').currentVersion);
          // one version everywhere, and no acknowledged reshare lost (a reshare killed after its
          // activation but before its answer may have gone further)
          expect(new Set(versions).size, `${kt} versions ${versions}`).toBe(1);
          expect(versions[0]!).toBeGreaterThanOrEqual(1 + acked[curve]);
          const pending = [0, 1, 2].flatMap((i) =>
            cluster
              .vault(i)
              .listVersions(kt, 'w-crash')
              .filter((x) => x.status === 'pending'),
          );
          expect(pending).toEqual([]);
        }
        await withClient(cluster, async (c) => {
          for (const keyType of ['secp256k1', 'ed25519'] as const) {
            const tx = randomBytes(32);
            const out = await c.sign({ walletId: 'w-crash', keyType, tx });
            expect(verifySignOutcome(out, keyType === 'secp256k1' ? ecdsaKey : keys.eddsaPublicKey, tx)).toBe(true);
          }
        });
      } finally {
        await cluster.stop();
      }
    }
    // the workload made progress before the kills
    expect(signatures).toBeGreaterThan(0);
  }, 600_000);
});
