import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const VAULT_CHILD = join(import.meta.dirname, '..', 'vault', 'fixtures', 'vault-child.mjs');

/** A running child whose acknowledged operations are collected line by line. */
export interface Child {
  proc: ChildProcess;
  acks: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
  waitFor(pred: (a: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts `script` (default: the vault workload) with `args`; its stdout is one JSON acknowledgement per line. */
export function startChild(args: string[], script: string = VAULT_CHILD): Child {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      acks.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    acks,
    stderr,
    exited,
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!acks.some(pred)) {
        if (Date.now() > deadline) throw new Error(`child did not acknowledge in time; stderr: ${stderr.join('')}`);
        if (proc.exitCode !== null) throw new Error(`child exited with ${proc.exitCode}; stderr: ${stderr.join('')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

/** Kills the child with SIGKILL and waits until it is gone. */
export async function kill9(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  await c.exited;
}
