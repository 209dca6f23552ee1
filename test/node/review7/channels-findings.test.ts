/**
 * Review 2 — channel-level reproductions (fail on the code as reviewed).
 */
import { describe, expect, it } from 'vitest';
import { msg, PREFIX, settle, startCluster, texts, waitFor } from '../channels/harness.js';

describe('review 7 / F-hello-replay', () => {
  it('an outsider replaying one captured hello of a to b cannot keep a from handshaking with b', async () => {
    const c = await startCluster(['a', 'b'], { handshakeTimeoutMs: 300 });
    try {
      const hellos: Uint8Array[] = [];
      c.raw.subscribe(`${PREFIX}.node.b.hs`, (m) => void hellos.push(Uint8Array.from(m.data)));
      await c.node('a').channels.send(msg('s1', 'first', 'b'), []);
      await waitFor(() => texts(c.node('b').inbox).includes('first'));
      expect(hellos.length).toBe(1);
      // the outsider replays the captured hello (any reply subject) a few times a second
      const replay = () => {
        for (let i = 0; i < 10; i++) c.raw.publish(`${PREFIX}.node.b.hs`, hellos[0]!, { reply: '_INBOX.attacker' });
      };
      replay();
      await settle();
      // a's channel goes (e.g. b's heartbeat showed a restart); a re-handshakes
      c.node('a').channels.resetPeer('b');
      replay();
      await settle();
      // should hold: a reaches b
      await expect(c.node('a').channels.send(msg('s2', 'second', 'b'), [])).resolves.toBeUndefined();
    } finally {
      await c.close();
    }
  });
});
