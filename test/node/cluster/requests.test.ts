import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAuthorizer, localSigner, MpcClient, OperationFailedError } from '../../../src/client/index.js';
import { LocalCluster } from '../../../src/node/index.js';
import { testLog } from '../../helpers/test-log.js';

const rawPublic = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
  Buffer.from(k.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');

/** The error code a request settles with (or 'success'). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'success';
  } catch (e) {
    if (e instanceof OperationFailedError) return e.errorCode;
    throw e;
  }
}

describe('request authentication and validation through the cluster (mpcium error codes)', () => {
  let cluster: LocalCluster;
  const auditor = generateKeyPairSync('ed25519');
  const clients: MpcClient[] = [];
  let good: MpcClient;

  const client = async (opts: {
    initiator?: ReturnType<typeof localSigner>;
    authorizerKey?: typeof auditor.privateKey;
  }) => {
    const c = await MpcClient.create({
      workQueue: cluster.clientQueue(),
      bus: cluster.clientBus(),
      initiator: opts.initiator ?? localSigner(cluster.initiatorKey),
      authorizers: opts.authorizerKey ? [localAuthorizer('auditor', opts.authorizerKey)] : [],
      clientId: `c${clients.length}`,
      resultTimeoutMs: 30_000,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      nodes: 3,
      threshold: 1,
      log: testLog,
      config: {
        authorization: {
          enabled: true,
          required_authorizers: ['auditor'],
          authorizer_public_keys: { auditor: { public_key: rawPublic(auditor.publicKey), algorithm: 'ed25519' } },
        },
      },
    });
    good = await client({ authorizerKey: auditor.privateKey });
    await good.createWallet('w-auth');
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await cluster?.stop();
  });

  it('a request signed by another initiator key gets ERROR_INVALID_INITIATOR_SIGNATURE (mpcium stays silent)', async () => {
    const forger = await client({
      initiator: localSigner(generateKeyPairSync('ed25519').privateKey),
      authorizerKey: auditor.privateKey,
    });
    expect(await codeOf(forger.sign({ walletId: 'w-auth', keyType: 'ed25519', tx: randomBytes(10) }))).toBe(
      'ERROR_INVALID_INITIATOR_SIGNATURE',
    );
    expect(await codeOf(forger.createWallet('w-forged'))).toBe('ERROR_INVALID_INITIATOR_SIGNATURE');
    for (let i = 0; i < 3; i++) expect(() => cluster.vault(i).getWallet('eddsa', 'w-forged')).toThrow();
  }, 60_000);

  it('a missing required authorizer gets ERROR_MISSING_AUTHORIZER_SIGNATURE, a wrong one ERROR_INVALID_AUTHORIZER_SIGNATURE', async () => {
    const none = await client({});
    expect(await codeOf(none.sign({ walletId: 'w-auth', keyType: 'secp256k1', tx: randomBytes(32) }))).toBe(
      'ERROR_MISSING_AUTHORIZER_SIGNATURE',
    );
    const wrong = await client({ authorizerKey: generateKeyPairSync('ed25519').privateKey });
    expect(await codeOf(wrong.sign({ walletId: 'w-auth', keyType: 'secp256k1', tx: randomBytes(32) }))).toBe(
      'ERROR_INVALID_AUTHORIZER_SIGNATURE',
    );
  }, 60_000);

  it('an authorised request signs; a second keygen of the wallet gets ERROR_KEY_ALREADY_EXISTS; an unknown wallet ERROR_KEY_NOT_FOUND', async () => {
    expect(await codeOf(good.sign({ walletId: 'w-auth', keyType: 'secp256k1', tx: randomBytes(32) }))).toBe('success');
    expect(await codeOf(good.createWallet('w-auth'))).toBe('ERROR_KEY_ALREADY_EXISTS');
    expect(await codeOf(good.sign({ walletId: 'w-none', keyType: 'ed25519', tx: randomBytes(5) }))).toBe(
      'ERROR_KEY_NOT_FOUND',
    );
  }, 60_000);

  it('malformed request bytes on the work queue never crash a node: the cluster keeps signing afterwards', async () => {
    const q = cluster.clientQueue();
    for (const junk of [
      '',
      '{',
      'null',
      '[]',
      '{"wallet_id":5}',
      '{"key_type":"rsa","wallet_id":"w","tx":"AA=="}',
      'x'.repeat(10_000),
    ]) {
      await q.publish('mpc.signing_request.junk', Buffer.from(junk));
      await q.publish('mpc.keygen_request.junk', Buffer.from(junk));
    }
    await q.publish('mpc.signing_request.junk', randomBytes(3000));
    expect(await codeOf(good.sign({ walletId: 'w-auth', keyType: 'ed25519', tx: randomBytes(7) }))).toBe('success');
    expect(cluster.nodes.every((n) => n !== undefined)).toBe(true);
  }, 60_000);
});
