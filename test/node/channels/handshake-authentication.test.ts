import { sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../src/common/errors.js';
import { Refused } from '../../../src/node/channels/errors.js';
import { answerHello, createHello, type HandshakeContext } from '../../../src/node/channels/handshake.js';
import { decodeHello, helloBody, withSignature } from '../../../src/node/channels/wire.js';
import { ed25519PublicKey } from '../../../src/node/crypto/ed25519.js';
import { ChannelError } from '../../../src/node/index.js';
import { identity, msg, PREFIX, settle, startCluster, type TestCluster, texts, waitFor } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const ctxOf = (self: string, key = identity().key, cluster = PREFIX): HandshakeContext => ({
  cluster,
  self,
  epoch: new Uint8Array(16).fill(1),
  identityKey: key,
});

/** Low-order points of Curve25519 (and non-canonical encodings of them): the shared secret would be public. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => new Uint8Array(Buffer.from(h, 'hex')));

/** A hello from `self` (signed with `key`) to `receiver`, with a chosen ephemeral key. */
function hello(self: string, key: ReturnType<typeof identity>['key'], receiver: string, eph?: Uint8Array, cl = PREFIX) {
  const real = createHello(ctxOf(self, key, cl), receiver);
  if (eph === undefined) return real.bytes;
  const h = decodeHello(real.bytes, false);
  const body = helloBody({ ...h, ephemeral: eph });
  return withSignature(body, new Uint8Array(sign(null, body, key)));
}

describe('a hello is answered only if it is signed by the named member, for this node and cluster, with a usable key', () => {
  const cases: [string, (c: TestCluster) => Uint8Array, string][] = [
    [
      'signed by another key than the claimed sender',
      () => hello('a', identity().key, 'b'),
      'hello signature does not verify',
    ],
    ['naming another receiver', (c) => hello('a', c.identities.get('a')!.key, 'c'), 'hello addressed to another node'],
    [
      'for another cluster',
      (c) => hello('a', c.identities.get('a')!.key, 'b', undefined, 'other.cluster'),
      'hello for another cluster',
    ],
    [
      'from a node that is not a member',
      () => hello('mallory', identity().key, 'b'),
      'hello from a node that is not a peer',
    ],
    [
      'claiming to come from the receiver itself',
      (c) => hello('b', c.identities.get('b')!.key, 'b'),
      'hello claims to come from this node',
    ],
    [
      'with a low-order X25519 key',
      (c) => hello('a', c.identities.get('a')!.key, 'b', LOW_ORDER[2]),
      'low-order or invalid X25519 key',
    ],
  ];
  for (const [what, make, reason] of cases) {
    it(`${what}: refused with a rejection, no reply, no channel`, async () => {
      cluster = await startCluster(['a', 'b', 'c']);
      const b = cluster.node('b');
      const sentBefore = b.bus.sent.length;
      await expect(
        cluster.raw.request(`${PREFIX}.node.b.hs`, make(cluster), { timeoutMs: 150 }),
      ).rejects.toBeInstanceOf(TimeoutError);
      expect(b.rejects.map((r) => r.reason)).toEqual([reason]);
      expect(b.bus.sent.length).toBe(sentBefore);
    });
  }

  it('every low-order point is refused by the responder and by the initiator', () => {
    const a = identity();
    const b = identity();
    for (const point of LOW_ORDER) {
      const bytes = hello('a', a.key, 'b', point);
      expect(() =>
        answerHello(ctxOf('b', b.key), decodeHello(bytes, false), bytes, ed25519PublicKey(a.publicRaw)),
      ).toThrow(Refused);
    }
  });

  it('a malformed hello is refused as malformed', async () => {
    cluster = await startCluster(['a', 'b']);
    const b = cluster.node('b');
    const good = hello('a', cluster.identities.get('a')!.key, 'b');
    cluster.raw.publish(`${PREFIX}.node.b.hs`, good.subarray(0, good.length - 1), { reply: '_INBOX.x' });
    cluster.raw.publish(`${PREFIX}.node.b.hs`, Uint8Array.of(...good, 0), { reply: '_INBOX.x' });
    await waitFor(() => b.rejects.length === 2);
    expect(b.rejects.every((r) => r.reason.startsWith('malformed handshake'))).toBe(true);
  });
});

describe("the initiator accepts only the named peer's signed answer to its own hello", () => {
  /** A member x whose "node" is the test: it answers a's hellos with `answer`. */
  async function withFakeResponder(answer: (helloBytes: Uint8Array, xKey: ReturnType<typeof identity>) => Uint8Array) {
    const x = identity();
    cluster = await startCluster(['a'], {}, new Map([['x', x]]));
    cluster.raw.subscribe(`${PREFIX}.node.x.hs`, (m) => cluster!.raw.publish(m.reply!, answer(m.data, x)));
    return cluster.node('a');
  }
  const honest = (helloBytes: Uint8Array, key: ReturnType<typeof identity>['key'], self = 'x') => {
    const h = decodeHello(helloBytes, false);
    return answerHello(ctxOf(self, key), h, helloBytes, ed25519PublicKey(cluster!.peers.get('a')!)).reply;
  };

  it('positive control: the honest answer sets up the channel', async () => {
    const a = await withFakeResponder((h, x) => honest(h, x.key));
    await expect(a.channels.send(msg('s', 'hi', 'x'), [])).resolves.toBeUndefined();
  });

  const cases: [string, (h: Uint8Array, x: ReturnType<typeof identity>) => Uint8Array, string][] = [
    ['signed by another key', (h) => honest(h, identity().key), 'reply signature does not verify'],
    [
      'answering another hello of a',
      (_h, x) => honest(hello('a', cluster!.identities.get('a')!.key, 'x'), x.key),
      'reply does not answer this hello',
    ],
    ['naming another responder', (h, x) => honest(h, x.key, 'y'), 'reply names other nodes'],
    ['not a reply at all', (h) => h, 'malformed handshake reply'],
    [
      'with a low-order X25519 key',
      (h, x) => {
        const r = decodeHello(honest(h, x.key), true);
        const body = helloBody({ ...r, ephemeral: LOW_ORDER[3]! });
        return withSignature(body, new Uint8Array(sign(null, body, x.key)));
      },
      'low-order or invalid X25519 key',
    ],
  ];
  for (const [what, answer, reason] of cases) {
    it(`a reply ${what} is refused: the send rejects with ChannelError, the rejection is reported`, async () => {
      const a = await withFakeResponder(answer);
      const err = await a.channels.send(msg('s', 'hi', 'x'), []).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).reason).toBe(reason);
      expect((err as ChannelError).code).toBe('CHANNEL_REFUSED');
      expect(a.rejects).toEqual([
        { peer: 'x', sessionId: undefined, reason: `handshake reply refused: ${reason}`, authenticated: false },
      ]);
    });
  }

  it('a silent peer: every queued send rejects with TimeoutError; a later send tries again', async () => {
    const x = identity();
    cluster = await startCluster(['a'], { handshakeTimeoutMs: 100 }, new Map([['x', x]]));
    const a = cluster.node('a');
    const sub = cluster.raw.subscribe(`${PREFIX}.node.x.hs`, () => {});
    const results = await Promise.allSettled([1, 2, 3].map((i) => a.channels.send(msg('s', `m${i}`, 'x'), [])));
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof TimeoutError)).toEqual([true, true, true]);
    sub.unsubscribe();
    cluster.raw.subscribe(`${PREFIX}.node.x.hs`, (m) => {
      const h = decodeHello(m.data, false);
      cluster!.raw.publish(
        m.reply!,
        answerHello(ctxOf('x', x.key), h, m.data, ed25519PublicKey(cluster!.peers.get('a')!)).reply,
      );
    });
    await expect(a.channels.send(msg('s', 'again', 'x'), [])).resolves.toBeUndefined();
  });
});

describe('replayed hellos cannot displace a working channel', () => {
  it("b never answers a replayed hello (nor spends the peer's handshake budget on it), and the live channel keeps working both ways", async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    await a.channels.send(msg('s', 'first', 'b'), []);
    await waitFor(() => b.inbox.length === 1);
    const helloBytes = a.bus.sent.find((s) => s.subject.endsWith('.node.b.hs'))!.data;
    const answers = await Promise.allSettled(
      Array.from({ length: 12 }, () => cluster!.raw.request(`${PREFIX}.node.b.hs`, helloBytes, { timeoutMs: 100 })),
    );
    expect(answers.filter((r) => r.status === 'fulfilled')).toHaveLength(0);
    expect(b.rejects.map((r) => r.reason)).toEqual(Array(12).fill('replayed hello (answered before)'));
    await a.channels.send(msg('s', 'second', 'b'), []);
    await b.channels.send(msg('t', 'back', 'a'), []);
    await waitFor(() => b.inbox.length === 2 && a.inbox.length === 1);
    expect(texts(b.inbox)).toEqual(['first', 'second']);
    expect(texts(a.inbox)).toEqual(['back']);
    await settle();
    expect(a.rejects).toEqual([]);
    // b answered on the channel a set up: no second handshake by either side
    expect(b.bus.sent.filter((s) => s.subject.endsWith('.hs'))).toHaveLength(0);
  });

  it('after simultaneous handshakes both channels carry traffic; replayed hellos evict neither of them', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    await Promise.all([a.channels.send(msg('s', 'a0', 'b'), []), b.channels.send(msg('t', 'b0', 'a'), [])]);
    await waitFor(() => a.inbox.length === 1 && b.inbox.length === 1);
    await Promise.all([a.channels.send(msg('s', 'a1', 'b'), []), b.channels.send(msg('t', 'b1', 'a'), [])]);
    await waitFor(() => a.inbox.length === 2 && b.inbox.length === 2);
    const helloBytes = a.bus.sent.find((s) => s.subject.endsWith('.node.b.hs'))!.data;
    const replays = await Promise.allSettled(
      Array.from({ length: 6 }, () => cluster!.raw.request(`${PREFIX}.node.b.hs`, helloBytes, { timeoutMs: 100 })),
    );
    expect(replays.filter((r) => r.status === 'fulfilled')).toHaveLength(0);
    await Promise.all([a.channels.send(msg('s', 'a2', 'b'), []), b.channels.send(msg('t', 'b2', 'a'), [])]);
    await waitFor(() => a.inbox.length === 3 && b.inbox.length === 3);
    expect(texts(b.inbox)).toEqual(['a0', 'a1', 'a2']);
    expect(texts(a.inbox)).toEqual(['b0', 'b1', 'b2']);
    expect(a.rejects).toEqual([]);
    expect(b.rejects.map((r) => r.reason)).toEqual(Array(6).fill('replayed hello (answered before)'));
  });

  it('hellos with bad signatures do not spend the rate limit: a spoofer cannot lock a member out of handshakes', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    for (let i = 0; i < 20; i++)
      cluster.raw.publish(`${PREFIX}.node.b.hs`, hello('a', identity().key, 'b'), { reply: '_X.y' });
    await waitFor(() => b.rejects.length === 20);
    expect(new Set(b.rejects.map((r) => r.reason))).toEqual(new Set(['hello signature does not verify']));
    await a.channels.send(msg('s', 'still welcome', 'b'), []);
    await waitFor(() => b.inbox.length === 1);
  });
});
