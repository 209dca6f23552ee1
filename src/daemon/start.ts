/**
 * One daemon: a {@link TesseraNode} in its own process (or, for tests, several in one), assembled
 * from the configuration, peers.json, the identity directory, the vault and a transport factory
 * (NATS in production; the in-process broker for tests and `tessera dev`), with structured logs,
 * Prometheus metrics and the health endpoints. Start order as mpcium's where it applies: config →
 * peers and identities → vault → transports → node → HTTP. `stop()` undoes it in reverse.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { readSecretFile, trimNewline } from '../common/secret-file.js';
import {
  ConfigError,
  decryptPrivateKey,
  type NodeConfig,
  parsePeers,
  privateKeyFromHex,
  readIdentity,
  TesseraNode,
} from '../node/index.js';
import type { Bus, KeyValue, WorkQueue } from '../transport/index.js';
import { Vault, type VaultSecret } from '../vault/index.js';
import { loadConfigFile } from './config-file.js';
import { HealthServer, type ReadinessReport } from './http.js';
import { createLogger, type DaemonLogger } from './logging.js';
import { PromNodeMetrics } from './metrics.js';

/** What a transport factory hands the daemon. */
export interface DaemonTransports {
  readonly bus: Bus;
  readonly workQueue: WorkQueue;
  /** The readiness bucket, with a TTL of about three heartbeats. */
  readonly readinessKv: KeyValue;
  /** True while the broker connection is up (default: always). */
  connected?(): boolean;
  /** Closes (drains) what the factory opened. Should not throw. */
  close?(): Promise<void>;
}

/** Opens the transports for one node (NATS: connect, streams, buckets). */
export type TransportFactory = (ctx: {
  readonly config: NodeConfig;
  readonly nodeId: string;
  readonly nodeName: string;
  readonly heartbeatMs: number;
  readonly log: Logger;
  /** Says why the transports are not usable yet (shown by `/readyz`); `undefined` once they are. */
  readonly report: (problem: string | undefined) => void;
  /** Aborted when the daemon is told to stop while the factory still waits. */
  readonly signal: AbortSignal;
}) => Promise<DaemonTransports> | DaemonTransports;

export interface DaemonOptions {
  /** This node's name in peers.json (`--name`). */
  readonly name: string;
  /** The configuration file (`--config`); else `config` must be given, else the default paths are searched. */
  readonly configPath?: string;
  /** An already parsed configuration (tests, embedding); wins over `configPath`. */
  readonly config?: NodeConfig;
  /** Environment for overrides and secrets (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** peers.json (`--peers`; default `./peers.json`). */
  readonly peersFile?: string;
  /** The peers (name → node id) when they come from elsewhere (the NATS peers bucket); wins over `peersFile`. */
  readonly peers?: Readonly<Record<string, string>>;
  /** Aborting it stops a daemon that is still starting (e.g. waiting for NATS or its streams). */
  readonly signal?: AbortSignal;
  /** The identity directory (default `./identity`). */
  readonly identityDir?: string;
  /** The passphrase file of an age-encrypted identity key (`--identity-password-file`). */
  readonly identityPasswordFile?: string;
  /** The vault password file (`--password-file`; else `tessera.vault.password_file`). */
  readonly passwordFile?: string;
  /** A raw 32-byte vault key file (`--key-file`; else `tessera.vault.key_file`). */
  readonly keyFile?: string;
  /** The vault secret itself (e.g. prompted for); wins over the files. Wiped once the vault is open. */
  readonly vaultSecret?: VaultSecret;
  /** The logger (default: pino to stdout at `tessera.log_level`). */
  readonly log?: DaemonLogger;
  /** Overrides `healthcheck.*`: an address serves the endpoints there, `false` serves none. */
  readonly healthAddress?: string | false;
  /** Export prom-client's process metrics too (default true). */
  readonly processMetrics?: boolean;
  readonly heartbeatMs?: number;
  /** Bound on the node's graceful stop (default 30 s). */
  readonly stopTimeoutMs?: number;
}

/**
 * The vault secret from the options, the config, or `TESSERA_VAULT_PASSWORD` / `TESSERA_VAULT_KEY`
 * (hex). Throws `InvalidArgumentError` (none given, both, an empty or wrong-sized file), `IoError`.
 */
export function resolveVaultSecret(
  opts: Pick<DaemonOptions, 'passwordFile' | 'keyFile'>,
  config: NodeConfig,
  env: Readonly<Record<string, string | undefined>>,
): VaultSecret {
  const passwordFile = opts.passwordFile ?? (opts.keyFile ? undefined : config.tessera.vault.password_file);
  const keyFile = opts.keyFile ?? (opts.passwordFile ? undefined : config.tessera.vault.key_file);
  if (passwordFile && keyFile) throw new InvalidArgumentError('give the vault a password file or a key file, not both');
  if (passwordFile) {
    const password = trimNewline(readSecretFile(passwordFile, 'vault password file'));
    if (password.length === 0) throw new InvalidArgumentError(`the vault password file ${passwordFile} is empty`);
    return { kind: 'password', password };
  }
  if (keyFile) {
    const key = readSecretFile(keyFile, 'vault key file');
    if (key.length !== 32)
      throw new InvalidArgumentError(`the vault key file ${keyFile} must hold 32 raw bytes (it has ${key.length})`);
    return { kind: 'key', key };
  }
  if (env.TESSERA_VAULT_PASSWORD) return { kind: 'password', password: Buffer.from(env.TESSERA_VAULT_PASSWORD) };
  if (env.TESSERA_VAULT_KEY) {
    if (!/^[0-9a-fA-F]{64}$/.test(env.TESSERA_VAULT_KEY))
      throw new InvalidArgumentError('TESSERA_VAULT_KEY must be 64 hex characters');
    return { kind: 'key', key: Buffer.from(env.TESSERA_VAULT_KEY, 'hex') };
  }
  throw new InvalidArgumentError(
    'no vault secret: give --password-file or --key-file, tessera.vault.password_file or .key_file, or TESSERA_VAULT_PASSWORD',
  );
}

/**
 * Backups enabled need somewhere to encrypt to (checked here as well as by the node, so that the
 * mistake shows before any wait for NATS). Throws `ConfigError`.
 */
export function checkBackupSettings(config: NodeConfig): void {
  const b = config.tessera.backup;
  if (config.backup_enabled && b.recipients.length === 0 && b.passphrase_file === undefined)
    throw new ConfigError([
      'backup_enabled needs tessera.backup.recipients (age1… keys) or tessera.backup.passphrase_file; or set backup_enabled: false',
    ]);
}

const rawPublic = (k: KeyObject) => Buffer.from(createPublicKey(k).export({ format: 'jwk' }).x as string, 'base64url');

/** Reads peers.json and every member's identity; this node's private key. */
async function loadIdentities(
  opts: DaemonOptions,
): Promise<{ self: string; members: Map<string, Uint8Array>; identityKey: KeyObject }> {
  const peersFile = opts.peers ? 'the peers bucket' : resolve(opts.peersFile ?? 'peers.json');
  const dir = resolve(opts.identityDir ?? 'identity');
  const peers = parsePeers(
    opts.peers ? JSON.stringify(opts.peers) : readSecretFile(peersFile, 'peers file').toString('utf8'),
  );
  const self = peers.get(opts.name);
  if (self === undefined)
    throw new InvalidArgumentError(
      `node ${opts.name} is not in ${peersFile} (it lists ${[...peers.keys()].join(', ')})`,
    );
  const members = new Map<string, Uint8Array>();
  for (const [name, id] of peers) {
    const identity = readIdentity(dir, name);
    if (identity.node_id !== id)
      throw new InvalidArgumentError(
        `${join(dir, `${name}_identity.json`)} has node_id ${identity.node_id}, but ${peersFile} gives ${name} the id ${id}`,
      );
    members.set(id, Uint8Array.from(Buffer.from(identity.public_key, 'hex')));
  }
  const plain = join(dir, `${opts.name}_private.key`);
  let text: string;
  if (existsSync(`${plain}.age`)) {
    if (!opts.identityPasswordFile)
      throw new InvalidArgumentError(`${plain}.age is encrypted: give --identity-password-file`);
    const pass = trimNewline(readSecretFile(opts.identityPasswordFile, 'identity password file'));
    try {
      text = await decryptPrivateKey(readSecretFile(`${plain}.age`, 'identity key'), pass.toString('utf8'));
    } finally {
      pass.fill(0);
    }
  } else {
    text = readSecretFile(plain, 'identity key').toString('utf8');
  }
  const identityKey = privateKeyFromHex(text);
  if (!rawPublic(identityKey).equals(Buffer.from(members.get(self)!)))
    throw new InvalidArgumentError(
      `the private key of ${opts.name} does not match the public key of its identity file`,
    );
  return { self, members, identityKey };
}

/** A running daemon. */
export class Daemon {
  private stopping: Promise<void> | undefined;
  private vaultOpen = true;
  private problem: string | undefined;

  /** @internal built by {@link startDaemon} */
  constructor(
    readonly name: string,
    readonly config: NodeConfig,
    readonly node: TesseraNode,
    readonly metrics: PromNodeMetrics,
    readonly log: DaemonLogger,
    private readonly vault: Vault,
    private readonly transports: DaemonTransports,
    private readonly members: number,
    private readonly stopTimeoutMs: number,
    public http: HealthServer | undefined,
  ) {}

  /** The health server's port, if it serves. */
  get healthPort(): number | undefined {
    return this.http?.port;
  }

  /** Sets (or clears) what keeps the transports from serving; `/readyz` shows it. Does not throw. */
  setProblem(problem: string | undefined): void {
    this.problem = problem;
  }

  /** What `/readyz` reports. Does not throw. */
  readiness(): ReadinessReport {
    const ready = this.stopping ? 0 : this.node.readyMembers().length;
    const n = this.members;
    const t = this.config.mpc_threshold;
    let connected = true;
    try {
      connected = this.transports.connected?.() ?? true;
    } catch {
      connected = false;
    }
    const majority = ready > n / 2 && ready >= t + 1;
    const ok = !this.stopping && this.vaultOpen && connected && majority && this.problem === undefined;
    return {
      ready: ok,
      details: {
        nats_connected: connected,
        vault_open: this.vaultOpen,
        peers_ready_count: `${ready}/${n}`,
        all_peers_ready: ready === n,
        majority_ready: majority,
        stopping: this.stopping !== undefined,
        ...(this.problem !== undefined ? { problem: this.problem } : {}),
      },
    };
  }

  /**
   * Stops taking requests, lets those in progress finish (bounded), leaves the cluster, closes the
   * transports, the health server and the vault, flushes the logs. Idempotent. Does not throw.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        this.node.stop().then(() => 'stopped' as const),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), this.stopTimeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout')
        this.log.error({ timeoutMs: this.stopTimeoutMs }, 'the node did not stop in time; closing anyway');
      try {
        await this.transports.close?.();
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'closing the transports failed');
      }
      await this.http?.close();
      try {
        this.vault.close();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'closing the vault failed');
      }
      this.vaultOpen = false;
      this.metrics.setVaultOpen(false);
      this.log.info({ node: this.name }, 'daemon stopped');
      this.log.flush();
    })();
    return this.stopping;
  }
}

/**
 * Starts a daemon. Throws `ConfigError` (file and key named), `InvalidArgumentError` or
 * `IoError` for bad inputs (each naming the file), `WrongPasswordError` for a vault or identity
 * secret that does not open, what the transports and the node throw; anything it had opened is
 * closed again first.
 */
export async function startDaemon(opts: DaemonOptions, transportsFactory: TransportFactory): Promise<Daemon> {
  const env = opts.env ?? process.env;
  let config: NodeConfig;
  let hints: string[] = [];
  let configPath: string | undefined;
  if (opts.config) config = opts.config;
  else {
    const loaded = loadConfigFile(opts.configPath, env);
    config = loaded.config;
    hints = loaded.hints;
    configPath = loaded.path;
  }
  const log = opts.log ?? createLogger({ level: config.tessera.log_level, base: { node: opts.name } });
  for (const h of hints) log.warn({ hint: h }, 'a configuration key from mpcium is not used by Tessera');
  if (configPath) log.info({ config: configPath }, 'configuration loaded');

  const { self, members, identityKey } = await loadIdentities(opts);
  const vaultDir = resolve(config.db_path, opts.name);
  if (!existsSync(vaultDir))
    throw new InvalidArgumentError(
      `no vault at ${vaultDir} (db_path/<name>): create it with \`tessera vault init --dir ${vaultDir}\``,
    );
  const backupPassphrase = config.tessera.backup.passphrase_file
    ? trimNewline(readSecretFile(config.tessera.backup.passphrase_file, 'backup passphrase file')).toString('utf8')
    : undefined;
  checkBackupSettings(config);
  const secret = opts.vaultSecret ?? resolveVaultSecret(opts, config, env);
  let vault: Vault;
  try {
    vault = await Vault.open(vaultDir, secret);
  } finally {
    (secret.kind === 'password' ? secret.password : secret.key).fill(0);
  }
  const metrics = new PromNodeMetrics({ processMetrics: opts.processMetrics ?? true });
  metrics.setVaultOpen(true);
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  let transports: DaemonTransports | undefined;
  let node: TesseraNode | undefined;
  let http: HealthServer | undefined;
  let daemon: Daemon | undefined;
  let problem: string | undefined = 'starting';
  const report = (p: string | undefined) => {
    problem = p;
    daemon?.setProblem(p);
  };
  const signal = opts.signal ?? new AbortController().signal;
  try {
    // the endpoints first: while NATS or its streams are not usable, /readyz says why
    const address =
      opts.healthAddress === false
        ? undefined
        : (opts.healthAddress ?? (config.healthcheck.enabled ? config.healthcheck.address : undefined));
    if (address !== undefined) {
      http = await HealthServer.listen({
        address,
        readiness: () =>
          daemon?.readiness() ?? {
            ready: false,
            details: { starting: true, vault_open: true, problem: problem ?? 'starting' },
          },
        metrics: () => metrics.render(),
        log,
      });
    }
    transports = await transportsFactory({
      config,
      nodeId: self,
      nodeName: opts.name,
      heartbeatMs,
      log,
      report,
      signal,
    });
    signal.throwIfAborted();
    node = new TesseraNode({
      config,
      self,
      identityKey,
      members,
      vault,
      bus: transports.bus,
      workQueue: transports.workQueue,
      readinessKv: transports.readinessKv,
      heartbeatMs,
      backupPassphrase,
      log,
      metrics,
    });
    await node.start();
    daemon = new Daemon(
      opts.name,
      config,
      node,
      metrics,
      log,
      vault,
      transports,
      members.size,
      opts.stopTimeoutMs ?? 30_000,
      http,
    );
    daemon.setProblem(problem === 'starting' ? undefined : problem);
    const d = daemon;
    metrics.setReadinessSource(() => {
      const r = d.readiness();
      return { ready: r.ready, natsConnected: r.details.nats_connected === true };
    });
    log.info({ node: opts.name, id: self, members: members.size }, 'daemon started');
    return daemon;
  } catch (e) {
    await node?.stop();
    await transports?.close?.();
    await http?.close();
    vault.close();
    log.flush();
    throw e;
  }
}
