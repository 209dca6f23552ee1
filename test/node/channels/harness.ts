/**
 * Test tooling for node channels: clusters of real `Channels` on one `MemoryBroker`, with real
 * Ed25519 identities; a tapping bus that can hold back or log what a node publishes and records
 * anything a handler throws; and a hand-driven peer that performs the handshake itself (to forge
 * frames with real channel keys).
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Channel } from '../../../src/node/channels/channel.js';
import { createHello, finishHello, type HandshakeContext } from '../../../src/node/channels/handshake.js';
import { ed25519PublicKey } from '../../../src/node/crypto/ed25519.js';
import {
  type ChannelMessage,
  type ChannelRejection,
  Channels,
  type ChannelsOptions,
  type InboundMessage,
} from '../../../src/node/index.js';
import { type Bus, type BusMessage, MemoryBroker, type PublishOptions } from '../../../src/transport/index.js';

export const PREFIX = 'tessera.test';

export interface Identity {
  readonly key: KeyObject;
  readonly publicRaw: Uint8Array;
}

/** A fresh Ed25519 identity. */
export function identity(): Identity {
  const { privateKey } = generateKeyPairSync('ed25519');
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return { key: privateKey, publicRaw: new Uint8Array(Buffer.from(x, 'base64url')) };
}

/** A bus that logs what it publishes and requests, can hold publishes back, and records what handlers throw. */
export class TapBus implements Bus {
  /** Returns false to hold a publish back (kept in `held`) instead of sending it. */
  filter: ((subject: string, data: Uint8Array) => boolean) | undefined;
  readonly held: { subject: string; data: Uint8Array }[] = [];
  readonly sent: { subject: string; data: Uint8Array }[] = [];
  readonly handlerErrors: unknown[] = [];

  constructor(private readonly inner: Bus) {}

  publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    const copy = Uint8Array.from(data);
    this.sent.push({ subject, data: copy });
    if (this.filter !== undefined && !this.filter(subject, copy)) {
      this.held.push({ subject, data: copy });
      return;
    }
    this.inner.publish(subject, data, opts);
  }

  subscribe(pattern: string, handler: (m: BusMessage) => void | Promise<void>, opts?: { queue?: string }) {
    return this.inner.subscribe(
      pattern,
      async (m) => {
        try {
          await handler(m);
        } catch (e) {
          this.handlerErrors.push(e);
        }
      },
      opts,
    );
  }

  request(subject: string, data: Uint8Array, opts: { timeoutMs: number; headers?: Readonly<Record<string, string>> }) {
    this.sent.push({ subject, data: Uint8Array.from(data) });
    return this.inner.request(subject, data, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface TestNode {
  readonly id: string;
  readonly identity: Identity;
  readonly bus: TapBus;
  readonly channels: Channels;
  readonly inbox: InboundMessage[];
  readonly rejects: ChannelRejection[];
}

export interface TestCluster {
  readonly broker: MemoryBroker;
  readonly peers: Map<string, Uint8Array>;
  readonly identities: Map<string, Identity>;
  readonly nodes: Map<string, TestNode>;
  /** A plain bus connection for the test to publish raw bytes on. */
  readonly raw: Bus;
  node(id: string): TestNode;
  /** Closes `id`'s channels and starts a new instance with the same identity (a process restart). */
  restart(id: string): Promise<TestNode>;
  close(): Promise<void>;
}

export type NodeOptions = Partial<Omit<ChannelsOptions, 'self' | 'identityKey' | 'peers' | 'bus' | 'subjectPrefix'>>;

/**
 * Starts `ids` as nodes of one cluster (every id is a member, and so is each of `extraMembers`,
 * which runs no node: a test drives it by hand). `opts` apply to every node, `perNode` on top.
 */
export async function startCluster(
  ids: readonly string[],
  opts: NodeOptions = {},
  extraMembers: ReadonlyMap<string, Identity> = new Map(),
  perNode: Readonly<Record<string, NodeOptions>> = {},
): Promise<TestCluster> {
  const broker = new MemoryBroker();
  const identities = new Map<string, Identity>(ids.map((id) => [id, identity()]));
  for (const [id, ident] of extraMembers) identities.set(id, ident);
  const peers = new Map([...identities].map(([id, i]) => [id, i.publicRaw]));
  const nodes = new Map<string, TestNode>();
  const launch = async (id: string): Promise<TestNode> => {
    const bus = new TapBus(broker.bus());
    const ident = identities.get(id)!;
    const channels = new Channels({
      self: id,
      identityKey: ident.key,
      peers,
      bus,
      subjectPrefix: PREFIX,
      handshakeTimeoutMs: 500,
      ...opts,
      ...perNode[id],
    });
    const node: TestNode = { id, identity: ident, bus, channels, inbox: [], rejects: [] };
    channels.onMessage((m) => node.inbox.push(m));
    channels.onReject((r) => node.rejects.push(r));
    await channels.start();
    nodes.set(id, node);
    return node;
  };
  for (const id of ids) await launch(id);
  const raw = broker.bus();
  return {
    broker,
    peers,
    identities,
    nodes,
    raw,
    node: (id) => nodes.get(id)!,
    restart: async (id) => {
      const old = nodes.get(id)!;
      await old.channels.close();
      await old.bus.close();
      return launch(id);
    },
    close: async () => {
      for (const n of nodes.values()) {
        await n.channels.close();
        await n.bus.close();
      }
      await raw.close();
    },
  };
}

/** Waits until `cond` holds (polling), failing the test after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Lets every queued bus delivery run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** A message with a text payload. */
export function msg(sessionId: string, text: string, to: string | null = null, round = 1, kind = 1): ChannelMessage {
  return { sessionId, kind, round, to, payload: new TextEncoder().encode(text) };
}

/** The payloads of `inbox` as text. */
export function texts(inbox: readonly InboundMessage[]): string[] {
  return inbox.map((m) => new TextDecoder().decode(m.payload));
}

/** The data frames `node` published to `to` (in order). */
export function framesTo(node: TestNode, to: string): Uint8Array[] {
  return node.bus.sent.filter((s) => s.subject === `${PREFIX}.node.${to}.msg`).map((s) => s.data);
}

/**
 * A peer driven by hand: performs a real handshake with `target` as `self` (its identity `ident`),
 * returning the channel, so a test can seal frames the real node would never write.
 */
export async function handDrivenChannel(
  bus: Bus,
  self: string,
  ident: Identity,
  target: string,
  targetPublic: Uint8Array,
  cluster = PREFIX,
): Promise<Channel> {
  const ctx: HandshakeContext = { cluster, self, epoch: new Uint8Array(16).fill(7), identityKey: ident.key };
  const hello = createHello(ctx, target);
  const reply = await bus.request(`${cluster}.node.${target}.hs`, hello.bytes, { timeoutMs: 1000 });
  return new Channel(finishHello(ctx, hello, reply.data, ed25519PublicKey(targetPublic)));
}
