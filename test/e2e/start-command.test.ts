/**
 * `tessera start` and `tessera register-peers` as processes: peers from the NATS peers bucket,
 * waiting (not exiting) while NATS is unreachable or the node is not registered, configuration
 * errors that do exit, and SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterFiles, createClusterFiles, readPeersBucket } from '../../src/daemon/index.js';
import { connectNats } from '../../src/transport/index.js';
import { CLI } from '../helpers/nats-cluster.js';
import { freePort, type NatsServer, startNatsServer } from '../helpers/nats-server.js';
import { spawnNode, waitReady } from '../helpers/node-process.js';

function tessera(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tessera start over NATS', () => {
  let server: NatsServer;
  let dir: string;
  let files: ClusterFiles;
  let ports: number[];

  beforeAll(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
    ports = [await freePort(), await freePort(), await freePort()];
    files = await createClusterFiles(join(dir, 'c'), {
      nodes: 3,
      threshold: 1,
      natsUrl: server.url,
      healthPorts: ports,
      config: { backup_enabled: false },
    });
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('register-peers writes the peers bucket, is idempotent, and refuses to give a registered name another id without --replace', async () => {
    const first = tessera(['register-peers', '--peers', files.peersFile, '--nats-url', server.url, '--json']);
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out).added.length).toBe(3);
    const again = tessera(['register-peers', '--peers', files.peersFile, '--nats-url', server.url, '--json']);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out).unchanged.length).toBe(3);
    const nc = await connectNats({ url: server.url });
    try {
      expect(await readPeersBucket(nc)).toEqual(files.peers);
      // mpcium's NATS-KV layout: bucket mpc-peers, one key per node name holding the node id
      const kv = await new Kvm(nc).open('mpc-peers');
      expect((await kv.get('node0'))?.string()).toBe(files.peers.node0);
    } finally {
      await nc.close();
    }
    const other = join(dir, 'other-peers.json');
    writeFileSync(
      other,
      JSON.stringify({ node0: '11111111-1111-4111-8111-111111111111', node9: '22222222-2222-4222-8222-222222222222' }),
    );
    const clash = tessera(['register-peers', '--peers', other, '--nats-url', server.url]);
    expect(clash.code).not.toBe(0);
    expect(clash.err).toMatch(/node0/);
    expect(clash.err).toMatch(/--replace/);
  }, 60_000);

  it('nodes started without a peers file take the peers from the bucket and become ready; SIGTERM exits 0', async () => {
    const nodes = files.names.map((name, i) =>
      spawnNode(
        CLI,
        ['start', '--name', name, '--config', files.configFiles[name]!, '--identity-dir', files.identityDir],
        {
          cwd: dir, // no peers.json here
          healthPort: ports[i]!,
        },
      ),
    );
    try {
      await Promise.all(nodes.map((n) => waitReady(n)));
      const codes = await Promise.all(nodes.map((n) => n.terminate()));
      expect(codes).toEqual([0, 0, 0]);
    } finally {
      for (const n of nodes) n.kill();
    }
  }, 120_000);

  it('a node whose NATS is not up yet waits (reporting why on /readyz) instead of exiting, and serves once NATS comes', async () => {
    const port = await freePort();
    const ports2 = [await freePort(), await freePort()];
    const late = await createClusterFiles(join(dir, 'late'), {
      nodes: 2,
      threshold: 1,
      natsUrl: `nats://127.0.0.1:${port}`,
      healthPorts: ports2,
      config: { backup_enabled: false },
    });
    const nodes = late.names.map((name, i) =>
      spawnNode(CLI, late.startArgs(name), { cwd: dir, healthPort: ports2[i]! }),
    );
    let late2: NatsServer | undefined;
    try {
      const r = await waitReady(nodes[0]!, {
        until: (j) => /unreachable|cannot reach/i.test(String(j.details?.problem)),
      });
      expect(r.ready).toBe(false);
      expect(nodes.every((n) => n.proc.exitCode === null)).toBe(true);
      late2 = await startNatsServer([], 10_000, port);
      await Promise.all(nodes.map((n) => waitReady(n)));
    } finally {
      for (const n of nodes) n.kill();
      await late2?.stop();
    }
  }, 120_000);

  it('a node on a NATS without JetStream waits, saying how to enable it, and serves once JetStream is on (no restart of the node), registering its peers file in the bucket', async () => {
    const port = await freePort();
    const hp = [await freePort(), await freePort()];
    const f = await createClusterFiles(join(dir, 'nojs'), {
      nodes: 2,
      threshold: 1,
      natsUrl: `nats://127.0.0.1:${port}`,
      healthPorts: hp,
      config: { backup_enabled: false },
    });
    const plain = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const nodes = f.names.map((name, i) => spawnNode(CLI, f.startArgs(name), { cwd: dir, healthPort: hp[i]! }));
    let js: NatsServer | undefined;
    try {
      const r = await waitReady(nodes[0]!, { until: (j) => /JetStream/.test(String(j.details?.problem)) });
      expect(String(r.details?.problem)).toMatch(/-js/);
      plain.kill('SIGKILL');
      await new Promise((res) => plain.once('exit', res));
      js = await startNatsServer([], 10_000, port);
      await Promise.all(nodes.map((n) => waitReady(n)));
      expect(nodes.every((n) => n.proc.exitCode === null)).toBe(true);
      // as mpcium's `start --peers`: the names of the file are now in the peers bucket
      const nc = await connectNats({ url: js.url });
      try {
        expect(await readPeersBucket(nc)).toEqual(f.peers);
      } finally {
        await nc.close();
      }
    } finally {
      for (const n of nodes) n.kill();
      plain.kill('SIGKILL');
      await js?.stop();
    }
  }, 120_000);

  it('a peers bucket that differs from the identity files (an extra name, a missing member) makes a node wait, saying so, never start with another membership', async () => {
    const own = await startNatsServer();
    const hp = [await freePort(), await freePort(), await freePort()];
    const f = await createClusterFiles(join(dir, 'differs'), {
      nodes: 3,
      threshold: 1,
      natsUrl: own.url,
      healthPorts: hp,
      config: { backup_enabled: false },
    });
    const nc = await connectNats({ url: own.url });
    const kv = await new Kvm(nc).create('mpc-peers', { history: 1 });
    const args = (i: number) => [
      'start',
      '-n',
      f.names[i]!,
      '-c',
      f.configFiles[f.names[i]!]!,
      '--identity-dir',
      f.identityDir,
    ];
    const nodes: ReturnType<typeof spawnNode>[] = [];
    try {
      // a name without an identity file (someone with write access to the bucket added it)
      await kv.put('ghost', new TextEncoder().encode('33333333-3333-4333-8333-333333333333'));
      for (const [n, id] of Object.entries(f.peers)) await kv.put(n, new TextEncoder().encode(id));
      nodes.push(spawnNode(CLI, args(0), { cwd: dir, healthPort: hp[0]! }));
      const a = await waitReady(nodes[0]!, { until: (j) => /ghost/.test(String(j.details?.problem)) });
      expect(a.ready).toBe(false);
      // a member removed from the bucket: the node does not shrink the cluster
      await kv.delete('ghost');
      await kv.delete(f.names[2]!);
      const b = await waitReady(nodes[0]!, {
        until: (j) => new RegExp(`${f.names[2]}.*lacks`).test(String(j.details?.problem)),
      });
      expect(b.ready).toBe(false);
      expect(nodes[0]!.proc.exitCode).toBe(null);
      // put right: every node starts with the full membership
      await kv.put(f.names[2]!, new TextEncoder().encode(f.peers[f.names[2]!]!));
      nodes.push(
        spawnNode(CLI, args(1), { cwd: dir, healthPort: hp[1]! }),
        spawnNode(CLI, args(2), { cwd: dir, healthPort: hp[2]! }),
      );
      const ready = await Promise.all(
        nodes.map((n) => waitReady(n, { until: (j) => j.ready && j.details?.all_peers_ready === true })),
      );
      expect(ready.map((r) => r.details?.peers_ready_count)).toEqual(['3/3', '3/3', '3/3']);
    } finally {
      for (const n of nodes) n.kill();
      await nc.close();
      await own.stop();
    }
  }, 120_000);

  it('a configuration error exits at once with 78 (EX_CONFIG, not restarted by the systemd unit), naming the file', () => {
    const r = tessera(['start', '--name', 'node0', '--config', join(dir, 'missing.yaml')]);
    expect(r.code).toBe(78);
    expect(r.err).toMatch(/missing\.yaml/);
  });

  it('a node not yet in the peers bucket serves a not-ready /readyz saying so, and starts once register-peers runs', async () => {
    const own = await startNatsServer();
    const hp = [await freePort(), await freePort()];
    const f = await createClusterFiles(join(dir, 'unregistered'), {
      nodes: 2,
      threshold: 1,
      natsUrl: own.url,
      healthPorts: hp,
      config: { backup_enabled: false },
    });
    const nodes = f.names.map((name, i) =>
      spawnNode(CLI, ['start', '-n', name, '-c', f.configFiles[name]!, '--identity-dir', f.identityDir], {
        cwd: dir,
        healthPort: hp[i]!,
      }),
    );
    try {
      const r = await waitReady(nodes[0]!, { until: (j) => /peers bucket/.test(String(j.details?.problem)) });
      expect(r.ready).toBe(false);
      const reg = tessera(['register-peers', '--peers', f.peersFile, '--nats-url', own.url]);
      expect(reg.code, reg.err).toBe(0);
      await Promise.all(nodes.map((n) => waitReady(n)));
    } finally {
      for (const n of nodes) n.kill();
      await own.stop();
    }
  }, 120_000);
});
