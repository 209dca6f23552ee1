import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveChildPublicKey } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import { ClusterClient, type ResultJson } from '../../helpers/cluster-client.js';

const fromB64 = (s: unknown) => Uint8Array.from(Buffer.from(s as string, 'base64'));

/** Verifies an ECDSA result with noble (independent of the signing code): r‖s low-S over the digest under the 64-byte X‖Y key. */
function ecdsaVerifies(r: ResultJson, digest: Uint8Array, keyXY: Uint8Array): boolean {
  const sig = new Uint8Array([...fromB64(r.r), ...fromB64(r.s)]);
  return secp256k1.verify(sig, digest, Uint8Array.of(4, ...keyXY), { prehash: false, lowS: true });
}

describe('a 3-node 2-of-3 embedded cluster', () => {
  let cluster: LocalCluster;
  let client: ClusterClient;
  let keys: { ecdsa: Uint8Array; eddsa: Uint8Array };

  beforeAll(async () => {
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1 });
    client = await new ClusterClient(cluster).start();
    const r = await client.keygen('wallet-a');
    expect(r.result_type, r.error_reason).toBe('success');
    keys = { ecdsa: fromB64(r.ecdsa_pub_key), eddsa: fromB64(r.eddsa_pub_key) };
  }, 120_000);

  afterAll(async () => {
    client?.stop();
    await cluster?.stop();
  });

  it('keygen creates the wallet on both curves: a 64-byte secp256k1 X‖Y key and a 32-byte ed25519 key, active on every node', () => {
    expect(keys.ecdsa.length).toBe(64);
    expect(keys.eddsa.length).toBe(32);
    for (let i = 0; i < 3; i++) {
      expect(cluster.vault(i).getWallet('ecdsa', 'wallet-a').currentVersion).toBe(1);
      expect(cluster.vault(i).getWallet('eddsa', 'wallet-a').currentVersion).toBe(1);
    }
  });

  it('an ECDSA signature of a 32-byte digest verifies under the wallet key (noble)', async () => {
    const digest = createHash('sha256').update('hello').digest();
    const r = await client.sign({ walletId: 'wallet-a', keyType: 'secp256k1', tx: digest, txId: 'tx-ecdsa-1' });
    expect(r.result_type, r.error_reason).toBe('success');
    expect(ecdsaVerifies(r, digest, keys.ecdsa)).toBe(true);
    expect(fromB64(r.signature_recovery).length).toBe(1);
  }, 60_000);

  it('an EdDSA signature of the exact message bytes (leading zero bytes kept) verifies under the wallet key (noble)', async () => {
    const msg = Uint8Array.of(0, 0, ...randomBytes(40));
    const r = await client.sign({ walletId: 'wallet-a', keyType: 'ed25519', tx: msg, txId: 'tx-eddsa-1' });
    expect(r.result_type, r.error_reason).toBe('success');
    expect(ed25519.verify(fromB64(r.signature), msg, keys.eddsa)).toBe(true);
  }, 60_000);

  it('a signature under a derived path verifies under the BIP32 child key and not under the master key', async () => {
    const digest = randomBytes(32);
    const path = [44, 60, 0, 7];
    const r = await client.sign({ walletId: 'wallet-a', keyType: 'secp256k1', tx: digest, txId: 'tx-hd-1', path });
    expect(r.result_type, r.error_reason).toBe('success');
    const compressed = secp256k1.Point.fromBytes(Uint8Array.of(4, ...keys.ecdsa)).toBytes(true);
    let hd = new HDKey({ publicKey: compressed, chainCode: Buffer.from(cluster.file.chain_code, 'hex') });
    for (const i of path) hd = hd.deriveChild(i);
    const child = secp256k1.Point.fromBytes(hd.publicKey!).toBytes(false).subarray(1);
    expect(ecdsaVerifies(r, digest, child)).toBe(true);
    expect(ecdsaVerifies(r, digest, keys.ecdsa)).toBe(false);
  }, 60_000);

  it('an EdDSA signature under a derived path verifies under the child key (client derivation, noble) and not the master key', async () => {
    const msg = randomBytes(48);
    const path = [0, 7, 42];
    const r = await client.sign({ walletId: 'wallet-a', keyType: 'ed25519', tx: msg, txId: 'tx-eddsa-hd-1', path });
    expect(r.result_type, r.error_reason).toBe('success');
    const child = deriveChildPublicKey('ed25519', keys.eddsa, Buffer.from(cluster.file.chain_code, 'hex'), path);
    expect(ed25519.verify(fromB64(r.signature), msg, child)).toBe(true);
    expect(ed25519.verify(fromB64(r.signature), msg, keys.eddsa)).toBe(false);
  }, 60_000);

  it('an identical retried request gets the same signature again; the same tx_id with another tx is a duplicate', async () => {
    const digest = randomBytes(32);
    const req = { walletId: 'wallet-a', keyType: 'secp256k1' as const, tx: digest, txId: 'tx-retry' };
    const first = await client.sign(req);
    expect(first.result_type).toBe('success');
    await client.publishSign('tx-retry', client.signRequest(req));
    const deadline = Date.now() + 20_000;
    while (client.seen('signing').filter((x) => x.tx_id === 'tx-retry').length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const both = client.seen('signing').filter((x) => x.tx_id === 'tx-retry');
    expect(both.length).toBe(2);
    expect(both[1]!.r).toBe(first.r);
    expect(both[1]!.s).toBe(first.s);
    await client.publishSign('tx-retry', client.signRequest({ ...req, tx: randomBytes(32) }));
    while (client.seen('signing').filter((x) => x.tx_id === 'tx-retry').length < 3 && Date.now() < deadline + 20_000)
      await new Promise((r) => setTimeout(r, 100));
    const third = client.seen('signing').filter((x) => x.tx_id === 'tx-retry')[2]!;
    expect(third.result_type).toBe('error');
    expect(third.error_code).toBe('ERROR_SESSION_DUPLICATE');
  }, 90_000);
});
