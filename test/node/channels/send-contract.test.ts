import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '../../../src/common/errors.js';
import { Channel, MAX_COUNTER } from '../../../src/node/channels/channel.js';
import { decodeDataFrame } from '../../../src/node/channels/wire.js';
import { Channels, MAX_CHANNEL_PAYLOAD_BYTES } from '../../../src/node/index.js';
import { MemoryBroker } from '../../../src/transport/index.js';
import { framesTo, identity, msg, PREFIX, settle, startCluster, type TestCluster, waitFor } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('send refuses what it cannot deliver, with typed errors', () => {
  it('bad fields, unknown peers and a direct message to self are refused before anything is sent', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a').channels;
    const bad: [string, Promise<void>, new (...args: never[]) => Error][] = [
      ['unknown direct peer', a.send(msg('s', 'x', 'zed'), []), NotFoundError],
      ['unknown broadcast recipient', a.send(msg('s', 'x', null), ['b', 'zed']), NotFoundError],
      ['direct to self', a.send(msg('s', 'x', 'a'), []), InvalidArgumentError],
      ['kind 256', a.send({ ...msg('s', 'x', 'b'), kind: 256 }, []), InvalidArgumentError],
      ['round -1', a.send({ ...msg('s', 'x', 'b'), round: -1 }, []), InvalidArgumentError],
      ['round 1.5', a.send({ ...msg('s', 'x', 'b'), round: 1.5 }, []), InvalidArgumentError],
      ['session id of 257 bytes', a.send(msg('s'.repeat(257), 'x', 'b'), []), InvalidArgumentError],
      ['lone surrogate in session id', a.send(msg('s\uD800', 'x', 'b'), []), InvalidArgumentError],
      [
        'payload over the limit',
        a.send({ ...msg('s', '', 'b'), payload: new Uint8Array(MAX_CHANNEL_PAYLOAD_BYTES + 1) }, []),
        InvalidArgumentError,
      ],
    ];
    for (const [what, p, type] of bad) await expect(p, what).rejects.toBeInstanceOf(type);
    await settle();
    expect(cluster.node('a').bus.sent).toEqual([]);
  });

  it('the largest payload goes through; a broadcast to nobody but self resolves and sends nothing', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    await a.channels.send(msg('s', 'x', null), ['a']);
    expect(a.bus.sent).toEqual([]);
    const big = new Uint8Array(MAX_CHANNEL_PAYLOAD_BYTES).fill(9);
    await a.channels.send({ ...msg('s', '', null), payload: big }, ['b']);
    await waitFor(() => cluster!.node('b').inbox.length === 1);
    expect(Buffer.from(cluster.node('b').inbox[0]!.payload).equals(big)).toBe(true);
  });

  it('send before start and after close rejects with InvalidStateError; close rejects queued sends', async () => {
    const broker = new MemoryBroker();
    const ids = { a: identity(), b: identity() };
    const peers = new Map(Object.entries(ids).map(([k, v]) => [k, v.publicRaw]));
    const mk = (self: 'a' | 'b') =>
      new Channels({ self, identityKey: ids[self].key, peers, bus: broker.bus(), subjectPrefix: PREFIX });
    const a = mk('a');
    await expect(a.send(msg('s', 'x', 'b'), [])).rejects.toBeInstanceOf(InvalidStateError);
    await a.start();
    await expect(a.start()).rejects.toBeInstanceOf(InvalidStateError);
    const silent = broker.bus().subscribe(`${PREFIX}.node.b.hs`, () => {});
    const queued = a.send(msg('s', 'x', 'b'), []);
    await a.close();
    await expect(queued).rejects.toBeInstanceOf(InvalidStateError);
    await expect(a.send(msg('s', 'x', 'b'), [])).rejects.toBeInstanceOf(InvalidStateError);
    silent.unsubscribe();
  });

  it('at most maxPendingSends messages wait for handshakes; more are refused, the queued ones still go out', async () => {
    cluster = await startCluster(['a', 'b'], { maxPendingSends: 3 });
    const a = cluster.node('a');
    const queued = [1, 2, 3].map((i) => a.channels.send(msg('s', `m${i}`, 'b'), []));
    await expect(a.channels.send(msg('s', 'm4', 'b'), [])).rejects.toBeInstanceOf(InvalidStateError);
    await Promise.all(queued);
    await waitFor(() => cluster!.node('b').inbox.length === 3);
    await expect(a.channels.send(msg('s', 'm5', 'b'), [])).resolves.toBeUndefined();
  });

  it('a peer with no node listening: the send rejects with NotFoundError (no responders)', async () => {
    cluster = await startCluster(['a'], {}, new Map([['ghost', identity()]]));
    await expect(cluster.node('a').channels.send(msg('s', 'x', 'ghost'), [])).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('the constructor refuses options that cannot work', () => {
  const base = () => {
    const me = identity();
    return {
      self: 'a',
      identityKey: me.key,
      peers: new Map([['a', me.publicRaw]]),
      bus: new MemoryBroker().bus(),
      subjectPrefix: PREFIX,
    };
  };
  const cases: [string, (o: ReturnType<typeof base>) => object][] = [
    ['a node id with a dot', (o) => ({ ...o, self: 'a.b' })],
    ['a peer id with a wildcard', (o) => ({ ...o, peers: new Map([...o.peers, ['*', identity().publicRaw]]) })],
    ['an identity key that is not Ed25519', (o) => ({ ...o, identityKey: generateKeyPairSync('x25519').privateKey })],
    ['a public identity key', (o) => ({ ...o, identityKey: generateKeyPairSync('ed25519').publicKey })],
    ['self listed with another key', (o) => ({ ...o, peers: new Map([['a', identity().publicRaw]]) })],
    ['a peer key of 31 bytes', (o) => ({ ...o, peers: new Map([...o.peers, ['b', new Uint8Array(31)]]) })],
    ['a prefix with a wildcard', (o) => ({ ...o, subjectPrefix: 'tessera.*' })],
    ['a zero timeout', (o) => ({ ...o, handshakeTimeoutMs: 0 })],
    ['a boot epoch of 8 bytes', (o) => ({ ...o, bootEpoch: new Uint8Array(8) })],
  ];
  for (const [what, make] of cases)
    it(`${what}: InvalidArgumentError`, () => {
      expect(() => new Channels(make(base()) as never)).toThrow(InvalidArgumentError);
    });
  it('positive control: the base options are accepted', () => {
    expect(new Channels(base())).toBeInstanceOf(Channels);
  });
});

describe('nonces never repeat under one key', () => {
  it('the counter of a channel direction strictly increases from 1, across sessions, directs and broadcasts', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    for (let i = 0; i < 10; i++) await a.channels.send(msg(`s${i % 3}`, `m${i}`, i % 2 ? null : 'b'), ['b']);
    const frames = framesTo(a, 'b').map(decodeDataFrame);
    expect(frames.map((f) => f.counter)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(new Set(frames.map((f) => Buffer.from(f.channelId).toString('hex'))).size).toBe(1);
  });

  it('both directions of a channel use different keys: a frame reflected back to its sender does not open', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    await a.channels.send(msg('s', 'x', 'b'), []);
    await waitFor(() => b.inbox.length === 1);
    await b.channels.send(msg('s', 'y', 'a'), []);
    await waitFor(() => a.inbox.length === 1);
    const {
      decodeDataFrame: d,
      encodeDataFrame: e,
      encodeDataHeader: h,
    } = await import('../../../src/node/channels/wire.js');
    const f = d(framesTo(a, 'b')[0]!);
    // the same frame presented to a as if b had sent it, with a fresh counter
    cluster.raw.publish(`${PREFIX}.node.a.msg`, e(h({ ...f, from: 'b', to: 'a', counter: 99 }), f.sealed));
    await waitFor(() => a.rejects.length === 1);
    expect(a.rejects[0]!.reason).toMatch(/authentication failed/);
  });

  it('a channel opens a counter only once and only above the last opened one, itself (not only its caller)', () => {
    const pair = (sendByte: number, recvByte: number) => ({
      channelId: new Uint8Array(16),
      peer: 'x',
      peerEpoch: new Uint8Array(16),
      initiator: true,
      sendKey: Buffer.alloc(32, sendByte),
      recvKey: Buffer.alloc(32, recvByte),
    });
    const sender = new Channel(pair(1, 2));
    const receiver = new Channel(pair(2, 1));
    const header = { from: 'a', to: 'b', sessionId: 's', kind: 1, round: 0, mode: 0, seq: 0 };
    const f1 = decodeDataFrame(sender.seal(header, Uint8Array.of(1)));
    const f2 = decodeDataFrame(sender.seal(header, Uint8Array.of(2)));
    expect(receiver.open(f2)).toEqual(Buffer.from([2]));
    expect(receiver.open(f1)).toBeUndefined();
    expect(receiver.open(f2)).toBeUndefined();
  });

  it('a channel refuses to seal once its counter is spent, and wipes its keys', () => {
    const keys = () => ({
      channelId: new Uint8Array(16),
      peer: 'b',
      peerEpoch: new Uint8Array(16),
      initiator: true,
      sendKey: Buffer.alloc(32, 1),
      recvKey: Buffer.alloc(32, 2),
    });
    const header = { from: 'a', to: 'b', sessionId: 's', kind: 1, round: 0, mode: 0, seq: 0 };
    const ch = new Channel(keys(), MAX_COUNTER - 1);
    expect(decodeDataFrame(ch.seal(header, new Uint8Array(1))).counter).toBe(MAX_COUNTER);
    expect(ch.exhausted).toBe(true);
    expect(() => ch.seal(header, new Uint8Array(1))).toThrow(InvalidStateError);
    const k = keys();
    const fresh = new Channel(k);
    fresh.wipe();
    expect(k.sendKey.every((x) => x === 0) && k.recvKey.every((x) => x === 0)).toBe(true);
    expect(() => fresh.seal(header, new Uint8Array(1))).toThrow(InvalidStateError);
  });
});
