import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdentityFile, restoreChain } from '../../../src/backup/index.js';
import { compressSecp256k1PublicKey, localSigner, MpcClient, verifySignOutcome } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import { ecdsa } from '../../../src/tss/index.js';
import { Vault } from '../../../src/vault/index.js';
import { testLog } from '../../helpers/test-log.js';

/** Opens a stopped node's vault, runs `f` on its ECDSA share of `wallet` and writes it back. */
async function editShare(
  cluster: LocalCluster,
  i: number,
  wallet: string,
  f: (s: ecdsa.KeyShare) => void,
): Promise<void> {
  const name = cluster.file.nodes[i]!.name;
  const v = await Vault.open(join(cluster.dir, name, 'vault'), {
    kind: 'key',
    key: readFileSync(join(cluster.dir, name, 'vault.key')),
  });
  try {
    const w = v.getWallet('ecdsa', wallet);
    const opened = v.getShare('ecdsa', wallet, w.currentVersion!);
    const share = ecdsa.KeyShare.deserialize(opened.share);
    f(share);
    v.updateShare('ecdsa', wallet, w.currentVersion!, share.serialize(), { expectSeq: opened.seq });
    share.dispose();
  } finally {
    v.close();
  }
}

function burntOnDisk(cluster: LocalCluster, i: number, wallet: string): string[] {
  const v = cluster.vault(i);
  const opened = v.getShare('ecdsa', wallet, v.getWallet('ecdsa', wallet).currentVersion!);
  const share = ecdsa.KeyShare.deserialize(opened.share);
  try {
    return share.burntPeers();
  } finally {
    share.dispose();
  }
}

describe('burnt OT pairs are re-set up automatically', () => {
  let cluster: LocalCluster;
  let client: MpcClient;
  let key: Uint8Array;

  /**
   * Signs with the burnt pair's nodes until the automatic re-setup has repaired it (sessions fail
   * before that); the signature must verify (independently) once one succeeds.
   */
  async function signOnceRepaired(): Promise<void> {
    for (const deadline = Date.now() + 45_000; ; ) {
      const tx = randomBytes(32);
      let out: Awaited<ReturnType<MpcClient['sign']>>;
      try {
        out = await client.sign({ walletId: 'w-burn', keyType: 'secp256k1', tx });
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 1500));
        continue;
      }
      expect(verifySignOutcome(out, key, tx)).toBe(true);
      return;
    }
  }

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      log: testLog,
      config: { tessera: { timeouts: { signing_seconds: 5 } } },
    });
    client = await MpcClient.create({ workQueue: cluster.clientQueue(), initiator: localSigner(cluster.initiatorKey) });
    key = compressSecp256k1PublicKey((await client.createWallet('w-burn')).ecdsaPublicKey);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  it('a node whose pairs are all burnt (as after a restore: requireResetup) re-sets them up with its peers and signs with them again', async () => {
    await cluster.stopNode(0);
    await editShare(cluster, 0, 'w-burn', (s) => s.requireResetup());
    await cluster.startNode(0);
    expect(burntOnDisk(cluster, 0, 'w-burn').length).toBe(2);
    // only node0 and node2 are up: every signing set contains the burnt pair (node0, node2)
    await cluster.stopNode(1);
    await signOnceRepaired();
    // the pair with node2 is live again, on disk
    expect(burntOnDisk(cluster, 0, 'w-burn')).not.toContain(cluster.nodeIds[2]);
    await cluster.startNode(1);
  }, 180_000);

  it('a node restored from its backup burns every ECDSA pair before it serves (rule 8), re-sets them up with its peers and signs', async () => {
    const backup = await cluster.nodes[0]!.backupNow();
    expect(backup?.file).toBeTruthy();
    await cluster.stopNode(0);
    const name = cluster.file.nodes[0]!.name;
    const vaultDir = join(cluster.dir, name, 'vault');
    const key = readFileSync(join(cluster.dir, name, 'vault.key'));
    await restoreChain(
      join(cluster.dir, name, 'backups'),
      `${vaultDir}.restored`,
      { identities: parseIdentityFile(readFileSync(join(cluster.dir, 'backup.key'), 'utf8')) },
      { kind: 'key', key },
    );
    renameSync(vaultDir, `${vaultDir}.old`);
    renameSync(`${vaultDir}.restored`, vaultDir);
    await cluster.startNode(0);
    // started: the restore mark is gone and every pair of the restored share is burnt on disk
    expect(cluster.vault(0).restoredNeedsResetup).toBe(false);
    expect(burntOnDisk(cluster, 0, 'w-burn').sort()).toEqual([cluster.nodeIds[1], cluster.nodeIds[2]].sort());
    await cluster.stopNode(1);
    await signOnceRepaired();
    expect(burntOnDisk(cluster, 0, 'w-burn')).not.toContain(cluster.nodeIds[2]);
    await cluster.startNode(1);
  }, 180_000);
});
