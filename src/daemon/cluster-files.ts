/**
 * The files of an n-node cluster on one machine, in mpcium's layout, for `tessera dev --nats`, the
 * end-to-end tests and `bench:cluster` (each node then runs as `tessera start`):
 *
 * - `peers.json`, `identity/<name>_identity.json` and `identity/<name>_private.key`;
 * - `event_initiator.identity.json` and `event_initiator.key` (the client's Ed25519 key, hex seed);
 * - `backup.key` (the age identity the nodes' backups are encrypted to);
 * - per node `<name>/config.yaml` (its own backup directory and health address), `<name>/vault.key`
 *   (raw 32 bytes, 0600), `<name>/backups/`, and its vault at `db/<name>`.
 *
 * Development and tests only: every secret sits on one disk.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { stringify } from 'yaml';
import { InvalidArgumentError } from '../common/errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../common/fs.js';
import { generatePeers, writeIdentity, writeSigningKey } from '../node/index.js';
import { Vault } from '../vault/index.js';

export interface ClusterFilesOptions {
  readonly nodes: number;
  /** mpc_threshold t (t+1 sign). */
  readonly threshold: number;
  /** NATS URL(s) written into every node's configuration. */
  readonly natsUrl: string;
  /** Health endpoint port of each node (by index); absent: none served. */
  readonly healthPorts?: readonly number[];
  /** Extra configuration keys, merged into every node's `config.yaml` (top level; `tessera` merged one level). */
  readonly config?: Record<string, unknown>;
}

export interface ClusterFiles {
  readonly dir: string;
  readonly names: readonly string[];
  /** name → node id */
  readonly peers: Readonly<Record<string, string>>;
  readonly peersFile: string;
  readonly identityDir: string;
  /** The initiator's private key file (hex Ed25519 seed) and its public key (hex). */
  readonly initiatorKeyFile: string;
  readonly initiatorPublicKey: string;
  readonly backupKeyFile: string;
  /** name → its `config.yaml` */
  readonly configFiles: Readonly<Record<string, string>>;
  readonly chainCode: string;
  /** The `tessera start` arguments of node `name`. */
  startArgs(name: string): string[];
}

/**
 * Writes the files of a new cluster into `dir` (created; it should be empty). Throws
 * `InvalidArgumentError` for bad sizes, what the file system and the vault throw.
 */
export async function createClusterFiles(dir: string, o: ClusterFilesOptions): Promise<ClusterFiles> {
  const { nodes: n, threshold: t } = o;
  if (!Number.isInteger(n) || n < 2 || n > 64) throw new InvalidArgumentError('a cluster has 2 to 64 nodes');
  if (!Number.isInteger(t) || t < 1 || t + 1 > n) throw new InvalidArgumentError(`threshold must be 1..${n - 1}`);
  ensurePrivateDir(dir);
  const peers = generatePeers(n);
  const names = Object.keys(peers);
  const peersFile = join(dir, 'peers.json');
  writeFileAtomic(peersFile, Buffer.from(`${JSON.stringify(peers, null, 2)}\n`));
  const identityDir = join(dir, 'identity');
  ensurePrivateDir(identityDir);
  for (const name of names) await writeIdentity(identityDir, name, peers[name]!);
  const initiator = await writeSigningKey(dir, 'initiator', 'event_initiator', 'ed25519');
  const backupIdentity = await generateIdentity();
  const backupKeyFile = join(dir, 'backup.key');
  writeFileAtomic(backupKeyFile, Buffer.from(`${backupIdentity}\n`));
  const recipient = await identityToRecipient(backupIdentity);
  const chainCode = randomBytes(32).toString('hex');
  const configFiles: Record<string, string> = {};
  const extra = o.config ?? {};
  for (const [i, name] of names.entries()) {
    const nodeDir = join(dir, name);
    ensurePrivateDir(nodeDir);
    const key = randomBytes(32);
    writeFileAtomic(join(nodeDir, 'vault.key'), key);
    ensurePrivateDir(join(dir, 'db'));
    (await Vault.create(join(dir, 'db', name), { kind: 'key', key })).close();
    key.fill(0);
    const port = o.healthPorts?.[i];
    const config = {
      environment: 'development',
      nats: { url: o.natsUrl },
      mpc_threshold: t,
      event_initiator_algorithm: 'ed25519',
      event_initiator_pubkey: initiator.publicKey,
      chain_code: chainCode,
      db_path: join(dir, 'db'),
      backup_enabled: true,
      backup_period_seconds: 3600,
      backup_dir: join(nodeDir, 'backups'),
      healthcheck: port === undefined ? { enabled: false } : { enabled: true, address: `127.0.0.1:${port}` },
      ...extra,
      tessera: {
        vault: { key_file: join(nodeDir, 'vault.key') },
        backup: { recipients: [recipient] },
        ...((extra.tessera as Record<string, unknown> | undefined) ?? {}),
      },
    };
    configFiles[name] = join(nodeDir, 'config.yaml');
    writeFileAtomic(configFiles[name], Buffer.from(stringify(config)));
  }
  return {
    dir,
    names,
    peers,
    peersFile,
    identityDir,
    initiatorKeyFile: join(dir, 'event_initiator.key'),
    initiatorPublicKey: initiator.publicKey,
    backupKeyFile,
    configFiles,
    chainCode,
    startArgs: (name) => [
      'start',
      '--name',
      name,
      '--config',
      configFiles[name]!,
      '--peers',
      peersFile,
      '--identity-dir',
      identityDir,
    ],
  };
}
