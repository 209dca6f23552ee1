/**
 * A cluster of `tessera start` processes on this machine over NATS, for `tessera dev --nats`: the
 * files of `createClusterFiles` in a directory, one child process per node (this same CLI), each
 * watched through its `/readyz`. `stopNodes()` ends them with SIGTERM (a graceful shutdown) so
 * their vaults can then be opened here, for a backup and the audit check.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBackup } from '../backup/index.js';
import { InvalidStateError, TimeoutError } from '../common/errors.js';
import { type ClusterFiles, createClusterFiles, freeLocalPort, loadConfigFile } from '../daemon/index.js';
import { Vault } from '../vault/index.js';

const MAIN = join(fileURLToPath(new URL('.', import.meta.url)), 'main.js');

interface Proc {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly tail: string[];
  readonly exited: Promise<number | null>;
}

export class ProcessCluster {
  private readonly procs: Proc[] = [];

  private constructor(
    readonly files: ClusterFiles,
    private readonly healthPorts: number[],
  ) {}

  /**
   * Writes the files into `dir` and starts every node; resolves once all report ready. Throws
   * `TimeoutError` (with the last log lines of the nodes not ready), what writing the files throws.
   */
  static async start(o: { dir: string; nodes: number; threshold: number; natsUrl: string }): Promise<ProcessCluster> {
    const healthPorts: number[] = [];
    for (let i = 0; i < o.nodes; i++) healthPorts.push(await freeLocalPort());
    const files = await createClusterFiles(o.dir, { ...o, healthPorts });
    const c = new ProcessCluster(files, healthPorts);
    try {
      for (const name of files.names) c.spawn(name);
      await c.ready(60_000);
    } catch (e) {
      await c.kill();
      throw e;
    }
    return c;
  }

  private spawn(name: string): void {
    const proc = spawn(process.execPath, [MAIN, ...this.files.startArgs(name)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TESSERA_LOG_LEVEL: process.env.TESSERA_LOG_LEVEL ?? 'warn' },
    });
    const tail: string[] = [];
    const keep = (d: Buffer) => {
      for (const l of d.toString().split('\n')) if (l) tail.push(l);
      if (tail.length > 50) tail.splice(0, tail.length - 50);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    this.procs.push({ name, proc, tail, exited });
  }

  private async readyOne(i: number): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.healthPorts[i]}/readyz`, { signal: AbortSignal.timeout(2000) });
      return ((await r.json()) as { ready?: boolean }).ready === true;
    } catch {
      return false;
    }
  }

  private async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(this.procs.map((_, i) => this.readyOne(i)));
      if (states.every(Boolean)) return;
      const dead = this.procs.find((p) => p.proc.exitCode !== null);
      if (dead)
        throw new InvalidStateError(
          `node ${dead.name} exited with ${dead.proc.exitCode} while starting:\n${dead.tail.join('\n')}`,
        );
      if (Date.now() > deadline) {
        const slow = this.procs.filter((_, i) => !states[i]);
        throw new TimeoutError(
          `nodes ${slow.map((p) => p.name).join(', ')} reporting ready (${slow.map((p) => p.tail.slice(-5).join('\n')).join('\n')})`,
          timeoutMs,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The node ids in node order. */
  get nodeIds(): string[] {
    return this.files.names.map((n) => this.files.peers[n]!);
  }

  /** SIGTERMs every node; resolves with their exit codes (0 is a clean shutdown). Does not throw. */
  async stopNodes(): Promise<(number | null)[]> {
    const codes = await Promise.all(
      this.procs.map(async (p) => {
        if (p.proc.exitCode !== null) return p.proc.exitCode;
        p.proc.kill('SIGTERM');
        const t = setTimeout(() => p.proc.kill('SIGKILL'), 60_000);
        const code = await p.exited;
        clearTimeout(t);
        return code;
      }),
    );
    return codes;
  }

  /** SIGKILLs whatever still runs. Does not throw. */
  async kill(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.proc.exitCode === null && p.proc.signalCode === null) {
          p.proc.kill('SIGKILL');
          await p.exited;
        }
      }),
    );
  }

  private async withVault<T>(name: string, f: (v: Vault) => Promise<T> | T): Promise<T> {
    const key = readFileSync(join(this.files.dir, name, 'vault.key'));
    const vault = await Vault.open(join(this.files.dir, 'db', name), { kind: 'key', key });
    key.fill(0);
    try {
      return await f(vault);
    } finally {
      vault.close();
    }
  }

  /**
   * Backs up every (stopped) node's vault to its backup directory, encrypted to the cluster's
   * backup recipient; resolves with the number of files written. Throws what the vault and the
   * backup throw (e.g. `VaultLockedError` while a node still runs).
   */
  async backupStopped(): Promise<number> {
    let files = 0;
    for (const name of this.files.names) {
      const { config } = loadConfigFile(this.files.configFiles[name]!, {});
      const r = await this.withVault(name, (v) =>
        runBackup(v, {
          outDir: config.backup_dir,
          nodeId: this.files.peers[name]!,
          recipients: config.tessera.backup.recipients,
        }),
      );
      if (r.file) files++;
    }
    return files;
  }

  /** Verifies every (stopped) node's audit log. Throws what opening the vault throws. */
  async auditsStopped(): Promise<{ entries: number; intact: boolean }> {
    let entries = 0;
    let intact = true;
    for (const name of this.files.names) {
      const r = await this.withVault(name, (v) => v.verifyAudit());
      entries += r.entries;
      intact &&= r.ok;
    }
    return { entries, intact };
  }
}
