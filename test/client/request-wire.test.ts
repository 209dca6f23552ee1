import { describe, expect, it } from 'vitest';
import {
  authorizerSignedBytes,
  CLIENT_ID_HEADER,
  generateKeySignedBytes,
  RESHARE_REQUEST_SUBJECT,
  resharingSignedBytes,
  SIGNING_STREAM,
  signTxSignedBytes,
} from '../../src/api/index.js';
import { type AuthorizerSigner, type InitiatorSigner, OperationFailedError } from '../../src/client/index.js';
import type { AuthorizationPolicy } from '../../src/node/index.js';
import type { BusMessage, WorkMessage } from '../../src/transport/index.js';
import { authorizer, b64, digest, keyPair, setup, text, until } from './helpers.js';

const XY = new Uint8Array(64).fill(7);
const ED = new Uint8Array(32).fill(8);

describe('requests the SDK publishes are what the node parses and authenticates', () => {
  for (const algorithm of ['ed25519', 'p256'] as const) {
    it(`with a ${algorithm} initiator and two required authorizers (ed25519, p256), keygen, signing and reshare requests parse with the api and pass authenticateRequest`, async () => {
      const init = keyPair(algorithm);
      const ops = authorizer('ops', 'ed25519');
      const risk = authorizer('risk-1', 'p256');
      const policy: AuthorizationPolicy = {
        enabled: true,
        required: ['ops', 'risk-1'],
        keys: new Map([
          ['ops', ops.verifying],
          ['risk-1', risk.verifying],
        ]),
      };
      const s = await setup({
        initiator: init.signer,
        nodeInitiator: init.verifying,
        authorizers: [ops.signer, risk.signer],
        policy,
        client: { clientId: 'svc-a' },
      });
      const kg = s.client.createWallet('wallet-1');
      const kgReq = await s.node.next();
      expect(kgReq).toMatchObject({ op: 'keygen', subject: 'mpc.keygen_request.wallet-1', clientId: 'svc-a' });
      expect(kgReq.request.authorizerSignatures.map((a) => a.authorizerId)).toEqual(['ops', 'risk-1']);
      await s.node.replyKeygen(kgReq, { ecdsaPublicKeyXY: XY, eddsaPublicKey: ED });
      expect(await kg).toEqual({ walletId: 'wallet-1', ecdsaPublicKey: XY, eddsaPublicKey: ED });

      const sg = s.client.sign({
        walletId: 'wallet-1',
        keyType: 'secp256k1',
        tx: digest(1),
        txId: 'tx-1',
        derivationPath: [44, 60, 0, 0, 5],
        networkInternalCode: 'eth-mainnet',
      });
      const sgReq = await s.node.next();
      expect(sgReq.op === 'signing' && sgReq.request).toMatchObject({
        keyType: 'secp256k1',
        walletId: 'wallet-1',
        txId: 'tx-1',
        tx: digest(1),
        derivationPath: [44, 60, 0, 0, 5],
        networkInternalCode: 'eth-mainnet',
      });
      await s.node.replySigning(sgReq, { keyType: 'secp256k1', r: digest(2), s: digest(3), recoveryId: 1 });
      expect(await sg).toEqual({
        walletId: 'wallet-1',
        txId: 'tx-1',
        networkInternalCode: 'eth-mainnet',
        keyType: 'secp256k1',
        r: digest(2),
        s: digest(3),
        recoveryId: 1,
      });

      const rs = s.client.reshare({
        walletId: 'wallet-1',
        keyType: 'ed25519',
        newThreshold: 1,
        nodeIds: ['n1', 'n2', 'n3'],
        sessionId: 'sess-1',
      });
      const rsReq = await s.node.next();
      expect(rsReq).toMatchObject({ op: 'reshare', subject: RESHARE_REQUEST_SUBJECT, clientId: 'svc-a' });
      await s.node.replyReshare(rsReq, { publicKey: ED });
      expect(await rs).toEqual({
        walletId: 'wallet-1',
        sessionId: 'sess-1',
        keyType: 'ed25519',
        newThreshold: 1,
        publicKey: ED,
      });
      expect(s.node.refused).toEqual([]);
      await s.done();
    });
  }

  it("a node that does not trust the client's keys refuses its requests, and the request rejects with that result's code", async () => {
    const wrong = keyPair('ed25519');
    const s = await setup({ initiator: keyPair('ed25519').signer, nodeInitiator: wrong.verifying });
    const err = await s.client.createWallet('w-untrusted').catch((e) => e);
    expect(err).toBeInstanceOf(OperationFailedError);
    expect(err).toMatchObject({
      errorCode: 'ERROR_INVALID_INITIATOR_SIGNATURE',
      operation: 'keygen',
      id: 'w-untrusted',
    });
    expect(s.node.refused.map((r) => r.code)).toEqual(['ERROR_INVALID_INITIATOR_SIGNATURE']);
    await s.done();

    const a = authorizer('ops', 'p256');
    const policy = { enabled: true, required: ['ops', 'legal'], keys: new Map([['ops', a.verifying]]) };
    const init = keyPair('p256');
    const t = await setup({ initiator: init.signer, nodeInitiator: init.verifying, authorizers: [a.signer], policy });
    await expect(t.client.createWallet('w-2')).rejects.toMatchObject({
      errorCode: 'ERROR_MISSING_AUTHORIZER_SIGNATURE',
    });
    await t.done();
  });
});

describe("requests are mpcium's Go client's, byte for byte", () => {
  it('the initiator and authorizers sign the api’s Go-style bytes, and the published JSON is Go’s marshal, for ids and tx with special characters', async () => {
    const signedByInitiator: string[] = [];
    const signedByAuthorizer: string[] = [];
    const initiator: InitiatorSigner = {
      algorithm: 'ed25519',
      sign: (d) => {
        signedByInitiator.push(text(d));
        return Uint8Array.of(1, 2, 3);
      },
    };
    const ops: AuthorizerSigner = {
      id: 'ops<1>',
      algorithm: 'p256',
      sign: async (d) => {
        signedByAuthorizer.push(text(d));
        return Uint8Array.of(4, 5);
      },
    };
    const s = await setup({
      initiator,
      nodeInitiator: keyPair('ed25519').verifying,
      authorizers: [ops],
      client: { clientId: 'svc-é', resultTimeoutMs: 60_000 },
    });
    await s.node.stop(); // a raw spy takes the requests instead of the node
    const seen: WorkMessage[] = [];
    const bus: BusMessage[] = [];
    const spy = s.server.connect();
    spy.consume(
      {
        stream: SIGNING_STREAM,
        durable: 'spy',
        filter: 'mpc.signing_request.*',
        maxDeliver: 1,
        ackWaitMs: 1000,
        maxAckPending: 10,
      },
      (m) => {
        seen.push(m);
        m.ack();
      },
    );
    s.broker.bus().subscribe(RESHARE_REQUEST_SUBJECT, (m) => {
      bus.push(m);
    });

    const walletId = 'w<1&é😀';
    const txId = "tx'<&";
    const tx = Uint8Array.of(0, 255);
    const pending = s.client.sign({
      walletId,
      keyType: 'ed25519',
      tx,
      txId,
      derivationPath: [0, 2 ** 31 - 1],
      networkInternalCode: 'net\u2028"x"',
    });
    await until(() => seen.length === 1);
    const raw =
      '{"key_type":"ed25519","wallet_id":"w\\u003c1\\u0026é😀","network_internal_code":"net\\u2028\\"x\\"",' +
      '"tx_id":"tx\'\\u003c\\u0026","tx":"AP8="}';
    expect(signedByInitiator).toEqual([raw]);
    expect(raw).toBe(
      text(signTxSignedBytes({ keyType: 'ed25519', walletId, networkInternalCode: 'net\u2028"x"', txId, tx })),
    );
    const authRaw = `{"initiator_id":"tx'\\u003c\\u0026","initiator_raw":"${b64(new TextEncoder().encode(raw))}","initiator_sig":"AQID"}`;
    expect(signedByAuthorizer).toEqual([authRaw]);
    expect(authRaw).toBe(text(authorizerSignedBytes(txId, new TextEncoder().encode(raw), Uint8Array.of(1, 2, 3))));
    const m = seen[0]!;
    expect(m.subject).toBe(`mpc.signing_request.${txId}`);
    expect(Object.fromEntries(m.headers)).toEqual({ [CLIENT_ID_HEADER]: 'svc-é' }); // no Nats-Msg-Id, as Go's client
    expect(text(m.data)).toBe(
      `${raw.slice(0, -1)},"signature":"AQID","derivation_path":[0,2147483647],` +
        '"authorizer_signatures":[{"authorizer_id":"ops\\u003c1\\u003e","signature":"BAU="}]}',
    );

    const kg = s.client.createWallet(walletId);
    await until(() => signedByInitiator.length === 2);
    expect(signedByInitiator[1]).toBe(text(generateKeySignedBytes({ walletId })));
    expect(signedByInitiator[1]).toBe(walletId);

    const rs = s.client.reshare({
      walletId,
      keyType: 'secp256k1',
      newThreshold: 1,
      nodeIds: ['n&1', 'n2'],
      sessionId: 's<1',
    });
    await until(() => bus.length === 1);
    const rsRaw =
      '{"session_id":"s\\u003c1","node_ids":["n\\u00261","n2"],"new_threshold":1,"key_type":"secp256k1",' +
      '"wallet_id":"w\\u003c1\\u0026é😀"}';
    expect(signedByInitiator[2]).toBe(rsRaw);
    expect(rsRaw).toBe(
      text(
        resharingSignedBytes({
          sessionId: 's<1',
          nodeIds: ['n&1', 'n2'],
          newThreshold: 1,
          keyType: 'secp256k1',
          walletId,
        }),
      ),
    );
    expect(text(bus[0]!.data)).toBe(
      `${rsRaw.slice(0, -1)},"signature":"AQID","authorizer_signatures":[{"authorizer_id":"ops\\u003c1\\u003e","signature":"BAU="}]}`,
    );
    expect(Object.fromEntries(bus[0]!.headers)).toEqual({ [CLIENT_ID_HEADER]: 'svc-é' });

    await s.client.close();
    for (const p of [pending, kg, rs]) await expect(p).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await spy.close();
    await s.done();
  });

  it('without a client id a request carries no headers and results come on the unscoped subjects', async () => {
    const s = await setup();
    const p = s.client.createWallet('w-plain');
    const r = await s.node.next();
    expect(r.headers.size).toBe(0);
    expect(r.clientId).toBeUndefined();
    await s.node.replyKeygen(r, { ecdsaPublicKeyXY: XY, eddsaPublicKey: ED });
    await expect(p).resolves.toMatchObject({ walletId: 'w-plain' });
    await s.done();
  });
});
