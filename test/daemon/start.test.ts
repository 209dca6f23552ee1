/** startDaemon reads everything a node needs from files, and names the file when one is wrong. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonOptions, startDaemon } from '../../src/daemon/index.js';
import { writeIdentity } from '../../src/node/index.js';
import { Vault } from '../../src/vault/index.js';
import { captureLogger, DaemonCluster } from './helpers.js';

describe('startDaemon: from config file, peers.json, identities and vault', () => {
  let c: DaemonCluster;
  beforeAll(async () => {
    c = await DaemonCluster.create(3);
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  const base = (name: string): DaemonOptions => ({
    name,
    config: c.config,
    env: {},
    peersFile: join(c.dir, 'peers.json'),
    identityDir: join(c.dir, 'identity'),
    keyFile: join(c.dir, `${name}.vault.key`),
    healthAddress: false,
    processMetrics: false,
    log: captureLogger('error').log,
  });

  it('a YAML config file, a password vault and an age-encrypted identity key: the node starts; mpcium keys are logged as hints', async () => {
    // node0 with its identity key age-encrypted and its vault opened by a password, in a directory of its own
    const dir = join(c.dir, 'alt');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(c.dir, 'peers.json'), join(dir, 'peers.json'));
    for (const n of ['node1', 'node2'])
      copyFileSync(join(c.dir, 'identity', `${n}_identity.json`), join(dir, `${n}_identity.json`));
    await writeIdentity(dir, 'node0', c.peers.node0!, { passphrase: 'correct horse battery staple!' });
    writeFileSync(join(dir, 'identity.pass'), 'correct horse battery staple!\n');
    writeFileSync(join(dir, 'vault.pass'), 'a vault password\n');
    const db = join(dir, 'db');
    (
      await Vault.create(
        join(db, 'node0'),
        { kind: 'password', password: Buffer.from('a vault password') },
        { argon2: { opsLimit: 1, memLimit: 8 * 1024 * 1024 } },
      )
    ).close();
    const pub = Buffer.from(
      generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string,
      'base64url',
    ).toString('hex');
    const cfg = join(dir, 'config.yaml');
    writeFileSync(
      cfg,
      `mpc_threshold: 1\nevent_initiator_pubkey: "${pub}"\nchain_code: "${randomBytes(32).toString('hex')}"\ndb_path: "${db}"\nbackup_enabled: false\nconsul:\n  address: localhost:8500\n`,
    );
    const { log, lines } = captureLogger('info');
    const d = await startDaemon(
      {
        name: 'node0',
        configPath: cfg,
        env: {},
        peersFile: join(dir, 'peers.json'),
        identityDir: dir,
        identityPasswordFile: join(dir, 'identity.pass'),
        passwordFile: join(dir, 'vault.pass'),
        healthAddress: false,
        processMetrics: false,
        log,
      },
      c.transports,
    );
    try {
      expect(d.node.id).toBe(c.peers.node0);
      expect(lines.some((l) => l.includes('consul') && l.includes(cfg))).toBe(true);
      expect(lines.join('\n')).not.toContain('a vault password');
      expect(lines.join('\n')).not.toContain('correct horse');
    } finally {
      await d.stop();
    }
  });

  it('a name missing from peers.json, a missing vault, a key that does not match its identity: each names the file', async () => {
    await expect(startDaemon({ ...base('nodeX') }, c.transports)).rejects.toThrow(/nodeX is not in .*peers\.json/);
    rmSync(join(c.dir, 'db', 'node2'), { recursive: true, force: true });
    await expect(startDaemon(base('node2'), c.transports)).rejects.toThrow(/no vault at .*node2.*tessera vault init/);
    await writeIdentity(join(c.dir, 'other'), 'node1', c.peers.node1!);
    const idDir = join(c.dir, 'mixed');
    mkdirSync(idDir);
    for (const n of c.names)
      copyFileSync(join(c.dir, 'identity', `${n}_identity.json`), join(idDir, `${n}_identity.json`));
    writeFileSync(join(idDir, 'node1_private.key'), readFileSync(join(c.dir, 'other', 'node1_private.key')));
    await expect(startDaemon({ ...base('node1'), identityDir: idDir }, c.transports)).rejects.toThrow(
      /private key of node1 does not match/,
    );
    await expect(startDaemon({ ...base('node0'), keyFile: join(c.dir, 'peers.json') }, c.transports)).rejects.toThrow(
      /vault key file .*peers\.json must hold 32 raw bytes/,
    );
  });
});
