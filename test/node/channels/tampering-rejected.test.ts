import { afterEach, describe, expect, it } from 'vitest';
import {
  type DataHeader,
  decodeDataFrame,
  encodeDataFrame,
  encodeDataHeader,
  MODE_BROADCAST,
} from '../../../src/node/channels/wire.js';
import {
  framesTo,
  handDrivenChannel,
  identity,
  msg,
  PREFIX,
  settle,
  startCluster,
  type TestCluster,
  texts,
  waitFor,
} from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** The frame with header fields changed and the same sealed bytes (what an attacker on the bus can do). */
function relabel(frame: Uint8Array, change: Partial<DataHeader>): Uint8Array {
  const f = decodeDataFrame(frame);
  return encodeDataFrame(encodeDataHeader({ ...f, ...change }), f.sealed);
}

function flipByte(frame: Uint8Array, fromEnd: number): Uint8Array {
  const out = Uint8Array.from(frame);
  out[out.length - fromEnd]! ^= 0x01;
  return out;
}

/** Starts a and b, lets a's next frame to b be held back, and returns it. */
async function heldFrame(text = 'hello', to: string | null = 'b') {
  cluster = await startCluster(['a', 'b', 'c']);
  const a = cluster.node('a');
  const b = cluster.node('b');
  a.bus.filter = (subject) => !subject.endsWith('.node.b.msg');
  await a.channels.send(msg('s', text, to), ['b']);
  expect(a.bus.held).toHaveLength(1);
  return { a, b, frame: a.bus.held[0]!.data };
}

describe('a frame changed on the wire is refused, and does not stop the genuine one', () => {
  const tamperings: [string, (f: Uint8Array) => Uint8Array][] = [
    ['a ciphertext byte', (f) => flipByte(f, 20)],
    ['a tag byte', (f) => flipByte(f, 1)],
    ['the round (AAD)', (f) => relabel(f, { round: 2 })],
    ['the kind (AAD)', (f) => relabel(f, { kind: 2 })],
    ['the direct/broadcast mode (AAD)', (f) => relabel(f, { mode: MODE_BROADCAST })],
    ['the session sequence (AAD)', (f) => relabel(f, { seq: 1 })],
    ['the counter (nonce)', (f) => relabel(f, { counter: 2 })],
  ];
  for (const [what, tamper] of tamperings) {
    it(`${what} changed: refused as an authentication failure; the untouched frame is then accepted`, async () => {
      const { b, frame } = await heldFrame();
      cluster!.raw.publish(`${PREFIX}.node.b.msg`, tamper(frame));
      await waitFor(() => b.rejects.length === 1);
      expect(b.rejects[0]).toEqual({
        peer: 'a',
        sessionId: 's',
        reason: 'authentication failed (ciphertext, tag or header altered)',
        authenticated: false,
      });
      expect(b.inbox).toEqual([]);
      cluster!.raw.publish(`${PREFIX}.node.b.msg`, frame);
      await waitFor(() => b.inbox.length === 1);
      expect(texts(b.inbox)).toEqual(['hello']);
    });
  }

  it('a broadcast whose ciphertext is changed is refused too', async () => {
    const { b, frame } = await heldFrame('bc', null);
    cluster!.raw.publish(`${PREFIX}.node.b.msg`, flipByte(frame, 30));
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]!.reason).toMatch(/authentication failed/);
    expect(b.inbox).toEqual([]);
  });

  it('a frame sent to b and presented to c is refused (addressed to another node; relabelled: unknown channel)', async () => {
    const { frame } = await heldFrame();
    const c = cluster!.node('c');
    cluster!.raw.publish(`${PREFIX}.node.c.msg`, frame);
    cluster!.raw.publish(`${PREFIX}.node.c.msg`, relabel(frame, { to: 'c' }));
    await waitFor(() => c.rejects.length === 2);
    expect(c.rejects.map((r) => r.reason)).toEqual([
      'data frame addressed to another node',
      'unknown channel (rekey notice sent)',
    ]);
    expect(c.inbox).toEqual([]);
  });
});

describe("the sender is the channel's peer: a frame claiming another sender is refused", () => {
  it('a frame of a relabelled as coming from c is refused before decryption', async () => {
    const { b, frame } = await heldFrame();
    cluster!.raw.publish(`${PREFIX}.node.b.msg`, relabel(frame, { from: 'c' }));
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]).toEqual({
      peer: 'a',
      sessionId: 's',
      reason: "claimed sender differs from the channel's peer",
      authenticated: false,
    });
    expect(b.inbox).toEqual([]);
  });

  it('a member sealing a correct frame on its own channel but naming another sender is refused; honestly named, it is delivered', async () => {
    const evil = identity();
    cluster = await startCluster(['a', 'b'], {}, new Map([['c', evil]]));
    const b = cluster.node('b');
    const ch = await handDrivenChannel(cluster.raw, 'c', evil, 'b', cluster.peers.get('b')!);
    const header = { to: 'b', sessionId: 's', kind: 1, round: 1, mode: 0, seq: 0 };
    const payload = new TextEncoder().encode('i am a');
    cluster.raw.publish(`${PREFIX}.node.b.msg`, ch.seal({ ...header, from: 'a' }, payload));
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]).toEqual({
      peer: 'c',
      sessionId: 's',
      reason: "claimed sender differs from the channel's peer",
      authenticated: false,
    });
    cluster.raw.publish(`${PREFIX}.node.b.msg`, ch.seal({ ...header, from: 'c' }, payload));
    await waitFor(() => b.inbox.length === 1);
    expect(b.inbox[0]!.from).toBe('c');
  });

  it("the subject a frame arrives on does not name its sender: a's frame published on b's subject by anyone is still a's", async () => {
    const { b, frame } = await heldFrame();
    cluster!.raw.publish(`${PREFIX}.node.b.msg`, frame);
    await waitFor(() => b.inbox.length === 1);
    expect(b.inbox[0]!.from).toBe('a');
    await settle();
    expect(framesTo(cluster!.node('a'), 'b')).toHaveLength(1);
  });
});
