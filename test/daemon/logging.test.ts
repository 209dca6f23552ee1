/** Logs are JSON lines at the configured level, and nothing secret-looking reaches them. */
import { describe, expect, it } from 'vitest';
import { isSecretName, parseLogLevel, REDACTED } from '../../src/daemon/index.js';
import { captureLogger } from './helpers.js';

describe('logging: JSON lines without secrets', () => {
  it('a field named password (or any secret name, at any depth) is redacted', () => {
    const { log, lines } = captureLogger('debug');
    log.info(
      {
        password: 'hunter2-hunter2',
        nested: { identityKey: 'deadbeef', backupPassphrase: 'pp-1234567890', share: 'c2hhcmU=' },
        list: [{ seed: '00112233' }],
        token: 'tok-123',
        nats_password: 'np-123',
        wallet: 'w1',
        keyType: 'secp256k1',
        publicKey: 'abcd',
        shares: 3,
      },
      'starting',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const o = JSON.parse(line);
    for (const secret of ['hunter2', 'deadbeef', 'pp-1234567890', 'c2hhcmU=', '00112233', 'tok-123', 'np-123'])
      expect(line).not.toContain(secret);
    expect(o.password).toBe(REDACTED);
    expect(o.nested).toEqual({ identityKey: REDACTED, backupPassphrase: REDACTED, share: REDACTED });
    expect(o.list).toEqual([{ seed: REDACTED }]);
    // what operators need stays
    expect(o).toMatchObject({ wallet: 'w1', keyType: 'secp256k1', publicKey: 'abcd', shares: 3, msg: 'starting' });
    expect(o.level).toBe('info');
    expect(typeof o.time).toBe('number');
  });

  it('an age secret key in any string (the message too) and raw bytes never reach a line', () => {
    const { log, lines } = captureLogger('debug');
    const age = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    log.warn({ note: `read ${age} from file`, blob: Buffer.from('secret bytes') }, `oops ${age}`);
    expect(lines[0]).not.toContain('AGE-SECRET-KEY-1Q');
    expect(lines[0]).not.toContain('secret bytes');
    expect(JSON.parse(lines[0]!).blob).toBe('[12 bytes]');
  });

  it('lines below the level are not written; children carry their fields', () => {
    const { log, lines } = captureLogger('warn');
    log.debug({}, 'no');
    log.info({}, 'no');
    log.child({ node: 'node0' }).warn({ peer: 'p' }, 'yes');
    log.error({}, 'yes too');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['yes', 'yes too']);
    expect(JSON.parse(lines[0]!)).toMatchObject({ node: 'node0', peer: 'p', level: 'warn' });
  });

  it('secret names and levels are recognised as documented', () => {
    for (const n of [
      'password',
      'db_password',
      'privateKey',
      'private_key',
      'identity_key',
      'key',
      'apiToken',
      'keyShare',
    ])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['wallet', 'keyType', 'key_type', 'public_key', 'session', 'peer', 'shares', 'err'])
      expect(isSecretName(n), n).toBe(false);
    expect(parseLogLevel('WARN')).toBe('warn');
    expect(parseLogLevel('trace')).toBeUndefined();
  });

  it('a log call never throws into the node, even for a field that cannot be serialised', () => {
    const { log } = captureLogger('debug');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => log.info({ cyclic, big: 10n }, 'x')).not.toThrow();
  });
});
