import { sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeDataFrame, rekeyBody, withSignature } from '../../../src/node/channels/wire.js';
import { framesTo, identity, msg, PREFIX, settle, startCluster, type TestCluster, texts, waitFor } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const handshakesBy = (n: { bus: { sent: { subject: string }[] } }) =>
  n.bus.sent.filter((s) => s.subject.endsWith('.hs'));

/** a and b exchange one message each way; returns the frames of that exchange. */
async function established() {
  cluster = await startCluster(['a', 'b']);
  const a = cluster.node('a');
  const b = cluster.node('b');
  await a.channels.send(msg('old', 'a0', 'b'), []);
  await waitFor(() => b.inbox.length === 1);
  await b.channels.send(msg('old', 'b0', 'a'), []);
  await waitFor(() => a.inbox.length === 1);
  return { a, b, aToB: framesTo(a, 'b')[0]!, bToA: framesTo(b, 'a')[0]! };
}

describe('a restarted peer gets a fresh handshake, and frames of its old channels are refused', () => {
  it('the restarted node sends first: a accepts its new handshake, drops the old channels, and traffic flows both ways', async () => {
    const { a, aToB, bToA } = await established();
    const b2 = await cluster!.restart('b');
    await b2.channels.send(msg('new', 'hello again', 'a'), []);
    await waitFor(() => a.inbox.length === 2);
    expect(a.inbox[1]!.from).toBe('b');
    await a.channels.send(msg('new', 'welcome back', 'b'), []);
    await waitFor(() => b2.inbox.length === 1);
    expect(texts(b2.inbox)).toEqual(['welcome back']);
    // old frames: b2 never knew their channel, a dropped it when b's new epoch was confirmed
    cluster!.raw.publish(`${PREFIX}.node.b.msg`, aToB);
    cluster!.raw.publish(`${PREFIX}.node.a.msg`, bToA);
    await waitFor(() => b2.rejects.length === 1 && a.rejects.length === 1);
    expect(b2.rejects[0]!.reason).toMatch(/^unknown channel/);
    expect(a.rejects[0]!.reason).toMatch(/^unknown channel/);
    expect(texts(a.inbox)).toEqual(['b0', 'hello again']);
  });

  it("a restarted peer's sequences start again: its session numbers from 0 are accepted, not refused as out of sequence", async () => {
    const { a } = await established();
    const b2 = await cluster!.restart('b');
    // the old b sent seq 0 of session 'old'; the new process starts that count afresh
    await b2.channels.send(msg('old', 'b0 again', 'a'), []);
    await waitFor(() => a.inbox.length === 2);
    expect(texts(a.inbox)).toEqual(['b0', 'b0 again']);
    expect(a.rejects).toEqual([]);
  });

  it('the surviving node sends first: the restarted node refuses the stale channel, sends a rekey notice, and the sender re-handshakes', async () => {
    const { a, aToB } = await established();
    const b2 = await cluster!.restart('b');
    await a.channels.send(msg('lost', 'into the void', 'b'), []);
    await waitFor(() => b2.rejects.length === 1);
    expect(b2.rejects[0]).toEqual({
      peer: 'a',
      sessionId: 'lost',
      reason: 'unknown channel (rekey notice sent)',
      authenticated: false,
    });
    await waitFor(() => handshakesBy(a).length === 2, 3000, "a's second handshake");
    await a.channels.send(msg('new', 'after rekey', 'b'), []);
    await waitFor(() => b2.inbox.length === 1);
    expect(texts(b2.inbox)).toEqual(['after rekey']);
    expect(b2.inbox[0]!.from).toBe('a');
    cluster!.raw.publish(`${PREFIX}.node.b.msg`, aToB);
    await waitFor(() => b2.rejects.length === 2);
    expect(b2.rejects[1]!.reason).toMatch(/^unknown channel/);
    expect(b2.inbox).toHaveLength(1);
  });

  it('frames sent on the new channel use new keys: their channel id differs from the old one', async () => {
    const { a, aToB } = await established();
    await cluster!.restart('b');
    const b2 = cluster!.node('b');
    await b2.channels.send(msg('new', 'x', 'a'), []);
    await waitFor(() => a.inbox.length === 2);
    await a.channels.send(msg('new', 'y', 'b'), []);
    const frames = framesTo(a, 'b');
    expect(Buffer.from(decodeDataFrame(frames.at(-1)!).channelId)).not.toEqual(
      Buffer.from(decodeDataFrame(aToB).channelId),
    );
  });
});

describe('resetPeer drops the keys and the next send re-handshakes', () => {
  it('after resetPeer a session continues in sequence over the new channel; the old channel is refused', async () => {
    const { a, b, aToB } = await established();
    a.channels.resetPeer('b');
    b.channels.resetPeer('a');
    await a.channels.send(msg('old', 'a1', 'b'), []);
    await waitFor(() => b.inbox.length === 2);
    expect(texts(b.inbox)).toEqual(['a0', 'a1']);
    expect(handshakesBy(a)).toHaveLength(2);
    cluster!.raw.publish(`${PREFIX}.node.b.msg`, aToB);
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]!.reason).toMatch(/^unknown channel/);
    a.channels.resetPeer('not-a-member'); // does nothing, does not throw
  });
});

describe('rekey notices are authenticated', () => {
  it('a notice not signed by the peer is refused and the channel stays: no new handshake', async () => {
    const { a, b, aToB } = await established();
    const body = rekeyBody({ cluster: PREFIX, from: 'b', to: 'a', channelId: decodeDataFrame(aToB).channelId });
    cluster!.raw.publish(
      `${PREFIX}.node.a.rekey`,
      withSignature(body, new Uint8Array(sign(null, body, identity().key))),
    );
    await waitFor(() => a.rejects.length === 1);
    expect(a.rejects[0]).toEqual({
      peer: 'b',
      sessionId: undefined,
      reason: 'rekey notice signature does not verify',
      authenticated: false,
    });
    await a.channels.send(msg('old', 'a1', 'b'), []);
    await waitFor(() => b.inbox.length === 2);
    expect(handshakesBy(a)).toHaveLength(1);
  });

  it('a notice signed by the peer for the live channel makes the sender drop it and re-handshake', async () => {
    const { a, b, aToB } = await established();
    const body = rekeyBody({ cluster: PREFIX, from: 'b', to: 'a', channelId: decodeDataFrame(aToB).channelId });
    const bKey = cluster!.identities.get('b')!.key;
    cluster!.raw.publish(`${PREFIX}.node.a.rekey`, withSignature(body, new Uint8Array(sign(null, body, bKey))));
    await waitFor(() => handshakesBy(a).length === 2);
    await a.channels.send(msg('old', 'a1', 'b'), []);
    await waitFor(() => b.inbox.length === 2);
    await settle();
    expect(a.rejects).toEqual([]);
  });

  it("a member's notice about a channel it does not share (another pair's) is ignored", async () => {
    cluster = await startCluster(['a', 'b', 'c']);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => cluster!.node(id));
    await a!.channels.send(msg('s', 'a0', 'b'), []);
    await waitFor(() => b!.inbox.length === 1);
    const body = rekeyBody({
      cluster: PREFIX,
      from: 'c',
      to: 'a',
      channelId: decodeDataFrame(framesTo(a!, 'b')[0]!).channelId,
    });
    const cKey = cluster.identities.get('c')!.key;
    cluster.raw.publish(`${PREFIX}.node.a.rekey`, withSignature(body, new Uint8Array(sign(null, body, cKey))));
    await settle();
    await a!.channels.send(msg('s', 'a1', 'b'), []);
    await waitFor(() => b!.inbox.length === 2);
    expect(handshakesBy(a!)).toHaveLength(1);
    expect([...a!.rejects, ...b!.rejects, ...c!.rejects]).toEqual([]);
  });
});
