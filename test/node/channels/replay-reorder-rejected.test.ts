import { afterEach, describe, expect, it } from 'vitest';
import { SessionSequences } from '../../../src/node/channels/replay-window.js';
import { decodeDataFrame, encodeDataFrame, encodeDataHeader } from '../../../src/node/channels/wire.js';
import { msg, PREFIX, startCluster, type TestCluster, texts, waitFor } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function twoNodes() {
  cluster = await startCluster(['a', 'b']);
  return {
    a: cluster.node('a'),
    b: cluster.node('b'),
    publish: (f: Uint8Array) => cluster!.raw.publish(`${PREFIX}.node.b.msg`, f),
  };
}

describe('replayed and reordered frames are refused', () => {
  it('a frame delivered once and replayed is refused; later frames still flow', async () => {
    const { a, b, publish } = await twoNodes();
    await a.channels.send(msg('s', 'm0', 'b'), []);
    await waitFor(() => b.inbox.length === 1);
    const frame = a.bus.sent.find((s) => s.subject.endsWith('.node.b.msg'))!.data;
    publish(frame);
    publish(frame);
    await waitFor(() => b.rejects.length === 2);
    expect(b.rejects.map((r) => r.reason)).toEqual([
      'replayed or reordered frame (channel counter not increasing)',
      'replayed or reordered frame (channel counter not increasing)',
    ]);
    await a.channels.send(msg('s', 'm1', 'b'), []);
    await waitFor(() => b.inbox.length === 2);
    expect(texts(b.inbox)).toEqual(['m0', 'm1']);
  });

  it('two frames swapped on the wire are both refused (the later one out of sequence, the earlier one stale)', async () => {
    const { a, b, publish } = await twoNodes();
    a.bus.filter = (subject) => !subject.endsWith('.node.b.msg');
    await a.channels.send(msg('s', 'm0', 'b'), []);
    await a.channels.send(msg('s', 'm1', 'b'), []);
    const [f0, f1] = a.bus.held.map((h) => h.data);
    publish(f1!);
    publish(f0!);
    await waitFor(() => b.rejects.length === 2);
    expect(b.rejects.map((r) => r.reason)).toEqual([
      'out of sequence in the session (expected 0, got 1)',
      'replayed or reordered frame (channel counter not increasing)',
    ]);
    expect(b.inbox).toEqual([]);
  });

  it('a frame lost in the middle of a session makes the next one of that session refused (no silent gap)', async () => {
    const { a, b, publish } = await twoNodes();
    a.bus.filter = (subject) => !subject.endsWith('.node.b.msg');
    for (const t of ['m0', 'm1', 'm2']) await a.channels.send(msg('s', t, 'b'), []);
    const [f0, , f2] = a.bus.held.map((h) => h.data);
    publish(f0!);
    publish(f2!);
    await waitFor(() => b.rejects.length === 1);
    expect(texts(b.inbox)).toEqual(['m0']);
    expect(b.rejects[0]!.reason).toBe('out of sequence in the session (expected 1, got 2)');
  });

  it('sessions are sequenced independently: interleaved sessions are all delivered', async () => {
    const { a, b } = await twoNodes();
    for (let i = 0; i < 6; i++) await a.channels.send(msg(i % 2 ? 'odd' : 'even', `m${i}`, 'b'), []);
    await waitFor(() => b.inbox.length === 6);
    expect(b.rejects).toEqual([]);
  });
});

describe('a message of one session presented in another is refused', () => {
  it("a frame of session A relabelled as session B fails authentication and B's own messages still flow", async () => {
    const { a, b, publish } = await twoNodes();
    a.bus.filter = (subject) => !subject.endsWith('.node.b.msg');
    await a.channels.send(msg('session-A', 'for A', 'b'), []);
    const f = decodeDataFrame(a.bus.held[0]!.data);
    publish(encodeDataFrame(encodeDataHeader({ ...f, sessionId: 'session-B' }), f.sealed));
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]).toEqual({
      peer: 'a',
      sessionId: 'session-B',
      reason: 'authentication failed (ciphertext, tag or header altered)',
      authenticated: false,
    });
    a.bus.filter = undefined;
    await a.channels.send(msg('session-B', 'for B', 'b'), []);
    await waitFor(() => b.inbox.length === 1);
    expect(b.inbox[0]!.sessionId).toBe('session-B');
    expect(texts(b.inbox)).toEqual(['for B']);
  });
});

describe('the tracked sessions are bounded (least recently used forgotten, fail closed)', () => {
  it('SessionSequences keeps at most its bound; a forgotten session starts again at 0; a touched one survives', () => {
    const s = new SessionSequences(2);
    s.set('a', 's1', 5);
    s.set('a', 's2', 6);
    expect(s.get('a', 's1')).toBe(5); // s1 now most recent
    s.set('a', 's3', 1);
    expect(s.size).toBe(2);
    expect(s.get('a', 's2')).toBe(0);
    expect(s.get('a', 's1')).toBe(5);
    s.clearPeer('a');
    expect(s.size).toBe(0);
  });

  it('a receiver that forgot a session refuses its next message instead of accepting it', async () => {
    cluster = await startCluster(['a', 'b'], {}, new Map(), { b: { maxTrackedSessions: 2 } });
    const a = cluster.node('a');
    const b = cluster.node('b');
    for (const s of ['s1', 's2', 's3']) await a.channels.send(msg(s, `${s}-0`, 'b'), []);
    await waitFor(() => b.inbox.length === 3);
    await a.channels.send(msg('s1', 's1-1', 'b'), []);
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]).toEqual({
      peer: 'a',
      sessionId: 's1',
      reason: 'out of sequence in the session (expected 0, got 1)',
      authenticated: true,
    });
    await a.channels.send(msg('s3', 's3-1', 'b'), []);
    await waitFor(() => b.inbox.length === 4);
    expect(texts(b.inbox)).toEqual(['s1-0', 's2-0', 's3-0', 's3-1']);
  });
});
