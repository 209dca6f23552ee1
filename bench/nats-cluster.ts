/**
 * A cluster of real processes for the benchmarks: one `nats-server -js` (free port, temporary
 * store, HTTP monitoring on another free port) and one `tessera start` process per node, from the
 * files `createClusterFiles` writes, all on this machine. Node processes can get extra node
 * arguments (`--cpu-prof`, `--cpu-prof-dir`) and a wrapper command (`strace …`); their logs go to
 * files in the cluster directory (not through this process). `stop()` ends the nodes with SIGTERM
 * (a graceful stop, so `--cpu-prof` writes its profiles), then the server, and removes everything
 * but the directories the caller asked to keep.
 *
 * The end-to-end tests have their own launcher (test/helpers/nats-cluster.ts: kill, restart,
 * several clients); the benchmarks may not import test code.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadInitiator, MpcClient } from '../src/client/index.js';
import { acceptsConnections, type ClusterFiles, createClusterFiles, freeLocalPort } from '../src/daemon/index.js';

/** A TCP port nobody listens on right now. */
export const freePort = freeLocalPort;

import { connectNats, JetStreamWorkQueue, NatsBus } from '../src/transport/index.js';

/** The CLI the node processes run (built by `npm run build`). */
export const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Throws, saying what to install, when nats-server is not on PATH. */
export function requireNatsServer(): void {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(
      'nats-server is not installed or not on PATH: this benchmark runs a real server ' +
        '(Debian: apt-get install -y nats-server; or a release from nats.io)',
    );
}

export interface NatsServerProcess {
  readonly url: string;
  readonly port: number;
  /** The HTTP monitoring port (`/varz`, `/connz`). */
  readonly monitorPort: number;
  readonly proc: ChildProcess;
  /** `/varz` (or another monitoring endpoint) as JSON. */
  monitor<T = Record<string, unknown>>(endpoint?: string): Promise<T>;
}

export interface NodeProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Its stdout and stderr (pino JSON lines). */
  readonly logFile: string;
  readonly exited: Promise<number | null>;
}

export interface BenchClusterOptions {
  readonly nodes?: number;
  readonly threshold?: number;
  /** Extra keys for every node's config.yaml. */
  readonly config?: Record<string, unknown>;
  /** Extra arguments of each node process before the CLI (e.g. `--cpu-prof`). */
  readonly nodeArgs?: (name: string) => string[];
  /** A command each node process runs under (e.g. `['strace', '-f', …, '--']`). */
  readonly wrapper?: (name: string) => string[];
  /** A command nats-server runs under. */
  readonly serverWrapper?: string[];
  /** `TESSERA_LOG_LEVEL` of the nodes (default: the configuration's, `info`). */
  readonly logLevel?: string;
}

/** A running cluster; `stop()` ends everything. */
export class BenchCluster {
  readonly procs: NodeProcess[] = [];
  private readonly connections: NatsConnection[] = [];

  private constructor(
    readonly server: NatsServerProcess,
    private readonly storeDir: string,
    readonly files: ClusterFiles,
    readonly healthPorts: number[],
  ) {}

  /** Starts the server, writes the files, starts every node and waits until all are ready. Throws with the logs if one fails. */
  static async start(o: BenchClusterOptions = {}): Promise<BenchCluster> {
    requireNatsServer();
    const n = o.nodes ?? 3;
    const port = await freePort();
    const monitorPort = await freePort();
    const storeDir = mkdtempSync(join(tmpdir(), 'tessera-bench-nats-'));
    const cmd = [
      ...(o.serverWrapper ?? []),
      'nats-server',
      ...['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', storeDir],
    ];
    const proc = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: string[] = [];
    proc.stderr!.on('data', (d: Buffer) => {
      stderr.push(d.toString());
      if (stderr.length > 200) stderr.shift();
    });
    const deadline = Date.now() + 10_000;
    while (!(await acceptsConnections(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        killTree(proc.pid!, 'SIGKILL');
        rmSync(storeDir, { recursive: true, force: true });
        throw new Error(`nats-server did not start on port ${port}: ${stderr.join('').slice(-2000)}`);
      }
      await sleep(25);
    }
    const server: NatsServerProcess = {
      url: `nats://127.0.0.1:${port}`,
      port,
      monitorPort,
      proc,
      monitor: async <T>(endpoint = 'varz') =>
        (await (await fetch(`http://127.0.0.1:${monitorPort}/${endpoint}`)).json()) as T,
    };
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
    const healthPorts: number[] = [];
    for (let i = 0; i < n; i++) healthPorts.push(await freePort());
    let c: BenchCluster | undefined;
    try {
      const files = await createClusterFiles(dir, {
        nodes: n,
        threshold: o.threshold ?? 1,
        natsUrl: server.url,
        healthPorts,
        config: { backup_enabled: false, ...o.config },
      });
      c = new BenchCluster(server, storeDir, files, healthPorts);
      for (const name of files.names) c.startNode(name, o);
      await c.ready();
      return c;
    } catch (e) {
      if (c) await c.stop();
      else {
        killTree(proc.pid!, 'SIGKILL');
        rmSync(storeDir, { recursive: true, force: true });
        rmSync(dir, { recursive: true, force: true });
      }
      throw e;
    }
  }

  private startNode(name: string, o: BenchClusterOptions): void {
    const logFile = join(this.files.dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const cmd = [...(o.wrapper?.(name) ?? []), process.execPath, ...(o.nodeArgs?.(name) ?? [])];
    const proc = spawn(cmd[0]!, [...cmd.slice(1), CLI, ...this.files.startArgs(name)], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...(o.logLevel ? { TESSERA_LOG_LEVEL: o.logLevel } : {}) },
    });
    closeSync(fd);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    this.procs.push({ name, proc, logFile, exited });
  }

  /** The last `lines` lines of node `i`'s log. */
  logTail(i: number, lines = 20): string {
    try {
      return readFileSync(this.procs[i]!.logFile, 'utf8')
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '';
    }
  }

  /** Waits until every node's `/readyz` says ready. Throws with their logs on timeout or exit. */
  async ready(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.healthPorts.map(async (p) => {
          try {
            const r = await fetch(`http://127.0.0.1:${p}/readyz`, { signal: AbortSignal.timeout(2000) });
            return ((await r.json()) as { ready: boolean }).ready;
          } catch {
            return false;
          }
        }),
      );
      if (states.every(Boolean)) return;
      const dead = this.procs.findIndex((p) => p.proc.exitCode !== null);
      if (dead >= 0 || Date.now() > deadline)
        throw new Error(
          dead >= 0
            ? `${this.procs[dead]!.name} exited with ${this.procs[dead]!.proc.exitCode}:\n${this.logTail(dead, 30)}`
            : `nodes not ready after ${timeoutMs} ms:\n${this.procs.map((_, i) => this.logTail(i, 10)).join('\n---\n')}`,
        );
      await sleep(200);
    }
  }

  /** An SDK client on the cluster's NATS, with its own connection (closed by `stop()`). */
  async client(opts: { clientId?: string } = {}): Promise<MpcClient> {
    const nc = await connectNats({ url: this.server.url, name: 'bench-client' });
    this.connections.push(nc);
    return MpcClient.create({
      workQueue: new JetStreamWorkQueue(nc),
      bus: new NatsBus(nc),
      initiator: await loadInitiator(this.files.initiatorKeyFile),
      clientId: opts.clientId,
    });
  }

  /** Process ids: each node's (its wrapper's, under one) and the server's. */
  get pids(): { nodes: number[]; server: number } {
    return { nodes: this.procs.map((p) => p.proc.pid!), server: this.server.proc.pid! };
  }

  /**
   * Ends the nodes with SIGTERM (SIGKILL after `graceMs`), closes the client connections, kills
   * the server and removes the files. Does not throw.
   */
  async stop(graceMs = 30_000): Promise<void> {
    for (const nc of this.connections.splice(0)) await nc.close().catch(() => {});
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
        // the node itself, not a wrapper (strace) that would not pass the signal on
        killTree(p.proc.pid!, 'SIGTERM');
        const t = setTimeout(() => killTree(p.proc.pid!, 'SIGKILL'), graceMs);
        await p.exited;
        clearTimeout(t);
      }),
    );
    if (this.server.proc.exitCode === null) {
      const gone = new Promise((r) => this.server.proc.once('exit', r));
      killTree(this.server.proc.pid!, 'SIGKILL');
      await gone;
    }
    rmSync(this.storeDir, { recursive: true, force: true });
    rmSync(this.files.dir, { recursive: true, force: true });
  }
}

/**
 * CPU ms (user + system, or system only) that a process and its live descendants (a wrapped node)
 * have used so far, from /proc (Linux; 0 for a process that is gone).
 */
export function processCpuMs(pid: number, part: 'all' | 'system' = 'all'): number {
  let ms = 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5); f[0] is field 3
    ms = (((part === 'all' ? Number(f[11]) : 0) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
  for (const child of childrenOf(pid)) ms += processCpuMs(child, part);
  return ms;
}

/** Sends `signal` to the leaves of the process tree under `pid` (the process itself when it has no children). */
function killTree(pid: number, signal: NodeJS.Signals): void {
  const kids = childrenOf(pid);
  if (kids.length === 0) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
    return;
  }
  for (const k of kids) killTree(k, signal);
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')
        .split(' ')
        .filter((x) => x !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** Clock ticks per second of /proc (sysconf(_SC_CLK_TCK): 100 on Linux everywhere in practice). */
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;
