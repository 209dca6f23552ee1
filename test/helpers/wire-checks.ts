/**
 * Checks shared by the end-to-end tests that drive a cluster with the reference-only client
 * (test/helpers/wire-client.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expect } from 'vitest';
import type { NatsCluster } from './nats-cluster.js';
import { b64Field, goConsumer, Initiator, loadSeed, tsConsumer, type WireClient } from './wire-client.js';

const hex = (n: number) => randomBytes(n).toString('hex');

/**
 * Keygen, then one signature per curve, with the reference-only client in the Go shape (scoped
 * results; `clientId`) or the TS shape (unscoped); every signature checked with noble.
 */
export async function servesKeygenAndSign(cluster: NatsCluster, wc: WireClient, clientId?: string): Promise<void> {
  const init = new Initiator(loadSeed(cluster.files.initiatorKeyFile));
  const keygen = clientId ? goConsumer('keygen', clientId) : tsConsumer('keygen');
  const signing = clientId ? goConsumer('signing', clientId) : tsConsumer('signing');
  const walletId = `w-${hex(4)}`;
  await wc.publish(
    clientId ? 'mpc.keygen_request.*' : `mpc.keygen_request.${walletId}`,
    clientId ? init.keygenGo(walletId) : init.keygenTs(walletId),
    clientId,
  );
  const k = await wc.result(keygen.durable, (r) => r.json.wallet_id === walletId);
  expect(k.json.result_type).toBe('success');
  const xy = b64Field(k.json.ecdsa_pub_key, 64);
  const ed = b64Field(k.json.eddsa_pub_key, 32);
  const digest = createHash('sha256').update(walletId).digest();
  const msg = randomBytes(40);
  const txE = `e-${hex(4)}`;
  const txD = `d-${hex(4)}`;
  const sign = (f: Parameters<Initiator['signGo']>[0]) =>
    wc.publish(
      clientId ? 'mpc.signing_request.*' : `mpc.signing_request.${f.txId}`,
      clientId ? init.signGo(f) : init.signTs(f),
      clientId,
    );
  await sign({ keyType: 'secp256k1', walletId, networkInternalCode: '', txId: txE, tx: digest });
  await sign({ keyType: 'ed25519', walletId, networkInternalCode: '', txId: txD, tx: msg });
  const e = await wc.result(signing.durable, (r) => r.json.tx_id === txE);
  expect(e.json.result_type).toBe('success');
  const rs = new Uint8Array([...b64Field(e.json.r, 32), ...b64Field(e.json.s, 32)]);
  expect(secp256k1.verify(rs, digest, Uint8Array.of(4, ...xy), { prehash: false })).toBe(true);
  const d = await wc.result(signing.durable, (r) => r.json.tx_id === txD);
  expect(d.json.result_type).toBe('success');
  expect(ed25519.verify(b64Field(d.json.signature, 64), msg, ed)).toBe(true);
}
