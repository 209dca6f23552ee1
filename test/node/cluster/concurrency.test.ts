import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressSecp256k1PublicKey, localSigner, MpcClient, verifySignOutcome } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import { testLog } from '../../helpers/test-log.js';

describe('concurrent requests', () => {
  let cluster: LocalCluster;
  let client: MpcClient;
  const keys = new Map<string, { secp256k1: Uint8Array; ed25519: Uint8Array }>();

  beforeAll(async () => {
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log: testLog });
    client = await MpcClient.create({
      workQueue: cluster.clientQueue(),
      initiator: localSigner(cluster.initiatorKey),
      resultTimeoutMs: 240_000,
      maxPending: 4096,
    });
    const made = await Promise.all(['c-1', 'c-2', 'c-3', 'c-4'].map((w) => client.createWallet(w)));
    for (const k of made)
      keys.set(k.walletId, { secp256k1: compressSecp256k1PublicKey(k.ecdsaPublicKey), ed25519: k.eddsaPublicKey });
  }, 180_000);

  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  it('100 concurrent sign requests on one wallet (both curves) all complete with valid signatures', async () => {
    const reqs = Array.from({ length: 100 }, (_, i) => {
      const keyType = i % 2 === 0 ? ('secp256k1' as const) : ('ed25519' as const);
      return { walletId: 'c-1', keyType, tx: randomBytes(32) };
    });
    const outs = await Promise.all(reqs.map((r) => client.sign(r)));
    for (let i = 0; i < reqs.length; i++)
      expect(verifySignOutcome(outs[i]!, keys.get('c-1')![reqs[i]!.keyType], reqs[i]!.tx)).toBe(true);
  }, 300_000);

  it('100 concurrent sign requests across four wallets all complete with valid signatures', async () => {
    const reqs = Array.from({ length: 100 }, (_, i) => ({
      walletId: `c-${(i % 4) + 1}`,
      keyType: i % 3 === 0 ? ('ed25519' as const) : ('secp256k1' as const),
      tx: randomBytes(32),
    }));
    const outs = await Promise.all(reqs.map((r) => client.sign(r)));
    for (let i = 0; i < reqs.length; i++)
      expect(verifySignOutcome(outs[i]!, keys.get(reqs[i]!.walletId)![reqs[i]!.keyType], reqs[i]!.tx)).toBe(true);
  }, 300_000);
});
