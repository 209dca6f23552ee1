/** One `tessera …` child process with a health port: spawn, wait for `/readyz`, SIGTERM, SIGKILL. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface NodeChild {
  readonly proc: ChildProcess;
  readonly healthPort: number;
  /** stdout and stderr lines (the last 2,000). */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  /** SIGTERM; resolves with the exit code. */
  terminate(): Promise<number | null>;
  /** SIGKILL if still running. Does not throw. */
  kill(): void;
}

/** Spawns `node <cli> ...args`. */
export function spawnNode(
  cli: string,
  args: string[],
  o: { cwd?: string; healthPort: number; env?: Record<string, string> },
): NodeChild {
  const proc = spawn(process.execPath, [cli, ...args], {
    cwd: o.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  const lines: string[] = [];
  const keep = (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l) lines.push(l);
    if (lines.length > 2000) lines.splice(0, lines.length - 2000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    healthPort: o.healthPort,
    lines,
    exited,
    async terminate() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

export type Readyz = { ready: boolean; details?: Record<string, unknown> };

/**
 * Polls `/readyz` until it is ready (or `until` holds for its JSON). Throws with the child's last
 * lines if it exits or `timeoutMs` passes.
 */
export async function waitReady(
  n: NodeChild,
  o: { until?: (j: Readyz) => boolean; timeoutMs?: number } = {},
): Promise<Readyz> {
  const until = o.until ?? ((j: Readyz) => j.ready);
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let last: Readyz | undefined;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${n.healthPort}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = (await r.json()) as Readyz;
      if (until(last)) return last;
    } catch {
      // not listening yet
    }
    if (n.proc.exitCode !== null) throw new Error(`exited with ${n.proc.exitCode}:\n${n.lines.slice(-30).join('\n')}`);
    if (Date.now() > deadline)
      throw new Error(`not there in time (last /readyz ${JSON.stringify(last)}):\n${n.lines.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
