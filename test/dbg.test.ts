import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { LocalCluster } from '../src/node/index.js';
import { ClusterClient } from '../test/helpers/cluster-client.js';
it('dbg', async () => {
  const mk = (n: string) => ({
    debug: () => {},
    info: (f: object, m: string) => console.log(n, 'INFO', m, JSON.stringify(f)),
    warn: (f: object, m: string) => console.log(n, 'WARN', m, JSON.stringify(f)),
    error: (f: object, m: string) => console.log(n, 'ERROR', m, JSON.stringify(f)),
  });
  const cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log: mk });
  const client = await new ClusterClient(cluster).start();
  await client.keygen('w');
  console.log('---- stop 0');
  await cluster.stopNode(0);
  const e = await client.sign({ walletId: 'w', keyType: 'secp256k1', tx: randomBytes(32), txId: 'a' });
  console.log(e.result_type);
  console.log('---- start 0, stop 1');
  await cluster.startNode(0);
  await cluster.stopNode(1);
  const f = await client.sign({ walletId: 'w', keyType: 'secp256k1', tx: randomBytes(32), txId: 'b' });
  console.log(f.result_type, f.error_reason);
  const g = await client.sign({ walletId: 'w', keyType: 'ed25519', tx: randomBytes(32), txId: 'c' });
  console.log('EDDSA', g.result_type, g.error_reason);
  await cluster.startNode(1);
  await cluster.stopNode(2);
  const h = await client.sign({ walletId: 'w', keyType: 'secp256k1', tx: randomBytes(32), txId: 'd' });
  console.log('E3', h.result_type, h.error_reason);
  const i = await client.sign({ walletId: 'w', keyType: 'ed25519', tx: randomBytes(32), txId: 'e' });
  console.log('D3', i.result_type, i.error_reason);
  client.stop(); await cluster.stop();
}, 60000);
