/**
 * The node's configuration: mpcium's `config.yaml` keys where they apply (reference §6.1) plus
 * Tessera's own under `tessera:`. Pure: the daemon reads the YAML file and the environment and
 * hands both here; this module validates and says, per key, what is wrong and what is expected.
 *
 * Environment overrides follow mpcium: a key's path upper-cased with `.` → `_` (`NATS_URL`,
 * `MPC_THRESHOLD`, `TESSERA_TIMEOUTS_SIGNING_SECONDS`, …) replaces the file's value. mpcium keys
 * Tessera does not use (`consul.*`, `badger_password`, …) are not ignored silently: each yields a
 * migration hint.
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../common/errors.js';
import { parseVerifyingKey } from './requests/authenticate.js';

/** The configuration is invalid: `problems` names each key and what it needs. */
export class ConfigError extends InvalidArgumentError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

const hex = (n: number, what: string) =>
  z.string().regex(new RegExp(`^(0x)?[0-9a-fA-F]{${n}}$`), `${what}: ${n} hex digits`);

/** Checks an initiator or authorizer public key of `algorithm`; returns a problem or undefined. */
function keyProblem(algorithm: 'ed25519' | 'p256', key: string): string | undefined {
  try {
    parseVerifyingKey(algorithm, key);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const algorithm = z.enum(['ed25519', 'p256']);

const schema = z
  .object({
    environment: z.enum(['development', 'production']).default('development'),
    nats: z
      .object({
        url: z.string().min(1).default('nats://127.0.0.1:4222'),
        username: z.string().optional(),
        password: z.string().optional(),
        token: z.string().optional(),
        creds_file: z.string().optional(),
        nkey_file: z.string().optional(),
        tls: z
          .object({
            client_cert: z.string().optional(),
            client_key: z.string().optional(),
            ca_cert: z.string().optional(),
          })
          .strict()
          .optional(),
        jetstream_replicas: z.number().int().min(1).max(5).default(1),
      })
      .strict()
      .prefault({}),
    mpc_threshold: z.number().int().min(1, 'mpc_threshold is t (t+1 signers): at least 1'),
    event_initiator_algorithm: algorithm.default('ed25519'),
    event_initiator_pubkey: z.string().min(1, 'event_initiator_pubkey is required'),
    chain_code: hex(64, 'chain_code is the cluster-wide HD chain code'),
    db_path: z.string().min(1).default('.'),
    backup_enabled: z.boolean().default(true),
    backup_period_seconds: z.number().int().min(10).default(300),
    backup_dir: z.string().min(1).default('./backups'),
    max_concurrent_keygen: z.number().int().min(1).max(1000).default(2),
    max_concurrent_signing: z.number().int().min(1).max(10_000).default(20),
    healthcheck: z
      .object({ enabled: z.boolean().default(false), address: z.string().min(1).default(':8080') })
      .strict()
      .prefault({}),
    authorization: z
      .object({
        enabled: z.boolean().default(false),
        required_authorizers: z.array(z.string().min(1)).default([]),
        authorizer_public_keys: z
          .record(z.string(), z.object({ public_key: z.string(), algorithm }).strict())
          .default({}),
      })
      .strict()
      .prefault({}),
    tessera: z
      .object({
        vault: z
          .object({ password_file: z.string().optional(), key_file: z.string().optional() })
          .strict()
          .prefault({}),
        backup: z
          .object({
            recipients: z
              .array(z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an age X25519 recipient (age1…)'))
              .default([]),
            passphrase_file: z.string().optional(),
            keep_chains: z.number().int().min(1).optional(),
          })
          .strict()
          .prefault({}),
        timeouts: z
          .object({
            keygen_seconds: z.number().int().min(1).default(60),
            signing_seconds: z.number().int().min(1).default(30),
            reshare_seconds: z.number().int().min(1).default(120),
          })
          .strict()
          .prefault({}),
        /** How long a completed signing result is kept to answer an identical request again. */
        result_retention_seconds: z.number().int().min(0).default(3600),
        /** The daemon's lowest log level (`TESSERA_LOG_LEVEL`). */
        log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
        /** Subject prefixes a request's `Mpc-Reply-To` may name (client inboxes). */
        reply_subject_prefixes: z.array(z.string().min(1).max(128)).min(1).default(['_INBOX.']),
        /** How often a node over NATS looks at its JetStream streams again (seconds). */
        stream_recheck_seconds: z.number().int().min(1).max(86_400).default(60),
        /** Signing sessions in flight per ECDSA pair; below the OT window (64). */
        max_sessions_per_pair: z.number().int().min(1).max(63).default(32),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const p = keyProblem(c.event_initiator_algorithm, c.event_initiator_pubkey);
    if (p) ctx.addIssue({ code: 'custom', path: ['event_initiator_pubkey'], message: p });
    for (const [id, k] of Object.entries(c.authorization.authorizer_public_keys)) {
      const q = keyProblem(k.algorithm, k.public_key);
      if (q)
        ctx.addIssue({
          code: 'custom',
          path: ['authorization', 'authorizer_public_keys', id, 'public_key'],
          message: q,
        });
    }
    if (c.authorization.enabled) {
      for (const id of c.authorization.required_authorizers) {
        if (!Object.hasOwn(c.authorization.authorizer_public_keys, id))
          ctx.addIssue({
            code: 'custom',
            path: ['authorization', 'required_authorizers'],
            message: `required authorizer ${id} has no entry in authorizer_public_keys`,
          });
      }
    }
  });

/** The validated configuration. */
export type NodeConfig = z.output<typeof schema>;

/** mpcium keys Tessera does not use, with what to do instead. */
const MIGRATION: Record<string, string> = {
  consul:
    'Tessera keeps peers and readiness in NATS KV, not Consul: remove the consul section (peers come from peers.json, `tessera generate-peers` writes it)',
  badger_password:
    'Tessera vaults are opened with a password or key file, never from config: remove badger_password and use --password-file or tessera.vault.password_file. mpcium\'s shares (tss-lib) cannot be moved into Tessera: a Tessera cluster makes new wallets (docs/deploy.md, "Coming from mpcium")',
  session_warm_up_delay_ms: 'not used by Tessera: remove it',
  mpcium_version: 'not used by Tessera: remove it',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies `PATH_IN_UPPER_CASE` environment overrides to the leaf keys the schema knows. */
function applyEnv(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, unknown> {
  const out = structuredClone(raw);
  const leaves: { path: string[]; type: string }[] = [];
  const walk = (s: z.ZodType, path: string[]) => {
    let t = s as unknown as {
      def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType>; in?: z.ZodType };
    };
    while (t.def.innerType || (t.def.type === 'pipe' && t.def.in))
      t = (t.def.innerType ?? t.def.in) as unknown as typeof t;
    if (t.def.type === 'object' && t.def.shape) for (const [k, v] of Object.entries(t.def.shape)) walk(v, [...path, k]);
    else if (['string', 'number', 'boolean', 'enum'].includes(t.def.type)) leaves.push({ path, type: t.def.type });
  };
  walk(schema as unknown as z.ZodType, []);
  for (const { path, type } of leaves) {
    const name = path.join('_').toUpperCase();
    const v = env[name];
    if (v === undefined) continue;
    let node: Record<string, unknown> = out;
    for (const k of path.slice(0, -1)) {
      if (!isObject(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    // typed only where the key is a number or a boolean: a numeric password stays a string
    node[last] =
      type === 'number' && /^-?\d+$/.test(v)
        ? Number(v)
        : type === 'boolean' && (v === 'true' || v === 'false')
          ? v === 'true'
          : v;
  }
  return out;
}

/**
 * Validates a parsed configuration (YAML as an object) with environment overrides. Returns the
 * configuration and the migration hints for mpcium keys it ignores. Throws {@link ConfigError}
 * listing every problem as `key: what is expected`.
 */
export function parseNodeConfig(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>> = {},
): { config: NodeConfig; hints: string[] } {
  if (!isObject(raw)) throw new ConfigError(['(file): the configuration must be a mapping of keys to values']);
  const hints: string[] = [];
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k in MIGRATION) hints.push(`${k}: ${MIGRATION[k]}`);
    else rest[k] = v;
  }
  const r = schema.safeParse(applyEnv(rest, env));
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => {
        const key = i.path.join('.') || '(file)';
        if (i.code === 'unrecognized_keys')
          return `${key === '(file)' ? '' : `${key}.`}${i.keys.join(', ')}: unknown key (check the spelling; docs/node.md lists every key)`;
        return `${key}: ${i.message}`;
      }),
    );
  }
  return { config: r.data, hints };
}
