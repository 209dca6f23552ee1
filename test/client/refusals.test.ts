import { describe, expect, it } from 'vitest';
import { KEYGEN_STREAM, RESHARE_REQUEST_SUBJECT, SIGNING_STREAM } from '../../src/api/index.js';
import { type InitiatorSigner, MpcClient, type SignRequest } from '../../src/client/index.js';
import { MemoryBroker, MemoryJetStream } from '../../src/transport/index.js';
import { digest, keyPair } from './helpers.js';

/** A client with no node: whatever it publishes stays in the streams (or reaches the bus spy). */
async function lonelyClient() {
  const server = new MemoryJetStream();
  const broker = new MemoryBroker();
  let signed = 0;
  const inner = keyPair('ed25519').signer;
  const initiator: InitiatorSigner = {
    algorithm: 'ed25519',
    sign: (d) => {
      signed++;
      return inner.sign(d);
    },
  };
  const client = await MpcClient.create({ workQueue: server.connect(), bus: broker.bus(), initiator });
  let onBus = 0;
  broker.bus().subscribe(RESHARE_REQUEST_SUBJECT, () => {
    onBus++;
  });
  const published = () =>
    (server.streams.get(KEYGEN_STREAM)?.messages.size ?? 0) +
    (server.streams.get(SIGNING_STREAM)?.messages.size ?? 0) +
    onBus;
  return { server, client, published, signed: () => signed };
}

const good: SignRequest = { walletId: 'w', keyType: 'secp256k1', tx: digest(1), txId: 't' };

describe('bad requests are refused before anything is signed or published', () => {
  it('bad wallet and tx ids, a secp256k1 tx that is not 32 bytes, an empty tx, a hardened path, a bad key type: InvalidArgumentError', async () => {
    const c = await lonelyClient();
    const bad: [string, Partial<Record<keyof SignRequest, unknown>>][] = [
      ['wallet id with a dot', { walletId: 'a.b' }],
      ['wallet id with a space', { walletId: 'a b' }],
      ['empty wallet id', { walletId: '' }],
      ['wildcard wallet id', { walletId: 'w*' }],
      ['JSON in a wallet id', { walletId: '{"a"}' }],
      ['a lone surrogate', { walletId: 'w\ud800' }],
      ['a wallet id that is not a string', { walletId: 7 }],
      ['tx id with >', { txId: 'a>b' }],
      ['tx id over 256 bytes', { txId: 'x'.repeat(257) }],
      ['31-byte secp256k1 tx', { tx: new Uint8Array(31) }],
      ['33-byte secp256k1 tx', { tx: new Uint8Array(33) }],
      ['empty ed25519 tx', { keyType: 'ed25519', tx: new Uint8Array(0) }],
      ['tx not bytes', { tx: 'abc' }],
      ['hardened index', { derivationPath: [44, 0x80000000] }],
      ['negative index', { derivationPath: [-1] }],
      ['fractional index', { derivationPath: [0.5] }],
      ['key type', { keyType: 'rsa' }],
      ['network code with a lone surrogate', { networkInternalCode: '\udc00' }],
      ['timeout', { timeoutMs: 0 }],
    ];
    for (const [what, change] of bad) {
      const err = await c.client.sign({ ...good, ...change } as SignRequest).catch((e) => e);
      expect(err, what).toMatchObject({ code: 'INVALID_ARGUMENT', name: 'InvalidArgumentError' });
    }
    for (const w of ['a.b', '', 'x y', '[1]', 'w\ud800'])
      await expect(c.client.createWallet(w), w).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const reshare = { walletId: 'w', keyType: 'ed25519' as const, newThreshold: 1, nodeIds: ['a', 'b'] };
    for (const change of [
      { nodeIds: ['a', 'a'] },
      { nodeIds: ['a'] },
      { newThreshold: 2 },
      { newThreshold: 0 },
      { newThreshold: 1.5 },
      { sessionId: 's.1' },
      { nodeIds: 'a,b' },
    ])
      await expect(
        c.client.reshare({ ...reshare, ...change } as typeof reshare),
        JSON.stringify(change),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    expect(c.signed()).toBe(0);
    expect(c.published()).toBe(0);
    // the same requests, well formed, do go out
    void c.client.sign(good).catch(() => {});
    void c.client.reshare(reshare).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    expect(c.published()).toBe(2);
    await c.client.close();
  });

  it('a reshare without a bus is InvalidStateError; bad client options are InvalidArgumentError', async () => {
    const server = new MemoryJetStream();
    const initiator = keyPair('ed25519').signer;
    const c = await MpcClient.create({ workQueue: server.connect(), initiator });
    await expect(
      c.reshare({ walletId: 'w', keyType: 'ed25519', newThreshold: 1, nodeIds: ['a', 'b'] }),
    ).rejects.toMatchObject({ code: 'INVALID_STATE', message: /bus/ });
    await c.close();
    const a = { id: 'ops', ...keyPair('p256').signer };
    for (const opts of [
      { clientId: 'svc.a' },
      { clientId: 'svc a' },
      { authorizers: [a, a] },
      { authorizers: [{ ...a, id: '' }] },
      { resultTimeoutMs: -1 },
      { maxPending: 0 },
      { resultBufferSize: 1.5 },
      { initiator: {} as InitiatorSigner },
    ])
      await expect(
        MpcClient.create({ workQueue: server.connect(), initiator, ...opts }),
        JSON.stringify(opts),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
  });
});
