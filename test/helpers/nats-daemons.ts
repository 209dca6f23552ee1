/**
 * A Tessera cluster over a real NATS server for client tests: a `nats-server -js` of its own,
 * peers.json, mpcium-layout identities, one vault per node (raw key files), a config.yaml whose
 * `nats.url` is the server, and n daemons started in this process with `natsTransportFactory()`.
 * Also the client's files (the initiator key, plain and age-encrypted, an authorizer key) and a
 * way to run the built `tessera` CLI as a child process without blocking the daemons.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Daemon, natsTransportFactory, startDaemon } from '../../src/daemon/index.js';
import { createSigningKey, encryptPrivateKey, generatePeers, writeIdentity } from '../../src/node/index.js';
import { Vault } from '../../src/vault/index.js';
import { captureLogger, until } from '../daemon/helpers.js';
import { type NatsServer, startNatsServer } from './nats-server.js';

export const TESSERA_MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

export interface NatsClusterOptions {
  readonly nodes?: number;
  /** mpc_threshold t (t+1 sign); default 1. */
  readonly threshold?: number;
  /** Require the p256 authorizer `ops` on every request (authorization enabled). */
  readonly requireAuthorizer?: boolean;
  readonly heartbeatMs?: number;
}

export class NatsDaemonCluster {
  readonly daemons: (Daemon | undefined)[];
  readonly names: string[];
  /** Node ids in the order of `names`. */
  readonly nodeIds: string[];
  readonly configFile: string;
  readonly chainCode: string;
  /** The initiator's Ed25519 seed file (mpcium `event_initiator.key`), and the same key age-encrypted. */
  readonly initiatorKeyFile: string;
  readonly initiatorAgeFile: string;
  readonly passphraseFile: string;
  /** The p256 authorizer `ops` (`ops.authorizer.key`). */
  readonly authorizerKeyFile: string;
  /** Every daemon's log lines (warn and above). */
  readonly logs = new Map<string, string[]>();

  private constructor(
    readonly server: NatsServer,
    readonly dir: string,
    readonly peers: Record<string, string>,
    private readonly heartbeatMs: number,
  ) {
    this.names = Object.keys(peers);
    this.nodeIds = this.names.map((n) => peers[n]!);
    this.daemons = this.names.map(() => undefined);
    this.configFile = join(dir, 'config.yaml');
    this.chainCode = randomBytes(32).toString('hex');
    this.initiatorKeyFile = join(dir, 'event_initiator.key');
    this.initiatorAgeFile = join(dir, 'enc', 'event_initiator.key.age');
    this.passphraseFile = join(dir, 'enc', 'passphrase');
    this.authorizerKeyFile = join(dir, 'ops.authorizer.key');
  }

  /** Starts the server, writes every file and starts the daemons; resolves once every node sees every other ready. */
  static async start(opts: NatsClusterOptions = {}): Promise<NatsDaemonCluster> {
    const n = opts.nodes ?? 3;
    const server = await startNatsServer();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-nats-cluster-'));
    const c = new NatsDaemonCluster(server, dir, generatePeers(n), opts.heartbeatMs ?? 500);
    try {
      await c.writeFiles(opts);
      for (let i = 0; i < n; i++) await c.startDaemon(i);
      await c.waitReady();
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  private async writeFiles(opts: NatsClusterOptions): Promise<void> {
    writeFileSync(join(this.dir, 'peers.json'), JSON.stringify(this.peers, null, 2));
    for (const name of this.names) {
      await writeIdentity(join(this.dir, 'identity'), name, this.peers[name]!);
      const key = randomBytes(32);
      writeFileSync(join(this.dir, `${name}.vault.key`), key);
      (await Vault.create(join(this.dir, 'db', name), { kind: 'key', key })).close();
    }
    const initiator = createSigningKey('ed25519');
    writeFileSync(this.initiatorKeyFile, initiator.privateKey, { mode: 0o600 });
    mkdirSync(join(this.dir, 'enc'));
    const passphrase = 'client tools: a long enough passphrase';
    writeFileSync(this.passphraseFile, `${passphrase}\n`, { mode: 0o600 });
    writeFileSync(this.initiatorAgeFile, await encryptPrivateKey(initiator.privateKey, passphrase), { mode: 0o600 });
    const authorizer = createSigningKey('p256');
    writeFileSync(this.authorizerKeyFile, authorizer.privateKey, { mode: 0o600 });
    const authorization = opts.requireAuthorizer
      ? [
          'authorization:',
          '  enabled: true',
          '  required_authorizers: [ops]',
          '  authorizer_public_keys:',
          '    ops:',
          `      public_key: "${authorizer.publicKey}"`,
          '      algorithm: p256',
        ]
      : [];
    writeFileSync(
      this.configFile,
      `${[
        'nats:',
        `  url: "${this.server.url}"`,
        `mpc_threshold: ${opts.threshold ?? 1}`,
        `event_initiator_pubkey: "${initiator.publicKey}"`,
        `chain_code: "${this.chainCode}"`,
        `db_path: "${join(this.dir, 'db')}"`,
        'backup_enabled: false',
        'max_concurrent_signing: 32',
        ...authorization,
      ].join('\n')}\n`,
    );
  }

  /** Starts daemon `i` over NATS. */
  async startDaemon(i: number): Promise<Daemon> {
    const name = this.names[i]!;
    const { log, lines } = captureLogger('warn');
    this.logs.set(name, lines);
    const d = await startDaemon(
      {
        name,
        configPath: this.configFile,
        env: {},
        peersFile: join(this.dir, 'peers.json'),
        identityDir: join(this.dir, 'identity'),
        keyFile: join(this.dir, `${name}.vault.key`),
        healthAddress: false,
        processMetrics: false,
        heartbeatMs: this.heartbeatMs,
        log,
      },
      natsTransportFactory(),
    );
    this.daemons[i] = d;
    return d;
  }

  /** Waits until every running daemon sees every member ready. */
  async waitReady(ms = 30_000): Promise<void> {
    const n = this.names.length;
    await until(
      () => this.daemons.every((d) => d !== undefined && d.node.readyMembers().length === n),
      ms,
      'every daemon to see the whole cluster ready over NATS',
    );
  }

  /** Stops the daemons and the server, removes every file. Does not throw. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.daemons.length; i++) {
      await this.daemons[i]?.stop().catch(() => {});
      this.daemons[i] = undefined;
    }
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CliRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs the built `tessera` CLI as a child process (asynchronously: the daemons in this process
 * keep running) with only PATH in its environment, plus `env`. Kills it after `timeoutMs`.
 */
export function runTessera(
  args: readonly string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [TESSERA_MAIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    p.once('error', reject);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
