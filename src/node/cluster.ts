/**
 * The embedded cluster: n nodes in one process on the in-process transports, each with its own
 * identity and its own vault on disk — what `tessera dev` and `npm start` run, and what the tests
 * and `bench:node` use. The node code is exactly the one that runs on NATS.
 *
 * Layout of the directory (kept with `dir`, else a temporary one removed at `stop()`):
 * `cluster.json` (public: node names and ids, identity public keys, threshold, chain code,
 * initiator public key, backup recipient), `initiator.key` (the dev client's Ed25519 seed, 0600),
 * `backup.key` (the age identity that decrypts the nodes' backups, 0600) and per node
 * `<name>/identity.key` (its Ed25519 seed, 0600), `<name>/vault.key` (a raw 32-byte vault key,
 * 0600), `<name>/vault/` and `<name>/backups/` (hourly, and on demand). Development only: the keys sit next to the vaults they open.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { InvalidArgumentError } from '../common/errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../common/fs.js';
import { type Logger, silentLogger } from '../common/log.js';
import { type Bus, MemoryBroker, MemoryJetStream, MemoryKvStore, type WorkQueue } from '../transport/index.js';
import { Vault } from '../vault/index.js';
import { type NodeConfig, parseNodeConfig } from './config.js';
import type { NodeMetrics } from './metrics.js';
import { TesseraNode } from './node.js';
import type { AuditEvent } from './operations/context.js';

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** How long a node of the embedded cluster counts as ready after its last heartbeat. */
const READINESS_MAX_AGE_MS = 30_000;

export interface LocalClusterOptions {
  /** Nodes (default 3). */
  readonly nodes?: number;
  /** mpc_threshold t: t+1 sign (default 1). */
  readonly threshold?: number;
  /** Keep everything here (reused if it holds a cluster); default: a temporary directory removed at stop. */
  readonly dir?: string;
  /** Extra config keys (Tessera's timeouts, limits…) applied to every node. */
  readonly config?: Record<string, unknown>;
  readonly heartbeatMs?: number;
  /** A logger per node. */
  readonly log?: (node: string) => Logger;
  /** Metrics per node (default: none). */
  readonly metrics?: (node: string) => NodeMetrics;
  /** Audit events per node (default: the node's log). */
  readonly audit?: (node: string, e: AuditEvent & { time: number }) => void;
}

interface NodeFiles {
  readonly name: string;
  readonly id: string;
  readonly publicKey: string;
}

interface ClusterFile {
  readonly format: 1;
  readonly threshold: number;
  readonly chain_code: string;
  readonly initiator_public_key: string;
  /** The age recipient the nodes' backups are encrypted to (its identity is `backup.key`). */
  readonly backup_recipient: string;
  readonly nodes: readonly NodeFiles[];
}

function seedOf(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).d as string, 'base64url');
}

function publicHexOf(key: KeyObject): string {
  return Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url').toString('hex');
}

function keyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** A running embedded cluster. */
export class LocalCluster {
  readonly broker = new MemoryBroker();
  readonly jetstream = new MemoryJetStream();
  readonly kvStore = new MemoryKvStore();
  /** The nodes; `undefined` while stopped. */
  readonly nodes: (TesseraNode | undefined)[];
  private readonly vaults: (Vault | undefined)[];

  private constructor(
    readonly dir: string,
    private readonly temporary: boolean,
    readonly file: ClusterFile,
    readonly initiatorKey: KeyObject,
    private readonly opts: LocalClusterOptions,
  ) {
    this.nodes = file.nodes.map(() => undefined);
    this.vaults = file.nodes.map(() => undefined);
  }

  /**
   * Creates (or, with a `dir` that holds one, reopens) a cluster and starts every node.
   * Throws `InvalidArgumentError` for bad sizes or a `dir` holding another cluster shape; what
   * the vault throws.
   */
  static async start(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    const n = opts.nodes ?? 3;
    const t = opts.threshold ?? 1;
    if (!Number.isInteger(n) || n < 2 || n > 64) throw new InvalidArgumentError('a local cluster has 2 to 64 nodes');
    if (!Number.isInteger(t) || t < 1 || t + 1 > n) throw new InvalidArgumentError(`threshold must be 1..${n - 1}`);
    const temporary = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tessera-dev-'));
    ensurePrivateDir(dir);
    const clusterPath = join(dir, 'cluster.json');
    let file: ClusterFile;
    let initiator: KeyObject;
    if (existsSync(clusterPath)) {
      file = JSON.parse(readFileSync(clusterPath, 'utf8')) as ClusterFile;
      if (file.format !== 1 || file.nodes.length !== n || file.threshold !== t)
        throw new InvalidArgumentError(
          `${dir} holds a ${file.threshold}-of-${file.nodes.length} cluster; use another --dir or the same sizes`,
        );
      initiator = keyFromSeed(readFileSync(join(dir, 'initiator.key')));
    } else {
      initiator = generateKeyPairSync('ed25519').privateKey;
      const nodes: NodeFiles[] = [];
      for (let i = 0; i < n; i++) {
        const name = `node${i}`;
        const id = randomUUID();
        const key = generateKeyPairSync('ed25519').privateKey;
        ensurePrivateDir(join(dir, name));
        writeFileAtomic(join(dir, name, 'identity.key'), seedOf(key));
        const vaultKey = randomBytes(32);
        writeFileAtomic(join(dir, name, 'vault.key'), vaultKey);
        await (await Vault.create(join(dir, name, 'vault'), { kind: 'key', key: vaultKey })).close();
        vaultKey.fill(0);
        nodes.push({ name, id, publicKey: publicHexOf(key) });
      }
      writeFileAtomic(join(dir, 'initiator.key'), seedOf(initiator));
      const backupIdentity = await generateIdentity();
      writeFileAtomic(join(dir, 'backup.key'), Buffer.from(`${backupIdentity}\n`));
      file = {
        format: 1,
        threshold: t,
        chain_code: randomBytes(32).toString('hex'),
        initiator_public_key: publicHexOf(initiator),
        backup_recipient: await identityToRecipient(backupIdentity),
        nodes,
      };
      writeFileAtomic(clusterPath, Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
    }
    const c = new LocalCluster(dir, temporary, file, initiator, opts);
    try {
      for (let i = 0; i < n; i++) await c.startNode(i);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** Node ids, in node order. */
  get nodeIds(): string[] {
    return this.file.nodes.map((x) => x.id);
  }

  /** The configuration node `i` runs with. Throws `ConfigError` for bad overrides. */
  config(i: number): NodeConfig {
    const { tessera, ...rest } = (this.opts.config ?? {}) as { tessera?: Record<string, unknown> };
    return parseNodeConfig({
      mpc_threshold: this.file.threshold,
      event_initiator_pubkey: this.file.initiator_public_key,
      event_initiator_algorithm: 'ed25519',
      chain_code: this.file.chain_code,
      backup_enabled: true,
      backup_dir: join(this.dir, this.file.nodes[i]!.name, 'backups'),
      backup_period_seconds: 3600,
      max_concurrent_signing: 64,
      max_concurrent_keygen: 4,
      ...rest,
      tessera: { backup: { recipients: [this.file.backup_recipient] }, ...(tessera ?? {}) },
    }).config;
  }

  /** A client's connection to the work queue. */
  clientQueue(): WorkQueue {
    return this.jetstream.connect();
  }

  /** A client's connection to the bus (reshare requests). */
  clientBus(): Bus {
    return this.broker.bus();
  }

  /** The vault of a running node (for inspection). Throws `InvalidArgumentError` if it is stopped. */
  vault(i: number): Vault {
    const v = this.vaults[i];
    if (!v) throw new InvalidArgumentError(`node ${i} is not running`);
    return v;
  }

  /** Starts node `i` from its directory (identity and vault on disk). Throws `InvalidArgumentError` if it runs. */
  async startNode(i: number): Promise<TesseraNode> {
    if (this.nodes[i]) throw new InvalidArgumentError(`node ${i} is running`);
    const f = this.file.nodes[i]!;
    const vaultKey = readFileSync(join(this.dir, f.name, 'vault.key'));
    const vault = await Vault.open(join(this.dir, f.name, 'vault'), { kind: 'key', key: vaultKey });
    vaultKey.fill(0);
    const seed = readFileSync(join(this.dir, f.name, 'identity.key'));
    const identityKey = keyFromSeed(seed);
    seed.fill(0);
    const members = new Map(this.file.nodes.map((x) => [x.id, Uint8Array.from(Buffer.from(x.publicKey, 'hex'))]));
    const heartbeatMs = this.opts.heartbeatMs ?? 1000;
    const log = this.opts.log?.(f.name) ?? silentLogger;
    const node = new TesseraNode({
      config: this.config(i),
      self: f.id,
      identityKey,
      members,
      vault,
      bus: this.broker.bus(),
      workQueue: this.jetstream.connect(),
      // All nodes share one thread here: a busy event loop must not make a live peer look dead
      // (a stopped node deletes its entry at once, so this only bounds how long a crashed one counts).
      readinessKv: this.kvStore.bucket('tessera_ready', READINESS_MAX_AGE_MS),
      readinessMaxAgeMs: READINESS_MAX_AGE_MS,
      heartbeatMs,
      log,
      metrics: this.opts.metrics?.(f.name),
      audit: this.opts.audit ? (e) => this.opts.audit?.(f.name, e) : undefined,
    });
    try {
      await node.start();
    } catch (e) {
      vault.close();
      throw e;
    }
    this.nodes[i] = node;
    this.vaults[i] = vault;
    return node;
  }

  /** Stops node `i` (its vault stays on disk). Does not throw. */
  async stopNode(i: number): Promise<void> {
    const node = this.nodes[i];
    if (!node) return;
    this.nodes[i] = undefined;
    await node.stop();
    this.vaults[i]?.close();
    this.vaults[i] = undefined;
  }

  /** Stops every node; removes the directory if it was temporary. Does not throw. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.stopNode(i);
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }
}
