/**
 * mpcium's end-to-end scenarios (reference §8) against a real cluster: nats-server -js and three
 * `tessera start` processes, driven by the SDK over NATS; every signature verified with noble.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveChildPublicKey, type MpcClient, OperationFailedError } from '../../src/client/index.js';
import { connectNats } from '../../src/transport/index.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { ecdsaOk } from '../helpers/signing.js';

describe('a 2-of-3 cluster of node processes over NATS', () => {
  let cluster: NatsCluster;
  let client: MpcClient;
  let wallet: { walletId: string; ecdsaPublicKey: Uint8Array; eddsaPublicKey: Uint8Array };

  beforeAll(async () => {
    cluster = await NatsCluster.start({ nodes: 3, threshold: 1 });
    client = await cluster.client({ clientId: 'e2e' });
    wallet = await client.createWallet(`w-${randomBytes(4).toString('hex')}`);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('keygen returns a 64-byte secp256k1 X‖Y key that is on the curve and a 32-byte ed25519 key', () => {
    expect(wallet.ecdsaPublicKey.length).toBe(64);
    expect(() => secp256k1.Point.fromBytes(Uint8Array.of(4, ...wallet.ecdsaPublicKey))).not.toThrow();
    expect(wallet.eddsaPublicKey.length).toBe(32);
  });

  it('ECDSA and EdDSA signatures verify under the wallet keys (noble), recovery id recovers the key', async () => {
    const digest = createHash('sha256').update('e2e ecdsa').digest();
    const e = await client.sign({ walletId: wallet.walletId, keyType: 'secp256k1', tx: digest });
    if (e.keyType !== 'secp256k1') throw new Error('wrong outcome');
    expect(ecdsaOk(e.r, e.s, digest, wallet.ecdsaPublicKey)).toBe(true);
    const sig = new secp256k1.Signature(
      BigInt(`0x${Buffer.from(e.r).toString('hex')}`),
      BigInt(`0x${Buffer.from(e.s).toString('hex')}`),
    ).addRecoveryBit(e.recoveryId);
    expect(Buffer.from(sig.recoverPublicKey(digest).toBytes(false)).subarray(1)).toEqual(
      Buffer.from(wallet.ecdsaPublicKey),
    );
    const msg = Uint8Array.of(0, ...randomBytes(100));
    const d = await client.sign({ walletId: wallet.walletId, keyType: 'ed25519', tx: msg });
    if (d.keyType !== 'ed25519') throw new Error('wrong outcome');
    expect(ed25519.verify(d.signature, msg, wallet.eddsaPublicKey)).toBe(true);
  }, 120_000);

  it('a signature under a derivation path verifies under the derived child key, not the master key', async () => {
    const path = [44, 60, 0, 0, 7];
    const digest = createHash('sha256').update('derived').digest();
    const e = await client.sign({ walletId: wallet.walletId, keyType: 'secp256k1', tx: digest, derivationPath: path });
    if (e.keyType !== 'secp256k1') throw new Error('wrong outcome');
    const child = deriveChildPublicKey(
      'secp256k1',
      wallet.ecdsaPublicKey,
      Buffer.from(cluster.files.chainCode, 'hex'),
      path,
    );
    expect(ecdsaOk(e.r, e.s, digest, child)).toBe(true);
    expect(ecdsaOk(e.r, e.s, digest, wallet.ecdsaPublicKey)).toBe(false);
    const msg = randomBytes(64);
    const d = await client.sign({ walletId: wallet.walletId, keyType: 'ed25519', tx: msg, derivationPath: [0] });
    if (d.keyType !== 'ed25519') throw new Error('wrong outcome');
    const edChild = deriveChildPublicKey(
      'ed25519',
      wallet.eddsaPublicKey,
      Buffer.from(cluster.files.chainCode, 'hex'),
      [0],
    );
    expect(ed25519.verify(d.signature, msg, edChild)).toBe(true);
  }, 120_000);

  it('results are routed by client id: svc-a and svc-b each get only their own, on their scoped subjects', async () => {
    const a = await cluster.client({ clientId: 'svc-a' });
    const b = await cluster.client({ clientId: 'svc-b' });
    const watch = await connectNats({ url: cluster.server.url });
    const seen: { subject: string; txId: string }[] = [];
    const sub = watch.subscribe('mpc.mpc_signing_result.>', {
      callback: (_e, m) => void seen.push({ subject: m.subject, txId: (m.json() as { tx_id: string }).tx_id }),
    });
    await watch.flush();
    const txA = Array.from({ length: 4 }, (_, i) => `a-${i}-${randomBytes(3).toString('hex')}`);
    const txB = Array.from({ length: 4 }, (_, i) => `b-${i}-${randomBytes(3).toString('hex')}`);
    const tx = randomBytes(32);
    const outs = await Promise.all([
      ...txA.map((txId) => a.sign({ walletId: wallet.walletId, keyType: 'ed25519', tx, txId })),
      ...txB.map((txId) => b.sign({ walletId: wallet.walletId, keyType: 'ed25519', tx, txId })),
    ]);
    expect(outs.map((o) => o.txId)).toEqual([...txA, ...txB]);
    await watch.flush();
    sub.unsubscribe();
    await watch.close();
    for (const id of txA)
      expect(seen.filter((x) => x.txId === id).map((x) => x.subject)).toContain(
        'mpc.mpc_signing_result.svc-a.complete',
      );
    for (const id of txB)
      expect(seen.filter((x) => x.txId === id).map((x) => x.subject)).toContain(
        'mpc.mpc_signing_result.svc-b.complete',
      );
    expect(seen.filter((x) => x.txId.startsWith('a-') && !x.subject.includes('.svc-a.'))).toEqual([]);
    expect(seen.filter((x) => x.txId.startsWith('b-') && !x.subject.includes('.svc-b.'))).toEqual([]);
  }, 120_000);

  it('a reshare to a new threshold over all three nodes, then signing with the same public key', async () => {
    const ids = Object.values(cluster.files.peers);
    const r = await client.reshare({ walletId: wallet.walletId, keyType: 'ed25519', newThreshold: 2, nodeIds: ids });
    expect(Buffer.from(r.publicKey)).toEqual(Buffer.from(wallet.eddsaPublicKey));
    expect(r.newThreshold).toBe(2);
    const msg = randomBytes(32);
    const d = await client.sign({ walletId: wallet.walletId, keyType: 'ed25519', tx: msg });
    if (d.keyType !== 'ed25519') throw new Error('wrong outcome');
    expect(ed25519.verify(d.signature, msg, wallet.eddsaPublicKey)).toBe(true);
    const e = await client.reshare({
      walletId: wallet.walletId,
      keyType: 'secp256k1',
      newThreshold: 1,
      nodeIds: ids.slice(1),
    });
    expect(Buffer.from(e.publicKey)).toEqual(Buffer.from(wallet.ecdsaPublicKey));
    const digest = randomBytes(32);
    const s = await client.sign({ walletId: wallet.walletId, keyType: 'secp256k1', tx: digest });
    if (s.keyType !== 'secp256k1') throw new Error('wrong outcome');
    expect(ecdsaOk(s.r, s.s, digest, wallet.ecdsaPublicKey)).toBe(true);
  }, 180_000);

  it('signing with an unknown wallet fails with ERROR_KEY_NOT_FOUND, and keygen of an existing wallet with ERROR_KEY_ALREADY_EXISTS', async () => {
    const err = await client
      .sign({ walletId: 'no-such-wallet', keyType: 'ed25519', tx: randomBytes(8) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationFailedError);
    expect((err as OperationFailedError).errorCode).toBe('ERROR_KEY_NOT_FOUND');
    const dup = await client.createWallet(wallet.walletId).catch((e: unknown) => e);
    expect((dup as OperationFailedError).errorCode).toBe('ERROR_KEY_ALREADY_EXISTS');
  }, 60_000);
});
