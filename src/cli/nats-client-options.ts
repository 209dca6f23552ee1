/**
 * The NATS connection options of the client commands (`tessera wallet …`, `tessera benchmark …`):
 * `--nats-*` flags, and `--config F` to take the `nats:` section (and the cluster's `chain_code`)
 * from a node's config.yaml as the daemon reads it (`loadConfigFile`, `natsOptionsFromConfig`).
 * Flags win over the file; without either, `NATS_URL` or `nats://127.0.0.1:4222`. Secrets (the
 * password, the token) come from files, never from arguments.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../common/errors.js';
import { readSecretFile, trimNewline } from '../common/secret-file.js';
import { loadConfigFile, natsOptionsFromConfig } from '../daemon/index.js';
import type { NodeConfig } from '../node/index.js';
import type { NatsOptions, NatsTlsOptions } from '../transport/index.js';

/** The default server when neither a flag, a config file nor `NATS_URL` names one. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** The flags {@link natsClientOptions} adds, as commander hands them over. */
export interface NatsFlags {
  config?: string;
  natsUrl?: string;
  natsUser?: string;
  natsPasswordFile?: string;
  natsTokenFile?: string;
  natsCreds?: string;
  natsNkey?: string;
  natsCa?: string;
  natsCert?: string;
  natsKey?: string;
}

/** Adds the NATS connection flags and `--config` to a command. Does not throw. */
export function natsClientOptions(c: Command): Command {
  return c
    .option('--config <file>', "a node's config.yaml: its nats: section (and chain_code) are used")
    .option('--nats-url <url>', `NATS server(s), comma-separated (default: NATS_URL or ${DEFAULT_NATS_URL})`)
    .option('--nats-user <name>', 'NATS user name (with --nats-password-file)')
    .option('--nats-password-file <file>', 'file holding the NATS password')
    .option('--nats-token-file <file>', 'file holding a NATS token')
    .option('--nats-creds <file>', 'NATS .creds file (user JWT and nkey seed)')
    .option('--nats-nkey <file>', 'file holding an nkey user seed (SU…)')
    .option('--nats-ca <file>', 'PEM file of the CA that signed the NATS server certificate')
    .option('--nats-cert <file>', 'client certificate for mutual TLS (with --nats-key)')
    .option('--nats-key <file>', 'client key for mutual TLS (with --nats-cert)');
}

/** A secret file's text without its trailing line ending. Throws `IoError`, `InvalidArgumentError` if empty. */
function secretText(path: string, what: string): string {
  const b = trimNewline(readSecretFile(path, what));
  try {
    if (b.length === 0) throw new InvalidArgumentError(`the ${what} ${path} is empty`);
    return b.toString('utf8');
  } finally {
    b.fill(0);
  }
}

/** What the NATS flags resolve to: connect options, and the configuration file when one was given. */
export interface ResolvedNats {
  readonly nats: NatsOptions;
  readonly config?: NodeConfig;
}

/**
 * The connect options of the flags: `--config`'s `nats:` section (with the daemon's environment
 * overrides, `NATS_URL` …), then each flag over it; without a config, `NATS_URL` or the default
 * server. Any auth flag replaces the file's auth entirely. Throws `ConfigError` (the file and key
 * named), `InvalidArgumentError` for contradictory flags, `IoError` for an unreadable secret file.
 */
export function resolveNatsOptions(
  o: NatsFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  name = 'tessera-client',
): ResolvedNats {
  if (o.natsPasswordFile !== undefined && o.natsUser === undefined)
    throw new InvalidArgumentError('--nats-password-file needs --nats-user');
  if ((o.natsCert === undefined) !== (o.natsKey === undefined))
    throw new InvalidArgumentError('--nats-cert and --nats-key go together (mutual TLS)');
  const auths = [
    o.natsUser !== undefined && '--nats-user',
    o.natsTokenFile !== undefined && '--nats-token-file',
    o.natsCreds !== undefined && '--nats-creds',
    o.natsNkey !== undefined && '--nats-nkey',
  ].filter((x): x is string => x !== false);
  if (auths.length > 1) throw new InvalidArgumentError(`give one NATS authentication, not ${auths.join(' and ')}`);

  const config = o.config === undefined ? undefined : loadConfigFile(o.config, env).config;
  const base: NatsOptions = config
    ? natsOptionsFromConfig(config.nats, name)
    : { url: env.NATS_URL?.trim() || DEFAULT_NATS_URL, name };
  let url = base.url;
  if (o.natsUrl !== undefined) {
    const urls = o.natsUrl
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    if (urls.length === 0) throw new InvalidArgumentError('--nats-url names no server');
    url = urls.length === 1 ? urls[0]! : urls;
  }
  const auth =
    auths.length === 0
      ? {
          user: base.user,
          password: base.password,
          token: base.token,
          credsFile: base.credsFile,
          nkeySeedFile: base.nkeySeedFile,
        }
      : {
          user: o.natsUser,
          password: o.natsPasswordFile === undefined ? undefined : secretText(o.natsPasswordFile, 'NATS password file'),
          token: o.natsTokenFile === undefined ? undefined : secretText(o.natsTokenFile, 'NATS token file'),
          credsFile: o.natsCreds,
          nkeySeedFile: o.natsNkey,
        };
  const tls: NatsTlsOptions = {
    ...base.tls,
    ...(o.natsCa !== undefined && { caFile: o.natsCa }),
    ...(o.natsCert !== undefined && { certFile: o.natsCert, keyFile: o.natsKey }),
  };
  const hasTls = tls.caFile !== undefined || tls.certFile !== undefined || tls.keyFile !== undefined;
  return { nats: { ...base, url, ...auth, tls: hasTls ? tls : undefined }, config };
}
