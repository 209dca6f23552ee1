/** Keys, a client and a stand-in node on the real in-process transports, for the SDK tests. */
import { generateKeyPairSync } from 'node:crypto';
import { RESULT_STREAM } from '../../src/api/index.js';
import {
  type AuthorizerSigner,
  type ClientOptions,
  type InitiatorSigner,
  localAuthorizer,
  localSigner,
  MpcClient,
} from '../../src/client/index.js';
import { type AuthorizationPolicy, parseVerifyingKey, type VerifyingKey } from '../../src/node/index.js';
import { MemoryBroker, MemoryJetStream, type WorkMessage, type WorkQueue } from '../../src/transport/index.js';
import { StandInNode } from './stand-in-node.js';

export function keyPair(algorithm: 'ed25519' | 'p256') {
  const { privateKey } =
    algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = localSigner(privateKey);
  return { privateKey, signer, verifying: parseVerifyingKey(algorithm, signer.publicKey) };
}

export function authorizer(id: string, algorithm: 'ed25519' | 'p256') {
  const k = keyPair(algorithm);
  return { signer: localAuthorizer(id, k.privateKey), verifying: k.verifying };
}

export interface Setup {
  readonly server: MemoryJetStream;
  readonly broker: MemoryBroker;
  readonly client: MpcClient;
  readonly node: StandInNode;
  done(): Promise<void>;
}

/** A client and a stand-in node trusting its initiator (or `nodeInitiator`) on one in-process JetStream and bus. */
export async function setup(
  opts: {
    initiator?: InitiatorSigner & { publicKey?: string };
    nodeInitiator?: VerifyingKey;
    authorizers?: AuthorizerSigner[];
    policy?: AuthorizationPolicy;
    client?: Partial<ClientOptions>;
    wrap?: (wq: WorkQueue) => WorkQueue;
  } = {},
): Promise<Setup> {
  const server = new MemoryJetStream();
  const broker = new MemoryBroker();
  const init = opts.initiator ? null : keyPair('ed25519');
  const initiator = opts.initiator ?? init!.signer;
  const nodeInitiator = opts.nodeInitiator ?? init?.verifying;
  if (!nodeInitiator) throw new Error('give nodeInitiator with a custom initiator');
  const node = await StandInNode.start(server, { initiator: nodeInitiator, policy: opts.policy, bus: broker.bus() });
  const wq = server.connect();
  const client = await MpcClient.create({
    workQueue: opts.wrap ? opts.wrap(wq) : wq,
    bus: broker.bus(),
    initiator,
    authorizers: opts.authorizers,
    ...opts.client,
  });
  return {
    server,
    broker,
    client,
    node,
    done: async () => {
      await client.close();
      await node.stop();
      await wq.close();
    },
  };
}

/** Messages the result stream still holds (unacked). */
export function resultsHeld(server: MemoryJetStream): number {
  return server.streams.get(RESULT_STREAM)?.messages.size ?? 0;
}

export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A work queue whose consumers lose the first ack of every message and redeliver it when told (a lost ack). */
export function losingAcks(inner: WorkQueue): WorkQueue & { redeliver(): Promise<void> } {
  const held: (() => Promise<void>)[] = [];
  return {
    ensureStream: (cfg) => inner.ensureStream(cfg),
    publish: (s, d, o) => inner.publish(s, d, o),
    close: () => inner.close(),
    consume: (cfg, handler, o) =>
      inner.consume(
        cfg,
        async (m: WorkMessage) => {
          const noop = () => {};
          await handler({ ...m, ack: noop, nak: noop, term: noop });
          held.push(() => Promise.resolve(handler({ ...m, deliveryCount: m.deliveryCount + 1 })));
        },
        o,
      ),
    redeliver: async () => {
      for (const h of held.splice(0)) await h();
    },
  };
}

export const digest = (fill: number) => new Uint8Array(32).fill(fill);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
