/** The YAML config file: every error names the file and the key (or line); mpcium keys give hints. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/daemon/index.js';
import { ConfigError } from '../../src/node/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pub = Buffer.from(
  generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string,
  'base64url',
).toString('hex');
const good = `# mpcium-style
nats:
  url: nats://127.0.0.1:4222
mpc_threshold: 1
event_initiator_pubkey: "${pub}"
chain_code: "${'ab'.repeat(32)}"
healthcheck:
  enabled: true
  address: ":8080"
`;

let n = 0;
function file(text: string): string {
  const p = join(dir, `config-${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

function problems(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('no error');
}

describe('config file: errors name the file and the key', () => {
  it('a good file loads, with environment overrides as mpcium applies them', () => {
    const p = file(good);
    const { config, hints, path } = loadConfigFile(p, {
      NATS_URL: 'nats://nats.internal:4222',
      TESSERA_LOG_LEVEL: 'warn',
    });
    expect(path).toBe(p);
    expect(hints).toEqual([]);
    expect(config.nats.url).toBe('nats://nats.internal:4222');
    expect(config.tessera.log_level).toBe('warn');
    expect(config.healthcheck).toEqual({ enabled: true, address: ':8080' });
  });

  it('a bad value names the file and the key', () => {
    const p = file(good.replace('mpc_threshold: 1', 'mpc_threshold: 0'));
    const ps = problems(() => loadConfigFile(p, {}));
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatch(new RegExp(`^${p}: mpc_threshold: `));
  });

  it('a nested unknown key (a typo) names the file and the full key', () => {
    const p = file(good.replace('  enabled: true', '  enabeld: true'));
    const ps = problems(() => loadConfigFile(p, {}));
    expect(ps.join('\n')).toContain(`${p}: healthcheck.enabeld: unknown key`);
  });

  it('a value from the environment says which variable set it', () => {
    const p = file(good);
    const ps = problems(() => loadConfigFile(p, { MPC_THRESHOLD: '0' }));
    expect(ps[0]).toContain(`${p}: mpc_threshold:`);
    expect(ps[0]).toContain('MPC_THRESHOLD');
  });

  it('YAML syntax errors and duplicate keys name the file, line and column', () => {
    const bad = file('mpc_threshold: 1\nnats:\n  url: [unclosed\n');
    expect(problems(() => loadConfigFile(bad, {}))[0]).toMatch(new RegExp(`^${bad}:\\d+:\\d+: `));
    const dup = file(`${good}mpc_threshold: 2\n`);
    const ps = problems(() => loadConfigFile(dup, {}));
    expect(ps[0]).toMatch(new RegExp(`^${dup}:10:1: mpc_threshold: Map keys must be unique`));
  });

  it('a file that is not a mapping, a missing file and no file at all are named', () => {
    const list = file('- a\n- b\n');
    expect(problems(() => loadConfigFile(list, {}))[0]).toBe(
      `${list}: the configuration must be a mapping of keys to values`,
    );
    const missing = join(dir, 'nope.yaml');
    expect(problems(() => loadConfigFile(missing, {}))[0]).toContain(`${missing}: no such file`);
    expect(problems(() => loadConfigFile(undefined, {}, [missing]))[0]).toContain(missing);
  });

  it('without --config the first default path that exists is read', () => {
    const p = file(good);
    expect(loadConfigFile(undefined, {}, [join(dir, 'absent.yaml'), p]).path).toBe(p);
  });

  it('mpcium keys Tessera does not use come back as hints naming the file', () => {
    const p = file(`${good}consul:\n  address: localhost:8500\nbadger_password: "0123456789abcdef"\n`);
    const { hints } = loadConfigFile(p, {});
    expect(hints).toHaveLength(2);
    expect(hints[0]).toMatch(new RegExp(`^${p}: consul: `));
    expect(hints[1]).toMatch(new RegExp(`^${p}: badger_password: `));
    expect(hints.join('\n')).not.toContain('0123456789abcdef');
  });
});
