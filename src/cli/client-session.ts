/**
 * What the client commands share: the request-signing keys (the initiator, authorizers; mpcium's
 * key files, `.age` ones opened with a passphrase file or a prompt), the client id, and an
 * {@link MpcClient} over NATS (JetStream for requests and results, core NATS for reshare).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type AuthorizerSigner,
  type LocalSigner,
  loadAuthorizer,
  loadInitiator,
  MpcClient,
  type SignatureAlgorithm,
} from '../client/index.js';
import { InvalidArgumentError, InvalidStateError, TesseraError } from '../common/errors.js';
import { readSecretFile, trimNewline } from '../common/secret-file.js';
import type { NodeConfig } from '../node/index.js';
import { connectNats, JetStreamWorkQueue, NatsBus } from '../transport/index.js';
import { type NatsFlags, natsClientOptions, resolveNatsOptions } from './nats-client-options.js';
import { promptHidden } from './secret-input.js';

const collect = (v: string, acc: string[] = []) => [...acc, v];

/** The flags {@link clientOptions} adds. */
export interface ClientFlags extends NatsFlags {
  initiatorKey?: string;
  initiatorAlgorithm?: string;
  passphraseFile?: string;
  authorizer?: string[];
  authorizerPassphraseFile?: string[];
  clientId?: string;
}

/** Adds the key, client id and NATS flags of a client command. Does not throw. */
export function clientOptions(c: Command): Command {
  return natsClientOptions(
    c
      .option(
        '--initiator-key <file>',
        'the initiator private key file, mpcium format: ed25519 seed hex or p256 DER hex, or .age (default: ./event_initiator.key[.age])',
      )
      .option('--initiator-algorithm <alg>', 'ed25519 or p256 (default: guessed from the key file)')
      .option('--passphrase-file <file>', 'passphrase of an .age initiator key (else a prompt on a terminal)')
      .option('--authorizer <name=file>', 'co-sign with this authorizer key file; repeatable', collect)
      .option(
        '--authorizer-passphrase-file <name=file>',
        'passphrase file of an .age authorizer key; repeatable',
        collect,
      )
      .option('--client-id <id>', 'scope results to this client id (mpc.mpc_*_result.<id>.…): one per process'),
  );
}

/** `name=value` pairs of a repeatable flag. Throws `InvalidArgumentError` on a malformed or repeated name. */
function pairs(flag: string, values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1) throw new InvalidArgumentError(`${flag} takes NAME=FILE (got '${v}')`);
    const name = v.slice(0, i);
    if (out.has(name)) throw new InvalidArgumentError(`${flag} names ${name} twice`);
    out.set(name, v.slice(i + 1));
  }
  return out;
}

/** The passphrase of an `.age` key: the file's text, else a hidden prompt on a terminal. */
async function passphraseFor(keyFile: string, passphraseFile: string | undefined, flag: string): Promise<string> {
  if (passphraseFile !== undefined) {
    const b = trimNewline(readSecretFile(passphraseFile, 'passphrase file'));
    try {
      return b.toString('utf8');
    } finally {
      b.fill(0);
    }
  }
  if (!process.stdin.isTTY)
    throw new InvalidArgumentError(`${keyFile} is age-encrypted: give ${flag} FILE, or run on a terminal to be asked`);
  const b = await promptHidden(`Passphrase for ${keyFile}: `);
  try {
    return b.toString('utf8');
  } finally {
    b.fill(0);
  }
}

function algorithm(s: string | undefined): SignatureAlgorithm | undefined {
  if (s === undefined) return undefined;
  if (s !== 'ed25519' && s !== 'p256') throw new InvalidArgumentError('--initiator-algorithm is ed25519 or p256');
  return s;
}

/** The initiator file: `--initiator-key`, else `event_initiator.key` (or `.key.age`) here. */
function initiatorPath(o: ClientFlags): string {
  if (o.initiatorKey !== undefined) return o.initiatorKey;
  if (!existsSync('event_initiator.key') && existsSync('event_initiator.key.age')) return 'event_initiator.key.age';
  return 'event_initiator.key';
}

/**
 * The initiator and authorizer signers of the flags. Throws `IoError` (a missing file),
 * `InvalidArgumentError` (a malformed key or flag, an `.age` key without a passphrase off a
 * terminal), `WrongPasswordError` (a passphrase that does not open an `.age` key).
 */
export async function loadSigners(
  o: ClientFlags,
): Promise<{ initiator: LocalSigner; authorizers: AuthorizerSigner[] }> {
  const path = initiatorPath(o);
  const initiator = await loadInitiator(path, {
    algorithm: algorithm(o.initiatorAlgorithm),
    passphrase: path.endsWith('.age') ? await passphraseFor(path, o.passphraseFile, '--passphrase-file') : undefined,
  });
  const passphrases = pairs('--authorizer-passphrase-file', o.authorizerPassphraseFile ?? []);
  const files = pairs('--authorizer', o.authorizer ?? []);
  for (const name of passphrases.keys())
    if (!files.has(name))
      throw new InvalidArgumentError(`--authorizer-passphrase-file names ${name}, not an --authorizer`);
  const authorizers: AuthorizerSigner[] = [];
  for (const [name, file] of files) {
    const passphrase = file.endsWith('.age')
      ? await passphraseFor(file, passphrases.get(name), `--authorizer-passphrase-file ${name}=`)
      : undefined;
    authorizers.push(await loadAuthorizer(name, file, { passphrase }));
  }
  return { initiator, authorizers };
}

/** An open client and what it runs on. */
export interface ClientSession {
  readonly client: MpcClient;
  /** The `--config` file's configuration, when one was given. */
  readonly config?: NodeConfig;
  /** Closes the client, then drains the connection. Does not throw. */
  close(): Promise<void>;
}

/**
 * Loads the keys, resolves the NATS options, runs `prepare` with the `--config` file's
 * configuration (checks that need it), connects to NATS and opens an {@link MpcClient}. Throws what
 * {@link loadSigners}, `resolveNatsOptions` and `prepare` throw (before connecting), `NatsConnectError` when the server cannot be
 * reached or refuses the credentials, and what `MpcClient.create` throws (JetStream not enabled).
 */
export async function openClient(
  o: ClientFlags,
  extra: { resultTimeoutMs?: number; maxPending?: number; prepare?: (config: NodeConfig | undefined) => void } = {},
): Promise<ClientSession> {
  const { initiator, authorizers } = await loadSigners(o);
  const { nats, config } = resolveNatsOptions(o);
  extra.prepare?.(config);
  const nc = await connectNats(nats);
  const bus = new NatsBus(nc);
  const workQueue = new JetStreamWorkQueue(nc);
  const shut = async () => {
    await workQueue.close().catch(() => {});
    await bus.close().catch(() => {});
    await nc.drain().catch(() => nc.close().catch(() => {}));
  };
  let client: MpcClient;
  try {
    client = await MpcClient.create({
      workQueue,
      bus,
      initiator,
      authorizers,
      clientId: o.clientId,
      resultTimeoutMs: extra.resultTimeoutMs,
      maxPending: extra.maxPending,
    });
  } catch (e) {
    await shut();
    if (e instanceof TesseraError) throw e;
    throw new InvalidStateError(
      `setting up the streams and result consumers failed (${e instanceof Error ? e.message : String(e)}); ` +
        'check that nats-server runs with JetStream enabled (-js) and that this user may use it',
    );
  }
  return {
    client,
    config,
    close: async () => {
      await client.close();
      await shut();
    },
  };
}
