/**
 * A real `nats-server -js` for a test file: on a free port, with a temporary store directory,
 * started and waited for until it accepts connections, killed (and its store removed) by `stop()`.
 * A missing nats-server is an error, never a skip (`.ci/run` installs Debian's package).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly proc: ChildProcess;
  /** Kills the server and removes its store. Does not throw. */
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Throws (with what to install) when nats-server is not on PATH. */
export function requireNatsServer(): void {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(
      'nats-server is not installed: these tests need a real server (apt-get install -y nats-server); they never skip',
    );
}

/** Starts `nats-server -js` (extra `args` appended; on `fixedPort` if given) and resolves once it accepts TCP connections. */
export async function startNatsServer(
  args: string[] = [],
  timeoutMs = 10_000,
  fixedPort?: number,
): Promise<NatsServer> {
  requireNatsServer();
  const port = fixedPort ?? (await freePort());
  const storeDir = mkdtempSync(join(tmpdir(), 'tessera-nats-'));
  const proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      proc.kill('SIGKILL');
      rmSync(storeDir, { recursive: true, force: true });
      throw new Error(`nats-server did not start on port ${port}: ${stderr.join('').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    proc,
    async stop() {
      if (!exited) {
        proc.kill('SIGKILL');
        await exit;
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
