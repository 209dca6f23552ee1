import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseNodeConfig } from '../../src/node/config.js';

const ed = '11'.repeat(32);
const base = { mpc_threshold: 1, event_initiator_pubkey: ed, chain_code: 'ab'.repeat(32) };

function problems(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    parseNodeConfig(raw, env);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('node configuration (mpcium config.yaml keys plus tessera:)', () => {
  it("mpcium's minimal config is complete: every other key takes mpcium's default", () => {
    const { config, hints } = parseNodeConfig(base);
    expect(hints).toEqual([]);
    expect(config).toMatchObject({
      environment: 'development',
      nats: { url: 'nats://127.0.0.1:4222', jetstream_replicas: 1 },
      event_initiator_algorithm: 'ed25519',
      db_path: '.',
      backup_enabled: true,
      backup_period_seconds: 300,
      max_concurrent_keygen: 2,
      max_concurrent_signing: 20,
      healthcheck: { enabled: false, address: ':8080' },
      authorization: { enabled: false, required_authorizers: [] },
      tessera: {
        timeouts: { keygen_seconds: 60, signing_seconds: 30, reshare_seconds: 120 },
        max_sessions_per_pair: 32,
      },
    });
  });

  it('every problem is reported at once, naming the key and what it expects', () => {
    const p = problems({
      mpc_threshold: 0,
      event_initiator_pubkey: 'xyz',
      chain_code: 'short',
      nats: { url: 'nats://x', bogus: 1 },
      typo_key: 1,
    });
    expect(p.some((x) => x.startsWith('mpc_threshold:'))).toBe(true);
    expect(p.some((x) => x.startsWith('chain_code:') && x.includes('64 hex digits'))).toBe(true);
    expect(p.some((x) => x.startsWith('event_initiator_pubkey:') && x.includes('64 hex digits'))).toBe(true);
    expect(p.some((x) => x.includes('bogus') && x.includes('unknown key'))).toBe(true);
    expect(p.some((x) => x.includes('typo_key') && x.includes('unknown key'))).toBe(true);
    expect(problems('not a mapping')).toEqual(['(file): the configuration must be a mapping of keys to values']);
  });

  it('mpcium keys Tessera does not use give a migration hint, never a silent ignore', () => {
    const { hints } = parseNodeConfig({
      ...base,
      consul: { address: 'localhost:8500' },
      badger_password: 'x'.repeat(32),
    });
    expect(hints).toHaveLength(2);
    expect(hints[0]).toMatch(/^consul: .*NATS KV/);
    expect(hints[1]).toMatch(/^badger_password: .*--password-file/);
  });

  it('environment variables override file keys the mpcium way (path upper-cased, . → _), typed', () => {
    const { config } = parseNodeConfig(base, {
      NATS_URL: 'tls://nats.example:4222',
      MPC_THRESHOLD: '2',
      BACKUP_ENABLED: 'false',
      TESSERA_TIMEOUTS_SIGNING_SECONDS: '45',
      HEALTHCHECK_ENABLED: 'true',
    });
    expect([
      config.nats.url,
      config.mpc_threshold,
      config.backup_enabled,
      config.tessera.timeouts.signing_seconds,
      config.healthcheck.enabled,
    ]).toEqual(['tls://nats.example:4222', 2, false, 45, true]);
    expect(
      problems(base, { MAX_CONCURRENT_SIGNING: 'many' }).some((x) => x.startsWith('max_concurrent_signing:')),
    ).toBe(true);
  });

  it('a p256 initiator key must be a P-256 SubjectPublicKeyInfo (hex or base64); authorizers are checked the same way', () => {
    const der = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    expect(
      parseNodeConfig({ ...base, event_initiator_algorithm: 'p256', event_initiator_pubkey: der.toString('hex') })
        .config.event_initiator_algorithm,
    ).toBe('p256');
    expect(
      parseNodeConfig({ ...base, event_initiator_algorithm: 'p256', event_initiator_pubkey: der.toString('base64') })
        .config,
    ).toBeDefined();
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'der', type: 'spki' });
    expect(
      problems({ ...base, event_initiator_algorithm: 'p256', event_initiator_pubkey: k1.toString('hex') }),
    ).toEqual(['event_initiator_pubkey: a p256 public key must be a P-256 key']);
    const auth = {
      enabled: true,
      required_authorizers: ['ops', 'risk'],
      authorizer_public_keys: { ops: { public_key: ed, algorithm: 'ed25519' } },
    };
    expect(problems({ ...base, authorization: auth })).toEqual([
      'authorization.required_authorizers: required authorizer risk has no entry in authorizer_public_keys',
    ]);
  });

  it('backup recipients must be age X25519 recipients; the per-pair session cap stays below the OT window', () => {
    expect(problems({ ...base, tessera: { backup: { recipients: ['not-age'] } } })[0]).toMatch(
      /^tessera\.backup\.recipients\.0: an age X25519 recipient/,
    );
    expect(problems({ ...base, tessera: { max_sessions_per_pair: 64 } })[0]).toMatch(
      /^tessera\.max_sessions_per_pair:/,
    );
  });

  it('an all-digit or true/false environment value stays a string where the key is a string; "constructor" is no authorizer', () => {
    expect(parseNodeConfig(base, { NATS_PASSWORD: '12345678', NATS_TOKEN: 'true' }).config.nats).toMatchObject({
      password: '12345678',
      token: 'true',
    });
    const auth = { enabled: true, required_authorizers: ['constructor'], authorizer_public_keys: {} };
    expect(problems({ ...base, authorization: auth })).toEqual([
      'authorization.required_authorizers: required authorizer constructor has no entry in authorizer_public_keys',
    ]);
  });
});
