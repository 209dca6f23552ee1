/**
 * Nodes on a NATS server that demands TLS with client certificates (mutual TLS), user/password,
 * a token, an nkey or a creds file (operator mode, JWTs made here): configured with the matching `nats:` keys they connect and sign; with a
 * missing client certificate, an untrusted server certificate or wrong credentials `tessera start`
 * exits non-zero at once with a message that names what to fix (it does not retry in a loop).
 * Certificates come from `openssl` in a temporary directory, nkeys from nats.js's nkeys.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credsAuthenticator, nkeyAuthenticator, nkeys } from '@nats-io/transport-node';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { type NatsServer, startNatsServer } from '../helpers/nats-server.js';
import { servesKeygenAndSign } from '../helpers/wire-checks.js';
import { goConsumer, WireClient } from '../helpers/wire-client.js';

type KeyPair = ReturnType<typeof nkeys.createUser>;

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Tessera test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const leaf = (name: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n');
  leaf('client', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  return {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
  };
}

/** A copy of node `i`'s config.yaml with another `nats:` section; returns its path. */
function configWithNats(cluster: NatsCluster, i: number, nats: Record<string, unknown>, tag: string): string {
  const name = cluster.names[i]!;
  const config = parse(readFileSync(cluster.files.configFiles[name]!, 'utf8')) as Record<string, unknown>;
  const file = join(cluster.files.dir, name, `config-${tag}.yaml`);
  writeFileSync(file, stringify({ ...config, nats }));
  return file;
}

/**
 * Restarts node `i` with `config`, expects it to exit non-zero by itself (no retry loop) and
 * returns its output; then starts it again with its own configuration and waits for the cluster.
 */
async function refusedThenRestored(cluster: NatsCluster, i: number, config: string): Promise<string> {
  expect(await cluster.terminate(i)).toBe(0);
  const p = cluster.startNode(i, ['--config', config]);
  // it must exit by itself; a node retrying forever fails here with its log
  const code = await Promise.race([
    p.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`the node did not exit:\n${p.lines.join('\n')}`)), 60_000).unref(),
    ),
  ]);
  cluster.procs[i] = undefined;
  expect(code, p.lines.join('\n')).not.toBe(0);
  expect(code).not.toBeNull();
  const output = p.lines.join('\n');
  cluster.startNode(i);
  await cluster.ready();
  return output;
}

/** Keygen and a signature per curve with the reference-only client (connected with `opts`). */
async function signs(cluster: NatsCluster, opts: Parameters<typeof WireClient.connect>[1] = {}): Promise<void> {
  const wc = await WireClient.connect(cluster.server.url, opts);
  try {
    for (const op of ['keygen', 'signing'] as const) await wc.resultConsumer(goConsumer(op, 'sec'));
    await servesKeygenAndSign(cluster, wc, 'sec');
    for (const op of ['keygen', 'signing'] as const) await wc.deleteConsumer(goConsumer(op, 'sec').durable);
  } finally {
    await wc.close();
  }
}

describe('NATS with mutual TLS (a CA, a server and a client certificate made with openssl)', () => {
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let server: NatsServer;
  let cluster: NatsCluster;
  let nats: Record<string, unknown>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
    certs = makeCertificates(dir);
    const conf = join(dir, 'nats-server.conf');
    writeFileSync(
      conf,
      `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"\n  ca_file: "${certs.ca}"\n  verify: true\n  timeout: 5\n}\n`,
    );
    server = await startNatsServer(['-c', conf]);
    nats = {
      url: server.url,
      tls: { ca_cert: certs.ca, client_cert: certs.clientCert, client_key: certs.clientKey },
    };
    cluster = await NatsCluster.start({ server, config: { nats } });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('nodes configured with nats.tls.* connect over mutual TLS and sign', async () => {
    await signs(cluster, { tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey } });
  });

  it('the server refuses a client without a certificate', async () => {
    await expect(WireClient.connect(server.url, { tls: { caFile: certs.ca }, timeout: 3000 })).rejects.toThrow();
  });

  it('a node without the client certificate exits non-zero with a TLS message naming nats.tls', async () => {
    const out = await refusedThenRestored(
      cluster,
      2,
      configWithNats(cluster, 2, { url: server.url, tls: { ca_cert: certs.ca } }, 'no-client-cert'),
    );
    expect(out).toMatch(/TLS/);
    expect(out).toMatch(/nats\.tls/);
    expect(out).not.toMatch(/NATS is unreachable; retrying/);
  });

  it('a node that does not trust the server certificate (no ca_cert) exits non-zero with a TLS message', async () => {
    const out = await refusedThenRestored(
      cluster,
      1,
      configWithNats(
        cluster,
        1,
        { url: server.url, tls: { client_cert: certs.clientCert, client_key: certs.clientKey } },
        'no-ca',
      ),
    );
    expect(out).toMatch(/TLS/);
    expect(out).toMatch(/certificate/i);
    expect(out).not.toMatch(/NATS is unreachable; retrying/);
    // and the cluster signs with the nodes restarted on the right configuration
    await signs(cluster, { tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey } });
  });
});

/** A JWT as nats-server's operator mode reads it (nats-io/jwt v2): header, claims, Ed25519 signature by `issuer`. */
function natsJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
  const base32 = (buf: Uint8Array) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = 0;
    let v = 0;
    let out = '';
    for (const x of buf) {
      v = ((v << 8) | x) & 0xffff;
      bits += 8;
      while (bits >= 5) {
        out += alphabet[(v >>> (bits - 5)) & 31];
        bits -= 5;
      }
    }
    return bits > 0 ? out + alphabet[(v << (5 - bits)) & 31] : out;
  };
  const claims = { jti: '', iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats };
  claims.jti = base32(createHash('sha256').update(JSON.stringify(claims)).digest());
  const body = `${b64u(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${b64u(JSON.stringify(claims))}`;
  return `${body}.${b64u(issuer.sign(new TextEncoder().encode(body)))}`;
}

/** A `.creds` file: the user's JWT and its nkey seed. */
function credsFile(jwt: string, user: KeyPair): string {
  return `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`;
}

describe('NATS credentials: user/password, token, nkey, creds', () => {
  const credentialMessage = /refused the credentials/;

  it('user/password: the right ones connect and sign; a wrong password exits non-zero naming the credentials', async () => {
    const server = await startNatsServer(['--user', 'tessera', '--pass', 's3cret-pass']);
    let cluster: NatsCluster | undefined;
    try {
      cluster = await NatsCluster.start({
        server,
        config: { nats: { url: server.url, username: 'tessera', password: 's3cret-pass' } },
      });
      await signs(cluster, { user: 'tessera', pass: 's3cret-pass' });
      const out = await refusedThenRestored(
        cluster,
        2,
        configWithNats(cluster, 2, { url: server.url, username: 'tessera', password: 'pw-Zq81x-bad' }, 'wrong-pass'),
      );
      expect(out).toMatch(credentialMessage);
      expect(out).toMatch(/nats\.username\/password/);
      expect(out).not.toMatch(/pw-Zq81x-bad/); // the password is not echoed
      await signs(cluster, { user: 'tessera', pass: 's3cret-pass' });
    } finally {
      await cluster?.stop();
      await server.stop();
    }
  });

  it('token: the right one connects and signs; a wrong one exits non-zero naming the credentials', async () => {
    const server = await startNatsServer(['--auth', 'tok-right-123']);
    let cluster: NatsCluster | undefined;
    try {
      cluster = await NatsCluster.start({ server, config: { nats: { url: server.url, token: 'tok-right-123' } } });
      await signs(cluster, { token: 'tok-right-123' });
      const out = await refusedThenRestored(
        cluster,
        0,
        configWithNats(cluster, 0, { url: server.url, token: 'tok-wrong-456' }, 'wrong-token'),
      );
      expect(out).toMatch(credentialMessage);
      expect(out).toMatch(/token/);
      expect(out).not.toMatch(/tok-wrong-456/);
    } finally {
      await cluster?.stop();
      await server.stop();
    }
  });

  it('nkey: a seed file the server lists connects and signs; another seed exits non-zero naming the credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-nkey-'));
    const user = nkeys.createUser();
    const stranger = nkeys.createUser();
    const seedFile = join(dir, 'user.nk');
    const strangerFile = join(dir, 'stranger.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`, { mode: 0o600 });
    writeFileSync(strangerFile, new TextDecoder().decode(stranger.getSeed()), { mode: 0o600 });
    const conf = join(dir, 'nats-server.conf');
    writeFileSync(conf, `authorization {\n  users: [ { nkey: "${user.getPublicKey()}" } ]\n}\n`);
    const server = await startNatsServer(['-c', conf]);
    let cluster: NatsCluster | undefined;
    try {
      cluster = await NatsCluster.start({ server, config: { nats: { url: server.url, nkey_file: seedFile } } });
      const seed = user.getSeed();
      await signs(cluster, {
        authenticator: nkeyAuthenticator(seed),
      });
      const out = await refusedThenRestored(
        cluster,
        1,
        configWithNats(cluster, 1, { url: server.url, nkey_file: strangerFile }, 'wrong-nkey'),
      );
      expect(out).toMatch(credentialMessage);
      expect(out).toMatch(/nkey/);
      expect(out).not.toMatch(new RegExp(new TextDecoder().decode(stranger.getSeed())));
    } finally {
      await cluster?.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creds (operator mode, JWTs made here): a user of the account connects and signs; a user of an unknown account exits non-zero naming the credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-creds-'));
    const operator = nkeys.createOperator();
    const system = nkeys.createAccount();
    const account = nkeys.createAccount();
    const user = nkeys.createUser();
    const unlimited = {
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
    };
    const jetstream = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
    const operatorJwt = natsJwt(operator, operator.getPublicKey(), 'operator', {
      system_account: system.getPublicKey(),
      type: 'operator',
      version: 2,
    });
    const systemJwt = natsJwt(operator, system.getPublicKey(), 'SYS', {
      limits: unlimited,
      type: 'account',
      version: 2,
    });
    const accountJwt = natsJwt(operator, account.getPublicKey(), 'tessera', {
      limits: { ...unlimited, ...jetstream },
      default_permissions: { pub: {}, sub: {} },
      type: 'account',
      version: 2,
    });
    const userClaims = { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2 };
    const creds = join(dir, 'node.creds');
    writeFileSync(creds, credsFile(natsJwt(account, user.getPublicKey(), 'node', userClaims), user), { mode: 0o600 });
    const foreignAccount = nkeys.createAccount();
    const foreignUser = nkeys.createUser();
    const foreign = join(dir, 'foreign.creds');
    writeFileSync(
      foreign,
      credsFile(natsJwt(foreignAccount, foreignUser.getPublicKey(), 'node', userClaims), foreignUser),
      { mode: 0o600 },
    );
    writeFileSync(join(dir, 'operator.jwt'), operatorJwt);
    const conf = join(dir, 'nats-server.conf');
    writeFileSync(
      conf,
      `operator: "${join(dir, 'operator.jwt')}"\nsystem_account: ${system.getPublicKey()}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: "${accountJwt}"\n  ${system.getPublicKey()}: "${systemJwt}"\n}\n`,
    );
    const server = await startNatsServer(['-c', conf]);
    let cluster: NatsCluster | undefined;
    try {
      cluster = await NatsCluster.start({ server, config: { nats: { url: server.url, creds_file: creds } } });
      await signs(cluster, { authenticator: credsAuthenticator(readFileSync(creds)) });
      const out = await refusedThenRestored(
        cluster,
        2,
        configWithNats(cluster, 2, { url: server.url, creds_file: foreign }, 'foreign-creds'),
      );
      expect(out).toMatch(credentialMessage);
      expect(out).toMatch(/creds/);
    } finally {
      await cluster?.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
