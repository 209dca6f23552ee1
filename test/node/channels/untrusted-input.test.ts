import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/common/bytes.js';
import { TAG_DATA, TAG_HELLO, TAG_REKEY, TAG_REPLY } from '../../../src/node/channels/wire.js';
import { framesTo, msg, PREFIX, settle, startCluster, type TestCluster, type TestNode, waitFor } from './harness.js';

let cluster: TestCluster;
let a: TestNode;
let b: TestNode;
/** Valid items of every kind, for mutation. */
const samples: { subject: string; data: Uint8Array }[] = [];
let answers = 0;

beforeAll(async () => {
  cluster = await startCluster(['a', 'b']);
  a = cluster.node('a');
  b = cluster.node('b');
  await a.channels.send(msg('s', 'direct', 'b'), []);
  await a.channels.send(msg('s', 'broadcast', null), ['b']);
  await waitFor(() => b.inbox.length === 2);
  for (const s of a.bus.sent) samples.push(s);
  expect(samples.map((s) => s.subject.split('.').at(-1))).toEqual(['hs', 'msg', 'msg']);
  expect(framesTo(a, 'b')).toHaveLength(2);
  cluster.raw.subscribe('_FUZZ.reply', () => {
    answers++;
  });
});
afterAll(async () => {
  await cluster.close();
});

const subjects = ['hs', 'msg', 'rekey'].map((s) => `${PREFIX}.node.b.${s}`);
const tagged = (tag: string, rest: Uint8Array) => new ByteWriter().tag(tag).raw(rest).finish();

const input = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(fc.constantFrom(TAG_HELLO, TAG_REPLY, TAG_DATA, TAG_REKEY), fc.uint8Array({ maxLength: 600 }))
    .map(([t, rest]) => tagged(t, rest)),
  fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean()).map(([which, pos, xor, truncate]) => {
    const s = samples[which % samples.length]!.data;
    if (truncate) return s.subarray(0, pos % s.length);
    const out = Uint8Array.from(s);
    out[pos % out.length]! ^= xor;
    return out;
  }),
);

describe('untrusted bytes on a node subject never throw out of a handler and never deliver a message', () => {
  it('arbitrary, tag-prefixed and mutated-valid inputs on hs, msg and rekey: each refused, nothing delivered, no answer', async () => {
    await fc.assert(
      fc.asyncProperty(input, fc.nat(2), async (data, which) => {
        const rejectsBefore = b.rejects.length;
        cluster.raw.publish(subjects[which]!, data, { reply: '_FUZZ.reply' });
        await settle(4);
        expect(b.bus.handlerErrors).toEqual([]);
        expect(b.inbox).toHaveLength(2);
        expect(b.rejects.length).toBe(rejectsBefore + 1);
        expect(answers).toBe(0);
      }),
      { numRuns: 300 },
    );
    // the node still works afterwards
    await a.channels.send(msg('s', 'still fine', 'b'), []);
    await waitFor(() => b.inbox.length === 3);
  });
});
