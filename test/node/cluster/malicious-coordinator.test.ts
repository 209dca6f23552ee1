import { createPrivateKey, sign as edSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTxSignedBytes } from '../../../src/api/index.js';
import { localSigner, MpcClient } from '../../../src/client/index.js';
import type { Logger } from '../../../src/common/log.js';
import { Channels, LocalCluster } from '../../../src/node/index.js';
import { encodeControl, KIND_CONTROL, type SessionStart } from '../../../src/node/sessions/control.js';

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface Line {
  node: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A signing request as mpcium's client sends it, signed by `key`. */
function request(
  key: ReturnType<typeof generateKeyPairSync>['privateKey'],
  walletId: string,
  txId: string,
  tx: Uint8Array,
) {
  const fields = { keyType: 'secp256k1' as const, walletId, networkInternalCode: '', txId, tx };
  const signature = edSign(null, signTxSignedBytes(fields), key);
  return Buffer.from(
    JSON.stringify({
      key_type: 'secp256k1',
      wallet_id: walletId,
      network_internal_code: '',
      tx_id: txId,
      tx: Buffer.from(tx).toString('base64'),
      signature: signature.toString('base64'),
      derivation_path: null,
    }),
  );
}

describe('a compromised member coordinating a signing session', () => {
  let cluster: LocalCluster;
  const lines: Line[] = [];
  let rogue: Channels;

  beforeAll(async () => {
    const log = (node: string): Logger => {
      const at = (fields: Readonly<Record<string, unknown>>, msg: string) =>
        lines.push({ node, msg, fields: { ...fields } });
      return { debug: () => {}, info: () => {}, warn: at, error: at };
    };
    cluster = await LocalCluster.start({ nodes: 3, threshold: 1, log });
    const client = await MpcClient.create({
      workQueue: cluster.clientQueue(),
      initiator: localSigner(cluster.initiatorKey),
    });
    await client.createWallet('w-mal');
    await client.close();
    // node0 is compromised: its process is replaced by the attacker's, with node0's identity key
    await cluster.stopNode(0);
    const f = cluster.file.nodes[0]!;
    const seed = readFileSync(join(cluster.dir, f.name, 'identity.key'));
    rogue = new Channels({
      self: f.id,
      identityKey: createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }),
      peers: new Map(cluster.file.nodes.map((x) => [x.id, Uint8Array.from(Buffer.from(x.publicKey, 'hex'))])),
      bus: cluster.broker.bus(),
      subjectPrefix: 'tessera',
    });
    await rogue.start();
  }, 120_000);

  afterAll(async () => {
    await rogue?.close();
    await cluster?.stop();
  });

  async function announce(start: SessionStart): Promise<void> {
    const [, y, z] = cluster.nodeIds;
    await rogue.send(
      {
        sessionId: randomBytes(16).toString('hex'),
        kind: KIND_CONTROL,
        round: 0,
        to: null,
        payload: encodeControl({ type: 'start', start }),
      },
      [y!, z!],
    );
    await new Promise((r) => setTimeout(r, 300));
  }

  const base = (): SessionStart => ({
    op: 'sign',
    request: new Uint8Array(0),
    clientId: '',
    keyType: 'secp256k1',
    walletId: 'w-mal',
    version: 1,
    threshold: 1,
    participants: [cluster.nodeIds[1]!, cluster.nodeIds[2]!].sort(),
    dealers: [],
    oldPublic: new Uint8Array(0),
    members: [cluster.nodeIds[1]!, cluster.nodeIds[2]!],
  });

  const claims = () => [1, 2].map((i) => cluster.vault(i).signingLogSize('ecdsa', 'w-mal', 1));

  it('a start whose request is not signed by the initiator key is refused by every member before anything is signed', async () => {
    const before = claims();
    const forged = request(generateKeyPairSync('ed25519').privateKey, 'w-mal', 'mal-1', randomBytes(32));
    await announce({ ...base(), request: forged });
    expect(claims()).toEqual(before);
    const refused = lines.filter((l) => l.msg === 'refused a signing session');
    expect(refused.length).toBe(2);
    expect(refused.every((l) => String(l.fields.reason).includes('invalid signature from initiator'))).toBe(true);
  });

  it('a start that does not match its (genuinely signed) request — another wallet, version or signer set — is refused before anything is signed', async () => {
    const genuine = request(cluster.initiatorKey, 'w-mal', 'mal-2', randomBytes(32));
    const before = claims();
    lines.length = 0;
    await announce({ ...base(), request: genuine, walletId: 'w-other' });
    await announce({ ...base(), request: genuine, version: 2 });
    await announce({ ...base(), request: genuine, participants: [cluster.nodeIds[2]!] });
    expect(claims()).toEqual(before);
    expect(lines.filter((l) => l.msg === 'refused a signing session').length).toBe(6);
  });
});
