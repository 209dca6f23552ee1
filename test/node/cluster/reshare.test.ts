import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoError } from '../../../src/common/errors.js';
import { LocalCluster } from '../../../src/node/index.js';
import { ClusterClient } from '../../helpers/cluster-client.js';
import { testLog } from '../../helpers/test-log.js';

const fromB64 = (s: unknown) => Uint8Array.from(Buffer.from(s as string, 'base64'));

describe('reshare in a 5-node cluster (3-of-5 at keygen)', () => {
  let cluster: LocalCluster;
  let client: ClusterClient;
  let ecdsaXY: Uint8Array;
  let eddsaKey: Uint8Array;
  let ids: string[];
  let n = 0;
  let lastReshare = '';

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      nodes: 5,
      threshold: 2,
      log: testLog,
      config: { tessera: { timeouts: { reshare_seconds: 8 } } },
    });
    ids = cluster.nodeIds;
    client = await new ClusterClient(cluster).start();
    const r = await client.keygen('w-r');
    expect(r.result_type, r.error_reason).toBe('success');
    ecdsaXY = fromB64(r.ecdsa_pub_key);
    eddsaKey = fromB64(r.eddsa_pub_key);
  }, 180_000);

  afterAll(async () => {
    client?.stop();
    await cluster?.stop();
  });

  async function reshareBoth(nodeIds: string[], newThreshold: number): Promise<void> {
    for (const keyType of ['secp256k1', 'ed25519'] as const) {
      lastReshare = `rs-${++n}`;
      const r = await client.reshare({ walletId: 'w-r', keyType, nodeIds, newThreshold, sessionId: lastReshare });
      expect(r.result_type, r.error_reason).toBe('success');
      expect(r.new_threshold).toBe(newThreshold);
      // the key does not change
      expect(fromB64(r.pub_key)).toEqual(keyType === 'secp256k1' ? ecdsaXY : eddsaKey);
    }
  }

  async function signBoth(): Promise<void> {
    const digest = randomBytes(32);
    const e = await client.sign({ walletId: 'w-r', keyType: 'secp256k1', tx: digest, txId: `t-${++n}` });
    expect(e.result_type, e.error_reason).toBe('success');
    const sig = new Uint8Array([...fromB64(e.r), ...fromB64(e.s)]);
    expect(secp256k1.verify(sig, digest, Uint8Array.of(4, ...ecdsaXY), { prehash: false, lowS: true })).toBe(true);
    const msg = randomBytes(33);
    const d = await client.sign({ walletId: 'w-r', keyType: 'ed25519', tx: msg, txId: `t-${++n}` });
    expect(d.result_type, d.error_reason).toBe('success');
    expect(ed25519.verify(fromB64(d.signature), msg, eddsaKey)).toBe(true);
  }

  const versionsOf = (keyType: 'ecdsa' | 'eddsa') =>
    ids.map((_, i) => cluster.vault(i).getWallet(keyType, 'w-r').currentVersion);

  it('shrinks to 3 nodes with a new threshold (2-of-3): the two left out retire (destroy) their shares, the rest sign', async () => {
    await reshareBoth(ids.slice(0, 3), 1);
    expect(versionsOf('ecdsa')).toEqual([2, 2, 2, null, null]);
    expect(versionsOf('eddsa')).toEqual([2, 2, 2, null, null]);
    await signBoth();
  }, 180_000);

  it('moves to a disjoint committee of the two other nodes; any node still coordinates signing', async () => {
    await reshareBoth(ids.slice(3, 5), 1);
    expect(versionsOf('ecdsa')).toEqual([null, null, null, 3, 3]);
    for (let i = 0; i < 3; i++) await signBoth();
  }, 180_000);

  it('grows back to all five with threshold 2, then signs', async () => {
    await reshareBoth(ids, 2);
    expect(versionsOf('eddsa')).toEqual([4, 4, 4, 4, 4]);
    await signBoth();
  }, 180_000);

  it('a reshare where one new member fails to store its share leaves the old version active everywhere, and a later reshare succeeds', async () => {
    const victim = cluster.vault(4);
    const original = victim.putShare.bind(victim);
    victim.putShare = () => {
      throw new IoError('writing the share (injected: disk full)', new Error('ENOSPC'));
    };
    try {
      const r = await client.reshare({
        walletId: 'w-r',
        keyType: 'ed25519',
        nodeIds: ids,
        newThreshold: 2,
        sessionId: `rs-fail-${++n}`,
      });
      expect(r.result_type).toBe('error');
    } finally {
      victim.putShare = original;
    }
    // give the members that stored a pending v5 time to give up waiting
    await new Promise((r) => setTimeout(r, 9000));
    expect(versionsOf('eddsa')).toEqual([4, 4, 4, 4, 4]);
    await signBoth();
    // until the failed reshare is settled, members refuse another one (no two different v5s)
    const early = await client.reshare({
      walletId: 'w-r',
      keyType: 'ed25519',
      nodeIds: ids,
      newThreshold: 2,
      sessionId: `rs-${++n}`,
    });
    expect(early.result_type).toBe('error');
    // reconcile: node 4 never stored v5, so nobody can have activated it: every pending v5 is discarded
    for (const node of cluster.nodes) await node!.reconcileNow();
    const pending = ids.map(
      (_, i) =>
        cluster
          .vault(i)
          .listVersions('eddsa', 'w-r')
          .filter((v) => v.status === 'pending').length,
    );
    expect(pending).toEqual([0, 0, 0, 0, 0]);
    await reshareBoth(ids, 2);
    expect(versionsOf('eddsa')).toEqual([5, 5, 5, 5, 5]);
    await signBoth();
  }, 240_000);

  it('a replayed reshare request (same session id, captured off the bus) never runs again: ERROR_SESSION_DUPLICATE, versions unchanged', async () => {
    const before = versionsOf('ecdsa');
    const sessionId = lastReshare;
    // the last request of the previous test (ed25519, all five, t=2), replayed byte for byte
    const r = await client.reshare({ walletId: 'w-r', keyType: 'ed25519', nodeIds: ids, newThreshold: 2, sessionId });
    expect(r.result_type).toBe('error');
    expect(r.error_code).toBe('ERROR_SESSION_DUPLICATE');
    expect(versionsOf('ecdsa')).toEqual(before);
    expect(versionsOf('eddsa')).toEqual([5, 5, 5, 5, 5]);
  }, 60_000);
});
