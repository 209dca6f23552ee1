/**
 * The daemon's transports over NATS: one connection (reconnecting forever) shared by the core-NATS
 * bus, the JetStream work queue and the readiness bucket; the peers bucket (`mpc-peers`, node
 * name → node id, as mpcium's NATS-KV branch keeps it) for `tessera start` without a peers file.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  KEYGEN_CONSUMER,
  KEYGEN_REQUEST_SUBJECTS,
  KEYGEN_STREAM,
  RESHARE_REQUEST_SUBJECT,
  RESULT_STREAM,
  RESULT_SUBJECTS,
  SIGNING_CONSUMER,
  SIGNING_REQUEST_SUBJECTS,
  SIGNING_STREAM,
} from '../api/index.js';
import { InvalidArgumentError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { MAX_REQUEST_BYTES, NODE_INBOX_PREFIX, type NodeConfig } from '../node/index.js';
import {
  checkStreams,
  connectNats,
  JetStreamWorkQueue,
  NatsBus,
  NatsConnectError,
  NatsKv,
  type NatsOptions,
  redactUrl,
  type StreamExpectation,
  type StreamReport,
} from '../transport/index.js';
import type { DaemonTransports, TransportFactory } from './start.js';

/** The readiness bucket (signed heartbeats; Tessera's own format, hence not mpcium's `mpc-ready`). */
export const READINESS_BUCKET = 'tessera-ready';
/** The peers bucket: `<node name>` → node id, as mpcium's NATS-KV branch. */
export const PEERS_BUCKET = 'mpc-peers';
/** Prefix of the request inboxes of nodes (the node refuses it as a reply subject). */
export { NODE_INBOX_PREFIX };
/**
 * The `max_payload` below which the node warns at start. Measured node messages reach about 54 KB
 * (an ECDSA signing round's OT extension; keygen and reshare stay under 9 KB, results under 1 KB);
 * the channel format allows up to 1 MiB + 4 KiB. A server's default (1 MiB) is ample; one set below
 * this bound would refuse some of them, failing the sessions that send them.
 */
export const MIN_NATS_MAX_PAYLOAD_BYTES = 256 * 1024;

/** The readiness bucket's TTL for a heartbeat period: three missed beats and a margin. Does not throw. */
export function readinessTtlMs(heartbeatMs: number): number {
  return 3 * heartbeatMs + 2000;
}

/** NATS options from the configuration's `nats:` section. Does not throw. */
export function natsOptionsFromConfig(nats: NodeConfig['nats'], name?: string): NatsOptions {
  const tls =
    nats.tls && (nats.tls.ca_cert || nats.tls.client_cert || nats.tls.client_key)
      ? { caFile: nats.tls.ca_cert, certFile: nats.tls.client_cert, keyFile: nats.tls.client_key }
      : undefined;
  const urls = nats.url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  return {
    url: urls.length === 1 ? urls[0]! : urls,
    name,
    user: nats.username,
    password: nats.password,
    token: nats.token,
    credsFile: nats.creds_file,
    nkeySeedFile: nats.nkey_file,
    tls,
  };
}

/**
 * Opens the transports of one node on an open connection `nc` (which the caller owns and closes
 * after `close()`): bus, work queue (JetStream replicas from the configuration) and the readiness
 * bucket. Throws what NATS throws (JetStream not enabled, a bucket with another TTL).
 */
export async function natsTransports(
  nc: NatsConnection,
  config: NodeConfig,
  heartbeatMs: number,
  log: Logger,
): Promise<DaemonTransports> {
  const replicas = config.nats.jetstream_replicas;
  const bus = new NatsBus(nc);
  const workQueue = new JetStreamWorkQueue(nc, {
    replicas,
    onError: (e) => log.error({ err: e.message }, 'a JetStream consumer failed'),
  });
  let readinessKv: NatsKv;
  try {
    readinessKv = await NatsKv.open(nc, READINESS_BUCKET, readinessTtlMs(heartbeatMs), { replicas });
  } catch (e) {
    await workQueue.close();
    await bus.close();
    if (e instanceof InvalidArgumentError)
      throw new InvalidArgumentError(
        `${e.message}; every node of a cluster needs the same heartbeat period: fix it, or delete the bucket with \`nats kv rm ${READINESS_BUCKET}\` while no node runs`,
      );
    throw e;
  }
  const maxPayload = nc.info?.max_payload ?? 0;
  if (maxPayload > 0 && maxPayload < MIN_NATS_MAX_PAYLOAD_BYTES)
    log.warn(
      { max_payload: maxPayload, needed: MIN_NATS_MAX_PAYLOAD_BYTES },
      'the NATS server refuses messages above max_payload, and node messages reach about 54 KB (ECDSA signing): raise max_payload in nats-server.conf (its default, 1MB, is ample)',
    );
  return {
    bus,
    workQueue,
    readinessKv,
    connected: () => !nc.isClosed() && nc.info !== undefined && !reconnecting(nc),
    close: async () => {
      await readinessKv.close();
      await workQueue.close();
      await bus.close();
    },
  };
}

const reconnectState = new WeakMap<NatsConnection, { up: boolean }>();

/** False while the connection is down and reconnecting. Does not throw. */
function reconnecting(nc: NatsConnection): boolean {
  return reconnectState.get(nc)?.up === false;
}

/** Follows the connection's status (for `connected()` and the logs). Does not throw. */
export function watchConnection(nc: NatsConnection, log: Logger): void {
  const state = { up: true };
  reconnectState.set(nc, state);
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          state.up = false;
          log.warn({ server: s.server }, 'NATS disconnected; reconnecting');
          break;
        case 'reconnect':
          state.up = true;
          log.info({ server: s.server }, 'NATS reconnected');
          break;
        case 'error':
          log.error({ err: String(s.error) }, 'NATS connection error');
          break;
        default:
          break;
      }
    }
  })().catch(() => {});
}

/** The streams a node uses and what it needs of each (for {@link checkStreams}). Does not throw. */
export function nodeStreamExpectations(): StreamExpectation[] {
  return [
    {
      name: KEYGEN_STREAM,
      subjects: KEYGEN_REQUEST_SUBJECTS,
      consumers: [{ durable: KEYGEN_CONSUMER, filter: KEYGEN_REQUEST_SUBJECTS[0] }],
      largestMessageBytes: MAX_REQUEST_BYTES,
      carries: 'keygen requests',
    },
    {
      name: SIGNING_STREAM,
      subjects: SIGNING_REQUEST_SUBJECTS,
      consumers: [{ durable: SIGNING_CONSUMER, filter: SIGNING_REQUEST_SUBJECTS[0] }],
      largestMessageBytes: MAX_REQUEST_BYTES,
      carries: 'signing requests',
    },
    { name: RESULT_STREAM, subjects: RESULT_SUBJECTS, largestMessageBytes: 16 * 1024, carries: 'results' },
  ];
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason ?? new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface NatsFactoryOptions {
  /** Overrides of the connect options from the configuration. */
  readonly nats?: Partial<NatsOptions>;
  /** Wait between attempts while NATS is unreachable or a stream cannot serve (default 5 s). */
  readonly retryMs?: number;
  /**
   * Peers to add to the peers bucket once JetStream serves (mpcium's `start --peers`): missing
   * names only; a name registered with another id fails the start (`InvalidArgumentError`).
   */
  readonly registerPeers?: Readonly<Record<string, string>>;
  /** How often the streams are looked at again while the node runs (default `tessera.stream_recheck_seconds`). */
  readonly recheckMs?: number;
}

/**
 * Connects, retrying forever while NATS is unreachable (each failure goes to `report`, every
 * twelfth to the log). Throws `NatsConnectError` ('auth', 'tls', 'config') at once, the signal's
 * reason when aborted.
 */
export async function connectUntilReachable(
  options: NatsOptions,
  ctx: { log: Logger; report?: (problem: string) => void; signal: AbortSignal; retryMs?: number },
): Promise<NatsConnection> {
  const retryMs = ctx.retryMs ?? 5000;
  for (let attempt = 0; ; attempt++) {
    ctx.signal.throwIfAborted();
    try {
      return await connectNats(options);
    } catch (e) {
      if (!(e instanceof NatsConnectError) || e.reason !== 'unreachable') throw e;
      ctx.report?.(e.message);
      if (attempt % 12 === 0) ctx.log.warn({ err: e.message, retryMs }, 'NATS is unreachable; retrying');
      await pause(retryMs, ctx.signal);
    }
  }
}

/** The node-to-node subject prefix and kinds (the node's default `subjectPrefix`; channels.ts). */
const NODE_SUBJECT_PREFIX = 'tessera';
const NODE_SUBJECT_KINDS = ['hs', 'msg', 'rekey'] as const;

/**
 * One look at the streams (repairing what is safe, logging repairs, warnings once and problems when
 * they change or a minute passed); resolves with the problems. Never rejects: a failure to ask
 * JetStream is itself the problem.
 */
function streamChecker(
  nc: NatsConnection,
  log: Logger,
  where: string,
  uncaptured: readonly string[],
): () => Promise<string[]> {
  let last = '';
  let lastLogged = 0;
  let warned = false;
  return async () => {
    let reports: StreamReport[];
    try {
      reports = await checkStreams(nc, nodeStreamExpectations(), uncaptured);
    } catch (e) {
      // JetStream off, no permission, a server still starting: an operator fixes these while the node waits
      reports = [
        {
          stream: '*',
          exists: false,
          repaired: [],
          warnings: [],
          problems: [
            `JetStream at ${where} cannot be used (${(e as Error).message}): run nats-server with JetStream enabled (-js, or jetstream {} in its configuration) and give this user access to $JS.API.>`,
          ],
        },
      ];
    }
    for (const r of reports) {
      for (const m of r.repaired) log.info({ stream: r.stream }, `repaired: ${m}`);
      if (!warned) for (const m of r.warnings) log.warn({ stream: r.stream }, m);
    }
    warned = true;
    const problems = reports.flatMap((r) => r.problems);
    const text = problems.join('; ');
    const now = Date.now();
    if (problems.length > 0 && (text !== last || now - lastLogged > 60_000)) {
      for (const p of problems)
        log.error({ problem: p }, 'a JetStream stream cannot serve; waiting for it to be fixed');
      lastLogged = now;
    } else if (problems.length === 0 && last !== '') log.info({}, 'the JetStream streams serve again');
    last = text;
    return problems;
  };
}

/**
 * Connects while NATS is unreachable (retrying forever, reporting why: a node started before its
 * NATS waits instead of exiting in a restart loop), then checks the streams until they can serve
 * (repairing what is safe, logging each problem with its fix), then opens the transports. Throws
 * `NatsConnectError` for refused credentials, TLS or option errors (fixing those needs an operator),
 * the signal's reason when aborted.
 */
async function openWithRetry(
  ctx: Parameters<TransportFactory>[0],
  o: NatsFactoryOptions,
  keep: (nc: NatsConnection) => void,
): Promise<{ nc: NatsConnection; transports: DaemonTransports }> {
  const { config, nodeName, heartbeatMs, log, report, signal } = ctx;
  const retryMs = o.retryMs ?? 5000;
  const options = {
    ...natsOptionsFromConfig(config.nats, `tessera-${nodeName}`),
    inboxPrefix: NODE_INBOX_PREFIX,
    ...o.nats,
  };
  const nc = await connectUntilReachable(options, { log, report, signal, retryMs });
  try {
    watchConnection(nc, log);
    keep(nc);
    const where = [options.url].flat().map(redactUrl).join(', ');
    const check = streamChecker(nc, log, where, [
      ...NODE_SUBJECT_KINDS.map((k) => `${NODE_SUBJECT_PREFIX}.node.${ctx.nodeId}.${k}`),
      RESHARE_REQUEST_SUBJECT,
    ]);
    for (;;) {
      const problems = await check();
      if (problems.length === 0 && o.registerPeers) {
        try {
          const r = await writePeersBucket(nc, o.registerPeers, { replicas: config.nats.jetstream_replicas });
          if (r.added.length > 0)
            log.info({ added: r.added, bucket: PEERS_BUCKET }, 'registered peers from the peers file');
        } catch (e) {
          if (e instanceof InvalidArgumentError) throw e;
          problems.push(`the peers bucket ${PEERS_BUCKET} cannot be written (${(e as Error).message})`);
        }
      }
      if (problems.length === 0) break;
      report(problems.join('; '));
      await pause(retryMs, signal);
    }
    report(undefined);
    const transports = await natsTransports(nc, config, heartbeatMs, log);
    // the streams are looked at again while the node runs: whoever may edit them could change them
    const recheck = setInterval(
      () => {
        void check().then(
          (problems) => report(problems.length > 0 ? problems.join('; ') : undefined),
          () => {},
        );
      },
      o.recheckMs ?? config.tessera.stream_recheck_seconds * 1000,
    );
    recheck.unref();
    return {
      nc,
      transports: {
        ...transports,
        close: async () => {
          clearInterval(recheck);
          await transports.close?.();
        },
      },
    };
  } catch (e) {
    await nc.close().catch(() => {});
    throw e;
  }
}

/**
 * A transport factory over NATS (see {@link openWithRetry}); closing its transports drains the
 * connection. Throws `NatsConnectError` ('auth', 'tls', 'config'), the abort reason, what NATS throws.
 */
export function natsTransportFactory(o: NatsFactoryOptions = {}): TransportFactory & { connection?: NatsConnection } {
  const factory: TransportFactory & { connection?: NatsConnection } = async (ctx) => {
    const { nc, transports: t } = await openWithRetry(ctx, o, (c) => {
      factory.connection = c;
    });
    return {
      ...t,
      close: async () => {
        await t.close?.();
        await nc.drain().catch(() => nc.close().catch(() => {}));
      },
    };
  };
  return factory;
}

/** Reads the peers bucket (name → node id). Throws what NATS throws. */
export async function readPeersBucket(nc: NatsConnection, replicas = 1): Promise<Record<string, string>> {
  const kv = await NatsKv.open(nc, PEERS_BUCKET, 0, { replicas });
  try {
    const out: Record<string, string> = {};
    for (const k of (await kv.keys()).sort()) {
      const e = await kv.get(k);
      if (e) out[k] = new TextDecoder().decode(e.value);
    }
    return out;
  } finally {
    await kv.close();
  }
}

/**
 * Writes peers (name → node id) into the peers bucket; names already there with another id are
 * refused unless `replace` (then the bucket holds exactly `peers`). Throws `InvalidArgumentError`
 * naming the conflicts, what NATS throws.
 */
export async function writePeersBucket(
  nc: NatsConnection,
  peers: Readonly<Record<string, string>>,
  opts: { replace?: boolean; replicas?: number } = {},
): Promise<{ added: string[]; unchanged: string[]; removed: string[] }> {
  const kv = await NatsKv.open(nc, PEERS_BUCKET, 0, { replicas: opts.replicas ?? 1 });
  try {
    const existing = new Map<string, string>();
    for (const k of await kv.keys()) {
      const e = await kv.get(k);
      if (e) existing.set(k, new TextDecoder().decode(e.value));
    }
    const conflicts = Object.entries(peers).filter(([n, id]) => existing.has(n) && existing.get(n) !== id);
    if (conflicts.length > 0 && !opts.replace)
      throw new InvalidArgumentError(
        `the peers bucket already gives ${conflicts.map(([n]) => `${n} the id ${existing.get(n)}`).join(', ')}; a node's id is bound to its shares: use --replace only when the cluster is being rebuilt`,
      );
    const added: string[] = [];
    const unchanged: string[] = [];
    const removed: string[] = [];
    for (const [n, id] of Object.entries(peers)) {
      if (existing.get(n) === id) unchanged.push(n);
      else {
        await kv.put(n, new TextEncoder().encode(id));
        added.push(n);
      }
    }
    if (opts.replace)
      for (const n of existing.keys())
        if (!Object.hasOwn(peers, n)) {
          await kv.delete(n);
          removed.push(n);
        }
    return { added, unchanged, removed };
  } finally {
    await kv.close();
  }
}
