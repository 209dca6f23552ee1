/**
 * Several daemons in one process forming a cluster over the in-process transports: peers.json,
 * mpcium-layout identities, one vault per node (raw key files), a shared configuration.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createLogger,
  type Daemon,
  type DaemonLogger,
  startDaemon,
  type TransportFactory,
} from '../../src/daemon/index.js';
import {
  generatePeers,
  type LocalCluster,
  type NodeConfig,
  parseNodeConfig,
  writeIdentity,
} from '../../src/node/index.js';
import { MemoryBroker, MemoryJetStream, MemoryKvStore } from '../../src/transport/index.js';
import { Vault } from '../../src/vault/index.js';

const publicHex = (k: KeyObject) => Buffer.from(k.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');

/** A logger whose JSON lines are kept in `lines`. */
export function captureLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'debug'): {
  log: DaemonLogger;
  lines: string[];
} {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(l);
      cb();
    },
  });
  return { log: createLogger({ level, destination }), lines };
}

export class DaemonCluster {
  readonly broker = new MemoryBroker();
  readonly jetstream = new MemoryJetStream();
  readonly kvStore = new MemoryKvStore();
  readonly daemons: (Daemon | undefined)[];
  readonly names: string[];
  readonly initiatorKey: KeyObject;
  readonly config: NodeConfig;
  readonly logs = new Map<string, string[]>();

  private constructor(
    readonly dir: string,
    readonly peers: Record<string, string>,
    readonly heartbeatMs: number,
  ) {
    this.names = Object.keys(peers);
    this.daemons = this.names.map(() => undefined);
    this.initiatorKey = generateKeyPairSync('ed25519').privateKey;
    this.config = parseNodeConfig({
      mpc_threshold: 1,
      event_initiator_pubkey: publicHex(this.initiatorKey),
      chain_code: randomBytes(32).toString('hex'),
      db_path: join(dir, 'db'),
      backup_enabled: false,
      max_concurrent_signing: 16,
    }).config;
  }

  /** Files for an n-node cluster (no daemon running). */
  static async create(n = 3, heartbeatMs = 200): Promise<DaemonCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-daemon-'));
    const peers = generatePeers(n);
    writeFileSync(join(dir, 'peers.json'), JSON.stringify(peers, null, 2));
    const c = new DaemonCluster(dir, peers, heartbeatMs);
    for (const name of c.names) {
      await writeIdentity(join(dir, 'identity'), name, peers[name]!);
      const key = randomBytes(32);
      writeFileSync(join(dir, `${name}.vault.key`), key);
      (await Vault.create(join(dir, 'db', name), { kind: 'key', key })).close();
    }
    return c;
  }

  /** The transports of one daemon on the shared in-process broker. */
  readonly transports: TransportFactory = ({ heartbeatMs }) => {
    const bus = this.broker.bus();
    const workQueue = this.jetstream.connect();
    return {
      bus,
      workQueue,
      readinessKv: this.kvStore.bucket('tessera_ready', 3 * heartbeatMs + 5000),
      close: async () => {
        await workQueue.close();
        await bus.close();
      },
    };
  };

  /** Starts daemon `i`, serving health on a free local port. */
  async start(i: number, extra: { healthAddress?: string | false } = {}): Promise<Daemon> {
    const name = this.names[i]!;
    const { log, lines } = captureLogger('info');
    this.logs.set(name, lines);
    const d = await startDaemon(
      {
        name,
        config: this.config,
        env: {},
        peersFile: join(this.dir, 'peers.json'),
        identityDir: join(this.dir, 'identity'),
        keyFile: join(this.dir, `${name}.vault.key`),
        healthAddress: extra.healthAddress ?? '127.0.0.1:0',
        processMetrics: false,
        heartbeatMs: this.heartbeatMs,
        log,
      },
      this.transports,
    );
    this.daemons[i] = d;
    return d;
  }

  async startAll(): Promise<this> {
    for (let i = 0; i < this.names.length; i++) await this.start(i);
    return this;
  }

  async stop(i: number): Promise<void> {
    await this.daemons[i]?.stop();
    this.daemons[i] = undefined;
  }

  /** What ClusterClient needs of a cluster: a client queue and the initiator key. */
  asClientCluster(): LocalCluster {
    return { clientQueue: () => this.jetstream.connect(), initiatorKey: this.initiatorKey } as unknown as LocalCluster;
  }

  async close(): Promise<void> {
    for (let i = 0; i < this.daemons.length; i++) await this.stop(i);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** GET over real HTTP. */
export async function get(port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

/** Waits until `pred` holds (polling). Throws after `ms`. */
export async function until(pred: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of one sample of a Prometheus exposition (0 if absent). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(m[4]);
  }
  return 0;
}
