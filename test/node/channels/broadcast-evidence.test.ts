import { afterEach, describe, expect, it } from 'vitest';
import { signBroadcast } from '../../../src/node/channels/signed-broadcast.js';
import { MODE_BROADCAST } from '../../../src/node/channels/wire.js';
import { type InboundMessage, verifyBroadcast } from '../../../src/node/index.js';
import { handDrivenChannel, identity, msg, PREFIX, startCluster, type TestCluster, waitFor } from './harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("a broadcast carries the sender's signature, which a third party can check", () => {
  it('one signature for all recipients; it verifies under the sender key and fails for any changed field or key', async () => {
    cluster = await startCluster(['a', 'b', 'c']);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => cluster!.node(id));
    await a!.channels.send({ ...msg('s7', 'round-2 commitment', null, 2), kind: 1 }, ['a', 'b', 'c']);
    await waitFor(() => b!.inbox.length === 1 && c!.inbox.length === 1);
    const seenByB = b!.inbox[0]!;
    const seenByC = c!.inbox[0]!;
    expect(Buffer.from(seenByB.signature!)).toEqual(Buffer.from(seenByC.signature!));
    const aKey = cluster.peers.get('a')!;
    // c shows b's copy to anyone: it verifies
    expect(verifyBroadcast(aKey, seenByB)).toBe(true);
    const changed: [string, InboundMessage][] = [
      ['payload', { ...seenByB, payload: new TextEncoder().encode('round-2 commitmenT') }],
      ['round', { ...seenByB, round: 3 }],
      ['kind', { ...seenByB, kind: 2 }],
      ['session', { ...seenByB, sessionId: 's8' }],
      ['sender', { ...seenByB, from: 'b' }],
      ['a direct message', { ...seenByB, to: 'b' }],
      ['no signature', { ...seenByB, signature: undefined }],
      ['a truncated signature', { ...seenByB, signature: seenByB.signature!.subarray(1) }],
    ];
    for (const [what, m] of changed) expect(verifyBroadcast(aKey, m), what).toBe(false);
    expect(verifyBroadcast(cluster.peers.get('b')!, seenByB), 'another key').toBe(false);
    expect(verifyBroadcast(new Uint8Array(31), seenByB), 'a malformed key').toBe(false);
  });

  it('a direct message carries no signature and is no evidence', async () => {
    cluster = await startCluster(['a', 'b']);
    const b = cluster.node('b');
    await cluster.node('a').channels.send(msg('s', 'private', 'b'), []);
    await waitFor(() => b.inbox.length === 1);
    expect(b.inbox[0]!.signature).toBeUndefined();
    expect(verifyBroadcast(cluster.peers.get('a')!, b.inbox[0]!)).toBe(false);
  });

  it('a member that sends a broadcast with a signature over other content is refused; with its true signature it is delivered', async () => {
    const evil = identity();
    cluster = await startCluster(['a', 'b'], {}, new Map([['c', evil]]));
    const b = cluster.node('b');
    const ch = await handDrivenChannel(cluster.raw, 'c', evil, 'b', cluster.peers.get('b')!);
    const m = msg('s', 'what c says', null, 1);
    const header = { from: 'c', to: 'b', sessionId: 's', kind: 1, round: 1, mode: MODE_BROADCAST, seq: 0 };
    const withSig = (sig: Uint8Array) => Uint8Array.from([...sig, ...m.payload]);
    const lie = signBroadcast(evil.key, { ...m, payload: new TextEncoder().encode('something else') }, 'c');
    cluster.raw.publish(`${PREFIX}.node.b.msg`, ch.seal(header, withSig(lie)));
    await waitFor(() => b.rejects.length === 1);
    expect(b.rejects[0]).toEqual({
      peer: 'c',
      sessionId: 's',
      reason: 'broadcast signature does not verify',
      authenticated: true,
    });
    cluster.raw.publish(`${PREFIX}.node.b.msg`, ch.seal(header, withSig(signBroadcast(evil.key, m, 'c'))));
    await waitFor(() => b.inbox.length === 1);
    expect(verifyBroadcast(evil.publicRaw, b.inbox[0]!)).toBe(true);
    cluster.raw.publish(`${PREFIX}.node.b.msg`, ch.seal({ ...header, seq: 1 }, new Uint8Array(10)));
    await waitFor(() => b.rejects.length === 2);
    expect(b.rejects[1]!.reason).toBe('broadcast without its signature');
  });
});
