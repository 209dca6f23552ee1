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
import { existsSync, readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Command } from 'commander';
import { InvalidArgumentError, IoError } from '../common/errors.js';
import {
  connectUntilReachable,
  createLogger,
  type DaemonLogger,
  handleShutdownSignals,
  loadConfigFile,
  natsOptionsFromConfig,
  natsTransportFactory,
  PEERS_BUCKET,
  readPeersBucket,
  startDaemon,
  writePeersBucket,
} from '../daemon/index.js';
import { type NodeConfig, parsePeers, peerEntryProblems } from '../node/index.js';
import { EXIT, printJson } from './output.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

interface StartFlags {
  name: string;
  config?: string;
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

/**
 * Reads the peers bucket until it names `name` (waiting, not exiting, while it is empty or lacks
 * this node). Throws what connecting throws, the abort reason.
 */
async function peersFromBucket(
  config: NodeConfig,
  name: string,
  log: DaemonLogger,
  signal: AbortSignal,
): Promise<Record<string, string>> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connectUntilReachable(natsOptionsFromConfig(config.nats, `tessera-${name}-peers`), { log, signal });
    for (let attempt = 0; ; attempt++) {
      const peers = await readPeersBucket(nc, config.nats.jetstream_replicas);
      // a bad entry is never skipped: the peers are the cluster's membership, and dropping one
      // would start this node with a smaller cluster
      const problems = peerEntryProblems(peers);
      if (problems.length > 0) {
        if (attempt % 12 === 0)
          log.error(
            { bucket: PEERS_BUCKET, problems },
            `the peers bucket ${PEERS_BUCKET} holds entries that are not a node name and id (${problems.join('; ')}): rewrite it with \`tessera register-peers --peers peers.json --replace\` (or start with --peers); waiting`,
          );
      } else if (Object.hasOwn(peers, name)) return peers;
      else if (attempt % 12 === 0)
        log.error(
          { bucket: PEERS_BUCKET, registered: Object.keys(peers) },
          `node ${name} is not in the peers bucket: run \`tessera register-peers --peers peers.json\` (or start with --peers); waiting`,
        );
      await pause(5000, signal);
    }
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** Registers `tessera start` and `tessera register-peers`; `run` wraps each action with error handling. */
export function registerStartCommands(program: Command, run: Runner): void {
  program
    .command('start')
    .description('run a node over NATS (configuration: --config or config.yaml; see docs/deploy.md)')
    .requiredOption('-n, --name <name>', 'this node’s name in peers.json / the peers bucket')
    .option('-c, --config <file>', 'configuration file (default: ./config.yaml, /etc/tessera/, ~/.tessera/)')
    .option('--password-file <file>', 'file holding the vault password')
    .option('--key-file <file>', 'file holding the raw 32-byte vault key')
    .option('--peers <file>', 'peers.json (default: ./peers.json if it exists, else the NATS peers bucket)')
    .option('--identity-dir <dir>', 'directory of the identity files', 'identity')
    .option('--identity-password-file <file>', 'passphrase of an age-encrypted identity key')
    .option('--health-address <addr>', 'serve /healthz /readyz /metrics here (overrides healthcheck.*)')
    .action((o: StartFlags) =>
      run(async () => {
        if (o.passwordFile && o.keyFile) throw new InvalidArgumentError('give --password-file or --key-file, not both');
        const loaded = loadConfigFile(o.config);
        const config = loaded.config;
        const log = createLogger({ level: config.tessera.log_level, base: { node: o.name } });
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
          const peers = peersFile ? undefined : await peersFromBucket(config, o.name, log, abort.signal);
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
              healthAddress: o.healthAddress,
              log,
              signal: abort.signal,
            },
            natsTransportFactory(),
          );
        } catch (e) {
          if (abort.signal.aborted) return await shutdown.done;
          shutdown.dispose();
          log.error({ err: (e as Error).message }, 'the node could not start');
          log.flush();
          throw e;
        }
        return await shutdown.done;
      }),
    );

  program
    .command('register-peers')
    .description(`write peers.json into the NATS peers bucket (${PEERS_BUCKET}) that nodes read at start`)
    .requiredOption('-p, --peers <file>', 'peers.json (node name → node id)')
    .option('-c, --config <file>', 'configuration file for the nats: section (default: ./config.yaml, …)')
    .option('--nats-url <url>', 'NATS server (overrides the configuration; default nats://127.0.0.1:4222)')
    .option(
      '--replace',
      'make the bucket hold exactly these peers (a node id is bound to its shares: only when rebuilding)',
    )
    .option('--json', 'machine-readable output')
    .action((o: { peers: string; config?: string; natsUrl?: string; replace?: boolean; json?: boolean }) =>
      run(async () => {
        let text: string;
        try {
          text = readFileSync(o.peers, 'utf8');
        } catch (e) {
          throw new IoError(`reading the peers file ${o.peers}`, e);
        }
        const peers = Object.fromEntries(parsePeers(text));
        const nats =
          o.config !== undefined || existsSync('config.yaml')
            ? natsOptionsFromConfig(loadConfigFile(o.config).config.nats, 'tessera-register-peers')
            : { url: 'nats://127.0.0.1:4222', name: 'tessera-register-peers' };
        const log = createLogger({ level: 'warn' });
        const nc = await connectUntilReachable(
          { ...nats, url: o.natsUrl ?? process.env.NATS_URL ?? nats.url, connectTimeoutMs: 5000 },
          { log, signal: AbortSignal.timeout(30_000), retryMs: 1000 },
        );
        try {
          const r = await writePeersBucket(nc, peers, { replace: o.replace });
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
