/** The client commands' NATS flags and argument parsing, in process; the credentials against real servers. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDerivationPath, parseKeyType } from '../../src/cli/args.js';
import { DEFAULT_NATS_URL, resolveNatsOptions } from '../../src/cli/nats-client-options.js';
import { createSigningKey } from '../../src/node/index.js';
import { connectNats } from '../../src/transport/index.js';
import { type NatsServer, startNatsServer } from '../helpers/nats-server.js';

let dir: string;
let config: string;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-nats-options-'));
  config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'nats:',
      '  url: "nats://a.example:4222, nats://b.example:4222"',
      '  username: node',
      '  password: from-the-file',
      '  tls:',
      '    ca_cert: /etc/ca.pem',
      'mpc_threshold: 1',
      `event_initiator_pubkey: "${createSigningKey('ed25519').publicKey}"`,
      `chain_code: "${randomBytes(32).toString('hex')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'password'), 's3cret\n');
  writeFileSync(join(dir, 'token'), 'tok-en\r\n');
  writeFileSync(join(dir, 'empty'), '\n');
});

describe('resolveNatsOptions', () => {
  it('without flags: NATS_URL, else the default server', () => {
    expect(resolveNatsOptions({}, {}).nats).toMatchObject({ url: DEFAULT_NATS_URL, tls: undefined });
    expect(resolveNatsOptions({}, { NATS_URL: 'nats://env:4222' }).nats.url).toBe('nats://env:4222');
    expect(resolveNatsOptions({ natsUrl: 'nats://x:1, nats://y:2' }, {}).nats.url).toEqual([
      'nats://x:1',
      'nats://y:2',
    ]);
  });

  it("--config takes the file's nats: section (the daemon's NATS_URL override included) and its chain_code; flags win", () => {
    const r = resolveNatsOptions({ config }, {});
    expect(r.nats).toMatchObject({
      url: ['nats://a.example:4222', 'nats://b.example:4222'],
      user: 'node',
      password: 'from-the-file',
      tls: { caFile: '/etc/ca.pem' },
    });
    expect(r.config?.chain_code).toMatch(/^[0-9a-f]{64}$/);
    expect(resolveNatsOptions({ config }, { NATS_URL: 'nats://env:4222' }).nats.url).toBe('nats://env:4222');
    const over = resolveNatsOptions(
      { config, natsUrl: 'nats://flag:4222', natsTokenFile: join(dir, 'token'), natsCert: '/c.pem', natsKey: '/k.pem' },
      {},
    ).nats;
    // any auth flag replaces the file's auth entirely; TLS flags add to the file's
    expect(over).toMatchObject({ url: 'nats://flag:4222', token: 'tok-en', user: undefined, password: undefined });
    expect(over.tls).toEqual({ caFile: '/etc/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' });
  });

  it('secrets come from files (one line ending trimmed); contradictions are refused naming the flags', () => {
    expect(resolveNatsOptions({ natsUser: 'u', natsPasswordFile: join(dir, 'password') }, {}).nats).toMatchObject({
      user: 'u',
      password: 's3cret',
    });
    expect(() => resolveNatsOptions({ natsPasswordFile: join(dir, 'password') }, {})).toThrow(/needs --nats-user/);
    expect(() => resolveNatsOptions({ natsUser: 'u', natsTokenFile: join(dir, 'token') }, {})).toThrow(
      /--nats-user and --nats-token-file/,
    );
    expect(() => resolveNatsOptions({ natsCreds: 'a', natsNkey: 'b' }, {})).toThrow(/one NATS authentication/);
    expect(() => resolveNatsOptions({ natsCert: '/c.pem' }, {})).toThrow(/go together/);
    expect(() => resolveNatsOptions({ natsTokenFile: join(dir, 'empty') }, {})).toThrow(/is empty/);
    expect(() => resolveNatsOptions({ natsTokenFile: join(dir, 'nope') }, {})).toThrow(/reading the NATS token file/);
    expect(() => resolveNatsOptions({ natsUrl: ' , ' }, {})).toThrow(/names no server/);
    expect(() => resolveNatsOptions({ config: join(dir, 'missing.yaml') }, {})).toThrow(/no such file/);
  });
});

describe('the options resolve to working connections', () => {
  let userServer: NatsServer;
  let tokenServer: NatsServer;
  beforeAll(async () => {
    userServer = await startNatsServer(['--user', 'client', '--pass', 's3cret']);
    tokenServer = await startNatsServer(['--auth', 'tok-en']);
  });
  afterAll(async () => {
    await userServer?.stop();
    await tokenServer?.stop();
  });

  it('user and password file, token file: accepted; a wrong password is a typed auth error', async () => {
    const ok = resolveNatsOptions({
      natsUrl: userServer.url,
      natsUser: 'client',
      natsPasswordFile: join(dir, 'password'),
    });
    await (await connectNats(ok.nats)).close();
    const token = resolveNatsOptions({ natsUrl: tokenServer.url, natsTokenFile: join(dir, 'token') });
    await (await connectNats(token.nats)).close();
    writeFileSync(join(dir, 'wrong'), 'nope');
    const bad = resolveNatsOptions({
      natsUrl: userServer.url,
      natsUser: 'client',
      natsPasswordFile: join(dir, 'wrong'),
    });
    await expect(connectNats(bad.nats)).rejects.toMatchObject({ reason: 'auth' });
  });
});

describe('argument parsing', () => {
  it('derivation paths: m/…, plain / and comma lists; hardened, empty and oversized indices refused', () => {
    expect(parseDerivationPath('p', 'm/44/60/0/0/0')).toEqual([44, 60, 0, 0, 0]);
    expect(parseDerivationPath('p', '44/501/0')).toEqual([44, 501, 0]);
    expect(parseDerivationPath('p', '44, 60,0')).toEqual([44, 60, 0]);
    expect(parseDerivationPath('p', String(2 ** 31 - 1))).toEqual([2 ** 31 - 1]);
    expect(() => parseDerivationPath('p', "m/44'/60")).toThrow(/hardened/);
    expect(() => parseDerivationPath('p', 'm/44h')).toThrow(/hardened/);
    expect(() => parseDerivationPath('p', 'm')).toThrow(/empty/);
    expect(() => parseDerivationPath('p', String(2 ** 31))).toThrow(/below 2\^31/);
    expect(() => parseDerivationPath('p', '1/x')).toThrow(/not an index/);
  });

  it('key types: secp256k1/ecdsa and ed25519/eddsa', () => {
    expect(parseKeyType('k', 'ecdsa')).toBe('secp256k1');
    expect(parseKeyType('k', 'ed25519')).toBe('ed25519');
    expect(() => parseKeyType('k', 'p256')).toThrow(/secp256k1/);
  });
});
