import { afterEach, describe, expect, it } from 'vitest';
import { framesTo, msg, settle, startCluster, type TestCluster, texts, waitFor } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('channels deliver every message once, in send order, from the authenticated sender', () => {
  it('two nodes: direct messages both ways arrive in order, with from set to the sender', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    const sends = [];
    for (let i = 0; i < 20; i++) sends.push(a.channels.send(msg('s1', `a${i}`, 'b'), []));
    for (let i = 0; i < 20; i++) sends.push(b.channels.send(msg('s1', `b${i}`, 'a'), []));
    await Promise.all(sends);
    await waitFor(() => a.inbox.length === 20 && b.inbox.length === 20);
    expect(texts(b.inbox)).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`));
    expect(texts(a.inbox)).toEqual(Array.from({ length: 20 }, (_, i) => `b${i}`));
    expect(b.inbox.every((m) => m.from === 'a' && m.to === 'b' && m.signature === undefined)).toBe(true);
    expect(a.inbox.every((m) => m.from === 'b' && m.to === 'a')).toBe(true);
    expect(a.rejects).toEqual([]);
    expect(b.rejects).toEqual([]);
  });

  it('three nodes: broadcasts and direct messages interleave and keep per-sender order; self is skipped', async () => {
    cluster = await startCluster(['n1', 'n2', 'n3']);
    const all = ['n1', 'n2', 'n3'];
    const [n1, n2, n3] = all.map((id) => cluster!.node(id));
    await Promise.all([
      n1!.channels.send(msg('s', 'b1', null, 1), all),
      n1!.channels.send(msg('s', 'd-to-2', 'n2', 1), all),
      n1!.channels.send(msg('s', 'd-to-3', 'n3', 1), all),
      n2!.channels.send(msg('s', 'b2', null, 1), all),
      n3!.channels.send(msg('s', 'b3', null, 1), all),
      n1!.channels.send(msg('s', 'b1-r2', null, 2), all),
    ]);
    await waitFor(() => n1!.inbox.length === 2 && n2!.inbox.length === 4 && n3!.inbox.length === 4);
    const fromN1 = (n: typeof n1) => texts(n!.inbox.filter((m) => m.from === 'n1'));
    expect(fromN1(n2)).toEqual(['b1', 'd-to-2', 'b1-r2']);
    expect(fromN1(n3)).toEqual(['b1', 'd-to-3', 'b1-r2']);
    expect(texts(n1!.inbox).sort()).toEqual(['b2', 'b3']);
    const b = n2!.inbox.find((m) => m.round === 2)!;
    expect(b.to).toBeNull();
    expect(b.signature).toHaveLength(64);
    expect(b.kind).toBe(1);
    for (const n of [n1, n2, n3]) expect(n!.rejects).toEqual([]);
  });

  it('messages sent while the handshake runs are queued and go out in order after it, one handshake per peer', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    const sends = Array.from({ length: 50 }, (_, i) => a.channels.send(msg(`s${i % 3}`, `m${i}`, 'b'), []));
    await Promise.all(sends);
    await waitFor(() => b.inbox.length === 50);
    expect(texts(b.inbox)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(a.bus.sent.filter((s) => s.subject.endsWith('.node.b.hs'))).toHaveLength(1);
  });

  it('simultaneous handshakes from both sides leave both nodes able to send and receive', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    await Promise.all([a.channels.send(msg('s', 'x', 'b'), []), b.channels.send(msg('s', 'y', 'a'), [])]);
    await Promise.all([a.channels.send(msg('s', 'x2', 'b'), []), b.channels.send(msg('s', 'y2', 'a'), [])]);
    await waitFor(() => a.inbox.length === 2 && b.inbox.length === 2);
    expect(texts(b.inbox)).toEqual(['x', 'x2']);
    expect(texts(a.inbox)).toEqual(['y', 'y2']);
    expect([...a.rejects, ...b.rejects]).toEqual([]);
  });

  it('the payload is encrypted on the wire: no frame contains the plaintext', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const secret = 'a-secret-share-value-0123456789';
    await a.channels.send(msg('s', secret, 'b'), []);
    await a.channels.send(msg('s', secret, null), ['b']);
    await settle();
    const frames = framesTo(a, 'b');
    expect(frames).toHaveLength(2);
    for (const f of frames) expect(Buffer.from(f).includes(Buffer.from(secret))).toBe(false);
    await waitFor(() => cluster!.node('b').inbox.length === 2);
  });

  it('a queued message goes out as it was when sent: changing the buffer afterwards changes nothing', async () => {
    cluster = await startCluster(['a', 'b']);
    const a = cluster.node('a');
    const b = cluster.node('b');
    const direct = new TextEncoder().encode('direct-original');
    const broadcast = new TextEncoder().encode('broadcast-original');
    const sent = [
      a.channels.send({ sessionId: 's', kind: 1, round: 1, to: 'b', payload: direct }, []),
      a.channels.send({ sessionId: 's', kind: 1, round: 1, to: null, payload: broadcast }, ['b']),
    ];
    direct.fill(0x21);
    broadcast.fill(0x21);
    await Promise.all(sent);
    await waitFor(() => b.inbox.length === 2);
    expect(texts(b.inbox)).toEqual(['direct-original', 'broadcast-original']);
    expect(b.rejects).toEqual([]);
  });
});
