/**
 * A real cluster for end-to-end tests: a `nats-server -js` (test/helpers/nats-server.ts), the files
 * of an n-node cluster (`createClusterFiles`) and one `tessera start` process per node, built from
 * `dist/` (the test suite's pretest builds it). Nodes can be killed with SIGKILL, stopped with
 * SIGTERM and started again; `ready()` waits on the nodes' `/readyz`. The SDK client connects to
 * the same server. Everything is removed by `stop()` (which first writes every node process's log
 * into `$TESSERA_E2E_LOG_DIR` when it is set).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadInitiator, MpcClient } from '../../src/client/index.js';
import { type ClusterFiles, createClusterFiles } from '../../src/daemon/index.js';
import { connectNats, JetStreamWorkQueue, NatsBus, type WorkQueue } from '../../src/transport/index.js';
import { freePort, type NatsServer, startNatsServer } from './nats-server.js';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

export interface NodeProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Its log lines (pino JSON) and stderr. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

export interface NatsClusterOptions {
  readonly nodes?: number;
  readonly threshold?: number;
  /** Extra keys for every node's config.yaml. */
  readonly config?: Record<string, unknown>;
  /** Extra nats-server arguments. */
  readonly natsArgs?: string[];
  /** An already running server (else one is started and owned). */
  readonly server?: NatsServer;
  /** Wait until every node is ready (default true). */
  readonly waitReady?: boolean;
}

export class NatsCluster {
  readonly procs: (NodeProcess | undefined)[];
  /** Every node process started, in start order (killed and stopped ones too). */
  readonly history: NodeProcess[] = [];
  private readonly clients: { client: MpcClient; nc: NatsConnection }[] = [];

  private constructor(
    readonly server: NatsServer,
    private readonly ownsServer: boolean,
    readonly files: ClusterFiles,
    readonly healthPorts: number[],
  ) {
    this.procs = files.names.map(() => undefined);
  }

  /** Starts the server (unless given), writes the files and starts every node; waits until all are ready. */
  static async start(o: NatsClusterOptions = {}): Promise<NatsCluster> {
    const n = o.nodes ?? 3;
    const server = o.server ?? (await startNatsServer(o.natsArgs ?? []));
    const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
    const healthPorts: number[] = [];
    for (let i = 0; i < n; i++) healthPorts.push(await freePort());
    const files = await createClusterFiles(dir, {
      nodes: n,
      threshold: o.threshold ?? 1,
      natsUrl: server.url,
      healthPorts,
      config: { backup_enabled: false, ...o.config },
    });
    const c = new NatsCluster(server, o.server === undefined, files, healthPorts);
    for (let i = 0; i < n; i++) c.startNode(i);
    if (o.waitReady !== false) {
      try {
        await c.ready();
      } catch (e) {
        await c.stop();
        throw e;
      }
    }
    return c;
  }

  get names(): readonly string[] {
    return this.files.names;
  }

  /** Spawns `tessera start` for node `i` (it must not be running). */
  startNode(i: number, extraArgs: string[] = []): NodeProcess {
    const name = this.files.names[i]!;
    const proc = spawn(process.execPath, [CLI, ...this.files.startArgs(name), ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TESSERA_LOG_LEVEL: process.env.TESSERA_TEST_LOG ?? 'info' },
    });
    const lines: string[] = [];
    const collect = (d: Buffer) => {
      for (const l of d.toString().split('\n')) if (l) lines.push(l);
      if (lines.length > 20_000) lines.splice(0, 10_000);
      if (process.env.TESSERA_TEST_LOG) process.stderr.write(`[${name}] ${d}`);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const p = { name, proc, lines, exited };
    this.procs[i] = p;
    this.history.push(p);
    return p;
  }

  /** `/readyz` of node `i`: its JSON, or undefined when it does not answer. */
  async readyz(i: number): Promise<{ ready: boolean; details: Record<string, unknown> } | undefined> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.healthPorts[i]}/readyz`, { signal: AbortSignal.timeout(2000) });
      return (await r.json()) as { ready: boolean; details: Record<string, unknown> };
    } catch {
      return undefined;
    }
  }

  /**
   * Waits until each running node (or those in `which`) reports ready — and sees every member ready
   * (peers n/n) with `allPeers`, or by default when every node runs and `which` is not given (a
   * keygen needs all of them). Throws with their logs on timeout.
   */
  async ready(which?: number[], timeoutMs = 60_000, opts: { allPeers?: boolean } = {}): Promise<void> {
    const idx = which ?? this.procs.flatMap((p, i) => (p ? [i] : []));
    const all = which === undefined && this.procs.every((p) => p !== undefined);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(idx.map((i) => this.readyz(i)));
      if (states.every((s) => s?.ready && (!(opts.allPeers ?? all) || s.details.all_peers_ready === true))) return;
      for (const i of idx) {
        const p = this.procs[i];
        if (p && p.proc.exitCode !== null)
          throw new Error(`${p.name} exited with ${p.proc.exitCode}:\n${p.lines.slice(-30).join('\n')}`);
      }
      if (Date.now() > deadline)
        throw new Error(
          `nodes not ready: ${JSON.stringify(states)}\n${idx.map((i) => this.procs[i]?.lines.slice(-15).join('\n')).join('\n---\n')}`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILLs node `i` and waits until it is gone. */
  async kill(i: number): Promise<void> {
    const p = this.procs[i];
    if (!p) return;
    p.proc.kill('SIGKILL');
    await p.exited;
    this.procs[i] = undefined;
  }

  /** SIGTERMs node `i`; resolves with its exit code. */
  async terminate(i: number): Promise<number | null> {
    const p = this.procs[i];
    if (!p) return null;
    p.proc.kill('SIGTERM');
    const code = await p.exited;
    this.procs[i] = undefined;
    return code;
  }

  /**
   * An SDK client on the cluster's NATS (closed by `stop()`); `wrapWorkQueue` may interpose on its
   * work queue (e.g. to see which requests JetStream acknowledged).
   */
  async client(
    opts: { clientId?: string; resultTimeoutMs?: number; wrapWorkQueue?: (q: WorkQueue) => WorkQueue } = {},
  ): Promise<MpcClient> {
    const nc = await connectNats({ url: this.server.url, reconnectWaitMs: 100, maxReconnectWaitMs: 1000 });
    const queue = new JetStreamWorkQueue(nc);
    const client = await MpcClient.create({
      workQueue: opts.wrapWorkQueue ? opts.wrapWorkQueue(queue) : queue,
      bus: new NatsBus(nc),
      initiator: await loadInitiator(this.files.initiatorKeyFile),
      clientId: opts.clientId,
      resultTimeoutMs: opts.resultTimeoutMs ?? 120_000,
    });
    this.clients.push({ client, nc });
    return client;
  }

  /** Log lines of every node that match `re`. */
  grep(re: RegExp): string[] {
    return this.procs.flatMap((p) => p?.lines.filter((l) => re.test(l)) ?? []);
  }

  /** Stops clients, nodes (SIGKILL), the server if owned, and removes the files. Does not throw. */
  async stop(): Promise<void> {
    const dump = process.env.TESSERA_E2E_LOG_DIR;
    if (dump) {
      // every process's log, for a look after the run
      mkdirSync(dump, { recursive: true });
      for (const [k, p] of this.history.entries())
        writeFileSync(join(dump, `${k}-${p.name}.log`), `${p.lines.join('\n')}\n`);
    }
    for (const { client, nc } of this.clients.splice(0)) {
      await client.close().catch(() => {});
      await nc.close().catch(() => {});
    }
    await Promise.all(this.procs.map((_, i) => this.kill(i)));
    if (this.ownsServer) await this.server.stop();
    rmSync(this.files.dir, { recursive: true, force: true });
  }
}
