import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../../src/node/index.js';
import { ClusterClient } from '../../helpers/cluster-client.js';
import { testLog } from '../../helpers/test-log.js';

const fromB64 = (s: unknown) => Uint8Array.from(Buffer.from(s as string, 'base64'));

describe('signers among the ready members', () => {
  let cluster: LocalCluster;
  let client: ClusterClient;
  let ecdsaKey: Uint8Array;
  let eddsaKey: Uint8Array;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log: testLog });
    client = await new ClusterClient(cluster).start();
    const r = await client.keygen('w-members');
    expect(r.result_type, r.error_reason).toBe('success');
    ecdsaKey = Uint8Array.of(4, ...fromB64(r.ecdsa_pub_key));
    eddsaKey = fromB64(r.eddsa_pub_key);
  }, 120_000);

  afterAll(async () => {
    client?.stop();
    await cluster?.stop();
  });

  async function signBoth(tag: string): Promise<void> {
    const digest = randomBytes(32);
    const e = await client.sign({ walletId: 'w-members', keyType: 'secp256k1', tx: digest, txId: `${tag}-e` });
    expect(e.result_type, e.error_reason).toBe('success');
    const sig = new Uint8Array([...fromB64(e.r), ...fromB64(e.s)]);
    expect(secp256k1.verify(sig, digest, ecdsaKey, { prehash: false, lowS: true })).toBe(true);
    const msg = randomBytes(50);
    const d = await client.sign({ walletId: 'w-members', keyType: 'ed25519', tx: msg, txId: `${tag}-d` });
    expect(d.result_type, d.error_reason).toBe('success');
    expect(ed25519.verify(fromB64(d.signature), msg, eddsaKey)).toBe(true);
  }

  it('with any one node down, the other two (every t+1 subset) sign on both curves; the node restarted from its vault signs again', async () => {
    for (let down = 0; down < 3; down++) {
      await cluster.stopNode(down);
      await signBoth(`down-${down}`);
      await cluster.startNode(down);
    }
    // every node is back and knows its wallet from disk alone
    for (let i = 0; i < 3; i++) expect(cluster.vault(i).getWallet('ecdsa', 'w-members').currentVersion).toBe(1);
    await signBoth('all-back');
  }, 180_000);

  it('with two of three nodes down, signing answers ERROR_NOT_MAJORITY instead of hanging', async () => {
    await cluster.stopNode(1);
    await cluster.stopNode(2);
    try {
      const r = await client.sign({ walletId: 'w-members', keyType: 'ed25519', tx: randomBytes(8), txId: 'minority' });
      expect(r.result_type).toBe('error');
      expect(r.error_code).toBe('ERROR_NOT_MAJORITY');
      const k = await client.keygen('w-while-down');
      expect(k.error_code).toBe('ERROR_CLUSTER_NOT_READY');
    } finally {
      await cluster.startNode(1);
      await cluster.startNode(2);
    }
  }, 120_000);
});
