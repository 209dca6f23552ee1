/**
 * `tessera start`: one node as a long-running process over NATS (mpcium's `mpcium start` flags
 * where they apply), and `tessera register-peers`: the peers bucket from peers.json.
 *
 * Peers come from `--peers`, else `./peers.json` if it exists, else the NATS peers bucket (written
 * by `tessera register-peers`). Nothing that an operator can fix while the node waits makes it exit
 * (NATS unreachable, streams that cannot serve, no peers registered yet): it says what is wrong in
 * its log and on `/readyz` and tries again, so a service manager never restarts it in a loop.
 * Wrong credentials, a wrong vault secret or a bad configuration do exit (non-zero), naming the fix.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Command } from 'commander';
import { InvalidArgumentError, IoError, TesseraError } from '../common/errors.js';
import {
  checkBackupSettings,
  connectUntilReachable,
  createLogger,
  type DaemonLogger,
  HealthServer,
  handleShutdownSignals,
  loadConfigFile,
  natsOptionsFromConfig,
  natsTransportFactory,
  PEERS_BUCKET,
  readPeersBucket,
  resolveVaultSecret,
  startDaemon,
  writePeersBucket,
} from '../daemon/index.js';
import { type NodeConfig, parsePeers, peerEntryProblems } from '../node/index.js';
import type { VaultSecret } from '../vault/index.js';
import { parseNat } from './args.js';
import { type NatsFlags, natsClientOptions, resolveNatsOptions } from './nats-client-options.js';
import { EXIT, printJson, reportError } from './output.js';
import { promptHidden } from './secret-input.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

interface StartFlags {
  name: string;
  config?: string;
  promptCredentials?: boolean;
  decryptPrivateKey?: boolean;
  debug?: boolean;
  passwordFile?: string;
  keyFile?: string;
  peers?: string;
  identityDir: string;
  identityPasswordFile?: string;
  healthAddress?: string;
}

/** Resolves after `ms` unless `signal` aborts first (then rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Node names that have an identity file (`<name>_identity.json`) in `dir`. Does not throw (an unreadable directory has none). */
function identityNames(dir: string): Set<string> {
  try {
    return new Set(
      readdirSync(dir)
        .filter((f) => f.endsWith('_identity.json'))
        .map((f) => f.slice(0, -'_identity.json'.length)),
    );
  } catch {
    return new Set();
  }
}

/**
 * What keeps the bucket's peers from being this node's membership: entries that are not a node
 * name and id, this node missing, and any difference from the identity files of `identityDir`
 * (the operator's own record of the members). Empty when they can be used. Does not throw.
 */
export function bucketPeerProblems(peers: Record<string, string>, name: string, identityDir: string): string[] {
  // a bad entry is never skipped: the peers are the cluster's membership, and dropping one
  // would start this node with a smaller cluster
  const bad = peerEntryProblems(peers);
  if (bad.length > 0)
    return [
      `the peers bucket ${PEERS_BUCKET} holds entries that are not a node name and id (${bad.join('; ')}): rewrite it with \`tessera register-peers --peers peers.json --replace\` (or start with --peers)`,
    ];
  if (!Object.hasOwn(peers, name))
    return [
      `node ${name} is not in the peers bucket ${PEERS_BUCKET}: run \`tessera register-peers --peers peers.json\` (or start with --peers)`,
    ];
  const files = identityNames(identityDir);
  const problems: string[] = [];
  const noFile = Object.keys(peers).filter((n) => !files.has(n));
  if (noFile.length > 0)
    problems.push(
      `the peers bucket names ${noFile.join(', ')}, with no identity file in ${identityDir}: add their <name>_identity.json, or remove them from the bucket (\`tessera register-peers --replace\`) if they are not members`,
    );
  const notInBucket = [...files].filter((n) => !Object.hasOwn(peers, n));
  if (notInBucket.length > 0)
    problems.push(
      `${identityDir} holds the identity of ${notInBucket.join(', ')}, which the peers bucket lacks: register them, or remove the identity files of nodes that left the cluster`,
    );
  return problems;
}

/**
 * Reads the peers bucket until it holds a membership this node can use ({@link bucketPeerProblems}),
 * waiting — not exiting — while it cannot be read (no JetStream, no access) or has problems; each
 * problem goes to `report` and the log. Throws what connecting throws (credentials, TLS), the abort
 * reason.
 */
async function peersFromBucket(
  config: NodeConfig,
  o: StartFlags,
  log: DaemonLogger,
  signal: AbortSignal,
  report: (problem: string) => void,
): Promise<Record<string, string>> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connectUntilReachable(natsOptionsFromConfig(config.nats, `tessera-${o.name}-peers`), {
      log,
      signal,
      report,
    });
    let last = '';
    for (let attempt = 0; ; attempt++) {
      let problems: string[];
      let peers: Record<string, string> = {};
      try {
        peers = await readPeersBucket(nc, config.nats.jetstream_replicas);
        problems = bucketPeerProblems(peers, o.name, o.identityDir);
      } catch (e) {
        problems = [
          `the peers bucket ${PEERS_BUCKET} cannot be read (${(e as Error).message}): NATS needs JetStream, and this user access to $JS.API.> and $KV.${PEERS_BUCKET}.>`,
        ];
      }
      if (problems.length === 0) return peers;
      const text = problems.join('; ');
      report(text);
      if (text !== last || attempt % 12 === 0)
        log.error({ bucket: PEERS_BUCKET, problems }, 'waiting for a usable peers bucket');
      last = text;
      await pause(5000, signal);
    }
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** Asks twice on the terminal (mpcium's `--prompt-credentials`). Throws `InvalidArgumentError` if they differ or are empty, or without a terminal. */
async function promptVaultPassword(): Promise<VaultSecret> {
  const a = await promptHidden('Vault password: ');
  const b = await promptHidden('Vault password again: ');
  try {
    if (a.length === 0) throw new InvalidArgumentError('the vault password is empty');
    if (!a.equals(b)) throw new InvalidArgumentError('the two passwords differ');
    return { kind: 'password', password: Buffer.from(a) };
  } finally {
    a.fill(0);
    b.fill(0);
  }
}

/** The peers of a peers.json as a record. Throws `IoError`, `InvalidArgumentError` (bad content). */
function readPeersFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new IoError(`reading the peers file ${file}`, e);
  }
  return Object.fromEntries(parsePeers(text));
}

/** Runs a node until a signal stops it; resolves with the exit code. Throws what starting throws. */
async function start(o: StartFlags): Promise<number> {
  if ([o.passwordFile, o.keyFile, o.promptCredentials].filter(Boolean).length > 1)
    throw new InvalidArgumentError('give one of --password-file, --key-file and --prompt-credentials');
  const loaded = loadConfigFile(o.config);
  const config = loaded.config;
  const log = createLogger({ level: o.debug ? 'debug' : config.tessera.log_level, base: { node: o.name } });
  // what can be checked without NATS is checked before any wait for it
  checkBackupSettings(config);
  const vaultSecret = o.promptCredentials
    ? await promptVaultPassword()
    : resolveVaultSecret({ passwordFile: o.passwordFile, keyFile: o.keyFile }, config, process.env);
  for (const h of loaded.hints) log.warn({ hint: h }, 'a configuration key from mpcium is not used by Tessera');
  log.info({ config: loaded.path }, 'configuration loaded');
  const abort = new AbortController();
  let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
  const shutdown = handleShutdownSignals({
    stop: async () => {
      abort.abort(new Error('stopped while starting'));
      await daemon?.stop();
    },
    log,
    flush: () => log.flush(),
    timeoutMs: 45_000,
  });
  try {
    const peersFile = o.peers ?? (existsSync('peers.json') ? 'peers.json' : undefined);
    const peers = peersFile ? undefined : await waitForPeers(config, o, log, abort.signal);
    daemon = await startDaemon(
      {
        name: o.name,
        config,
        peersFile,
        peers,
        identityDir: o.identityDir,
        identityPasswordFile: o.identityPasswordFile,
        passwordFile: o.passwordFile,
        keyFile: o.keyFile,
        vaultSecret,
        healthAddress: o.healthAddress,
        log,
        signal: abort.signal,
      },
      natsTransportFactory({ registerPeers: o.peers ? readPeersFile(o.peers) : undefined }),
    );
  } catch (e) {
    if (abort.signal.aborted) return await shutdown.done;
    shutdown.dispose();
    log.error({ err: (e as Error).message }, 'the node could not start');
    log.flush();
    throw e;
  }
  return await shutdown.done;
}

/**
 * Runs `f`; a failure an operator must fix before a restart can help (configuration, key and peers
 * files, NATS credentials or TLS) is reported and becomes exit code 78, so that a service manager
 * can be told not to restart on it (`RestartPreventExitStatus=78`). Other failures are rethrown.
 */
async function asConfigExit(f: () => Promise<number>): Promise<number> {
  try {
    return await f();
  } catch (e) {
    const code = e instanceof TesseraError ? e.code : undefined;
    if (code === 'INVALID_ARGUMENT' || code === 'IO_ERROR' || code === 'NOT_FOUND' || code === 'ALREADY_EXISTS') {
      reportError(e, false);
      return EXIT.config;
    }
    throw e;
  }
}

/**
 * The peers from the bucket (see {@link peersFromBucket}), serving `/healthz` and a not-ready
 * `/readyz` that says what it waits for meanwhile (when a health address is configured). Throws as
 * {@link peersFromBucket}.
 */
async function waitForPeers(
  config: NodeConfig,
  o: StartFlags,
  log: DaemonLogger,
  signal: AbortSignal,
): Promise<Record<string, string>> {
  const address = o.healthAddress ?? (config.healthcheck.enabled ? config.healthcheck.address : undefined);
  let problem = `waiting for node ${o.name} in the NATS peers bucket ${PEERS_BUCKET} (tessera register-peers)`;
  const http =
    address === undefined
      ? undefined
      : await HealthServer.listen({
          address,
          readiness: () => ({ ready: false, details: { starting: true, problem } }),
          log,
        });
  try {
    return await peersFromBucket(config, o, log, signal, (p) => {
      problem = p;
    });
  } finally {
    await http?.close();
  }
}

/** Registers `tessera start` and `tessera register-peers`; `run` wraps each action with error handling. */
export function registerStartCommands(program: Command, run: Runner): void {
  program
    .command('start')
    .description('run a node over NATS (configuration: --config or config.yaml; see docs/deploy.md)')
    .requiredOption('-n, --name <name>', 'this node’s name in peers.json / the peers bucket')
    .option('-c, --config <file>', 'configuration file (default: ./config.yaml, /etc/tessera/, ~/.tessera/)')
    .option('-f, --password-file <file>', 'file holding the vault password')
    .option('--key-file <file>', 'file holding the raw 32-byte vault key')
    .option('-p, --prompt-credentials', 'prompt for the vault password on the terminal')
    .option(
      '--peers <file>',
      'peers.json (default: ./peers.json if it exists, else the NATS peers bucket); names missing from the bucket are added',
    )
    .option('--identity-dir <dir>', 'directory of the identity files', 'identity')
    .option(
      '-k, --identity-password-file <file>',
      'passphrase of an age-encrypted identity key (<name>_private.key.age)',
    )
    .option('-d, --decrypt-private-key', 'accepted for mpcium compatibility: an .age identity key is used when present')
    .option('--debug', 'log at debug level')
    .option('--health-address <addr>', 'serve /healthz /readyz /metrics here (overrides healthcheck.*)')
    .action((o: StartFlags) => run(() => asConfigExit(() => start(o))));

  natsClientOptions(
    program
      .command('register-peers')
      .description(`write peers.json into the NATS peers bucket (${PEERS_BUCKET}) that nodes read at start`)
      .requiredOption('-p, --peers <file>', 'peers.json (node name → node id)')
      .option(
        '--replicas <n>',
        'replicas of the bucket when it is created (default: nats.jetstream_replicas of --config, else 1)',
      )
      .option(
        '--replace',
        'make the bucket hold exactly these peers (a node id is bound to its shares: only when rebuilding)',
      )
      .option('--json', 'machine-readable output'),
  ).action((o: NatsFlags & { peers: string; replicas?: string; replace?: boolean; json?: boolean }) =>
    run(async () => {
      const peers = readPeersFile(o.peers);
      const { nats, config } = resolveNatsOptions(o, process.env, 'tessera-register-peers');
      const replicas =
        o.replicas !== undefined ? parseNat('--replicas', o.replicas) : (config?.nats.jetstream_replicas ?? 1);
      const log = createLogger({ level: 'warn' });
      const nc = await connectUntilReachable(
        { ...nats, connectTimeoutMs: 5000 },
        { log, signal: AbortSignal.timeout(30_000), retryMs: 1000 },
      );
      try {
        const r = await writePeersBucket(nc, peers, { replace: o.replace, replicas }).catch((e: unknown) => {
          if (e instanceof TesseraError) throw e;
          throw new InvalidArgumentError(
            `writing the NATS peers bucket ${PEERS_BUCKET} failed (${(e as Error).message}): this NATS user needs JetStream (publish to $JS.API.> and $KV.${PEERS_BUCKET}.>)`,
          );
        });
        if (o.json) printJson({ bucket: PEERS_BUCKET, ...r });
        else
          process.stdout.write(
            `peers bucket ${PEERS_BUCKET}: ${r.added.length} written, ${r.unchanged.length} unchanged${o.replace ? `, ${r.removed.length} removed` : ''}\n`,
          );
      } finally {
        await nc.close();
      }
      return EXIT.ok;
    }, o.json),
  );
}
