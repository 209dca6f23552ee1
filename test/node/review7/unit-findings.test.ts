/**
 * Review 2 (node layer) — unit reproductions. Each test states the property that SHOULD hold and
 * fails on the code as reviewed.
 */

import { generateKeyPairSync, sign } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/common/bytes.js';
import type { NodeContext } from '../../../src/node/operations/context.js';
import { lookupWallet } from '../../../src/node/operations/directory.js';
import { reconcile } from '../../../src/node/operations/reconcile.js';
import { Readiness } from '../../../src/node/peers/readiness.js';
import { decodeControl, encodeControl, KIND_CONTROL } from '../../../src/node/sessions/control.js';
import { SessionRouter } from '../../../src/node/sessions/router.js';
import type { ChannelMessage } from '../../../src/node/sessions/wire.js';
import { MemoryKvStore } from '../../../src/transport/index.js';
import { Vault } from '../../../src/vault/index.js';
import { FAST_ARGON2, password, tempDir } from '../../helpers/vault.js';

describe('review 7 / F-router', () => {
  it('the early-message buffer retains at most its byte budget, however many sessions and messages a peer sends', () => {
    const router = new SessionRouter();
    const payload = new Uint8Array(1 << 20); // one shared buffer: we only count what the router would retain
    let retained = 0;
    for (let s = 0; s < 1024; s++)
      for (let i = 0; i < 256; i++) {
        const r = router.deliver({ sessionId: `junk-${s}`, kind: 1, round: 0, to: 'me', from: 'evil', payload });
        if (r === 'buffered') retained += payload.length;
      }
    // 256 GiB of distinct 1 MiB frames would be kept (the channel accepts 1 MiB + 4 KiB payloads)
    expect(retained).toBeLessThanOrEqual(256 * 1024 * 1024);
  });
});

describe('review 7 / F-directory', () => {
  it('a fabricated view (threshold 0, participants [evil]) reported by one member is not accepted', async () => {
    const router = new SessionRouter();
    const fake = {
      version: 7,
      threshold: 0,
      participants: ['evil'],
      publicKey: new Uint8Array(33).fill(2),
      package: new Uint8Array(0),
    };
    const ctx = {
      self: 'honest',
      members: ['evil', 'h2', 'h3', 'honest'],
      vault: {
        getWallet: () => {
          throw new Error('not found');
        },
      },
      readiness: { readyMembers: () => ['evil', 'h2', 'h3', 'honest'] },
      router,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      sender: {
        async send(msg: ChannelMessage) {
          const q = decodeControl(msg.payload);
          if (q.type !== 'query') return;
          // only the malicious member answers; the honest ones (which hold nothing either) say null
          setTimeout(() => {
            router.deliver({
              sessionId: msg.sessionId,
              kind: KIND_CONTROL,
              round: 0,
              to: 'honest',
              from: 'evil',
              payload: encodeControl({ type: 'info', info: fake }),
            });
            for (const h of ['h2', 'h3'])
              router.deliver({
                sessionId: msg.sessionId,
                kind: KIND_CONTROL,
                round: 0,
                to: 'honest',
                from: h,
                payload: encodeControl({ type: 'info', info: null }),
              });
          }, 1);
        },
      },
    } as unknown as NodeContext;
    const view = await lookupWallet(ctx, 'secp256k1', 'w', false, 500);
    // should be undefined: one node cannot vouch for a wallet; t must come from the cluster, not the view
    expect(view).toBeUndefined();
  });
});

describe('review 7 / F-readiness', () => {
  it('a heartbeat dated in the future is ignored; the sane one counts; a peer that stops beating is not ready a minute later', async () => {
    const store = new MemoryKvStore();
    const kv = store.bucket('r', 60_000);
    const me = generateKeyPairSync('ed25519');
    const peer = generateKeyPairSync('ed25519');
    const raw = (k: typeof me) => Uint8Array.from(Buffer.from(k.publicKey.export({ format: 'jwk' }).x!, 'base64url'));
    let now = 1_000_000;
    const changes: unknown[] = [];
    const r = new Readiness({
      self: 'me',
      identityKey: me.privateKey,
      members: new Map([
        ['me', raw(me)],
        ['peer', raw(peer)],
      ]),
      kv,
      epoch: new Uint8Array(16),
      heartbeatMs: 1000,
      maxAgeMs: 8000,
      now: () => now,
    });
    r.onChange((c) => changes.push(c));
    await r.start();
    const entry = (epochByte: number, time: number) => {
      const body = new ByteWriter()
        .tag('tessera/node/ready/v1')
        .str('peer')
        .raw(new Uint8Array(16).fill(epochByte))
        .u64(time)
        .finish();
      return new ByteWriter()
        .bytes(body)
        .bytes(sign(null, body, peer.privateKey))
        .finish();
    };
    await kv.put('peer', entry(1, now + 3_600_000)); // a clock jump (or a malicious peer) once
    expect(r.isReady('peer')).toBe(false);
    await kv.put('peer', entry(2, now)); // the peer restarted with a sane clock: new epoch
    expect(r.isReady('peer')).toBe(true);
    await kv.put('peer', entry(3, now)); // and again: a restart is seen whatever the times
    expect(changes.some((c) => (c as { restarted: boolean }).restarted)).toBe(true);
    now += 60_000; // a minute without any heartbeat
    expect(r.isReady('peer')).toBe(false);
    await r.stop();
  });
});

describe('review 7 / N-1', () => {
  it('two colluding members reporting a newer committee without this node cannot make reconcile destroy its share; t+1 of its own committee saying they retired it can', async () => {
    const dir = join(tempDir(), 'v');
    const vault = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    const committee = ['a', 'b', 'c', 'd', 'me'];
    const key = new Uint8Array(32).fill(9);
    vault.putShare({
      keyType: 'eddsa',
      walletId: 'w',
      version: 1,
      threshold: 2,
      participants: committee,
      publicKey: key,
      share: new Uint8Array(64).fill(1),
      activate: true,
    });
    const router = new SessionRouter();
    /** What each peer answers: a and b collude; c and d are honest (they still hold version 1). */
    let retiredBy = new Set(['a', 'b']);
    const fake = { version: 2, threshold: 1, participants: ['a', 'b'], publicKey: key, package: new Uint8Array(0) };
    const reply = (sid: string, from: string, c: Parameters<typeof encodeControl>[0]) =>
      setTimeout(
        () =>
          router.deliver({ sessionId: sid, kind: KIND_CONTROL, round: 0, to: 'me', from, payload: encodeControl(c) }),
        1,
      );
    const ctx = {
      self: 'me',
      members: committee,
      vault,
      shares: { retire() {} },
      readiness: { readyMembers: () => committee, isReady: () => true },
      router,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      sender: {
        async send(msg: ChannelMessage, recipients: readonly string[]) {
          const q = decodeControl(msg.payload);
          for (const peer of recipients) {
            if (q.type === 'query')
              reply(msg.sessionId, peer, { type: 'info', info: ['a', 'b'].includes(peer) ? fake : null });
            if (q.type === 'hold-query')
              reply(msg.sessionId, peer, {
                type: 'hold',
                status: retiredBy.has(peer) ? 'none' : 'active',
                publicKey: retiredBy.has(peer) ? new Uint8Array(0) : key,
              });
          }
        },
      },
    } as unknown as NodeContext;
    const first = await reconcile(ctx, [{ keyType: 'eddsa', walletId: 'w' }]);
    expect(first.retired).toBe(0);
    expect(vault.getWallet('eddsa', 'w').currentVersion).toBe(1);
    // once three members of the committee (t+1) say they retired version 1, it is retired here too
    retiredBy = new Set(['a', 'b', 'c']);
    const second = await reconcile(ctx, [{ keyType: 'eddsa', walletId: 'w' }]);
    expect(second.retired).toBe(1);
    expect(vault.getWallet('eddsa', 'w').currentVersion).toBeNull();
    vault.close();
  });
});
