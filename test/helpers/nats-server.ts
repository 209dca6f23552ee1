/**
 * A real `nats-server -js` for a test file: on a free port, with a temporary store directory,
 * started and waited for until it accepts connections, killed (and its store removed) by `stop()`.
 * `halt()` and `restart()` stop it and start it again on the same port and store (a NATS restart).
 * A missing nats-server is an error, never a skip (`.ci/run` installs Debian's package).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, freeLocalPort } from '../../src/daemon/index.js';

/** A TCP port nobody listens on right now. */
export const freePort = freeLocalPort;

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The current server process (another one after `restart()`). */
  readonly proc: ChildProcess;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Kills the server and removes its store. Does not throw. */
  stop(): Promise<void>;
  /**
   * Stops the server process but keeps its port and store: SIGTERM is a clean shutdown (the
   * default), SIGKILL a crash. Resolves once it exited. Does not throw.
   */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /**
   * Starts the server again on the same port with the same store (JetStream streams and durable
   * consumers persist), halting it first (SIGTERM) if it runs; resolves once it accepts TCP
   * connections. Throws (with its stderr) if it does not come up.
   */
  restart(): Promise<void>;
}

/** Throws (with what to install) when nats-server is not on PATH. */
export function requireNatsServer(): void {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(
      'nats-server is not installed: these tests need a real server (apt-get install -y nats-server); they never skip',
    );
}

interface Running {
  readonly proc: ChildProcess;
  readonly exit: Promise<void>;
  exited: boolean;
}

/** Spawns nats-server on `port` with `storeDir` and waits until it accepts connections. */
async function launch(port: number, storeDir: string, args: string[], timeoutMs: number): Promise<Running> {
  const proc = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const r: { proc: ChildProcess; exit: Promise<void>; exited: boolean } = {
    proc,
    exited: false,
    exit: Promise.resolve(),
  };
  r.exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      r.exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + timeoutMs;
  while (!(await acceptsConnections(port))) {
    if (r.exited || Date.now() > deadline) {
      proc.kill('SIGKILL');
      await r.exit;
      throw new Error(`nats-server did not start on port ${port}: ${stderr.join('').slice(-2000)}`);
    }
    await new Promise((res) => setTimeout(res, 25));
  }
  return r;
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
  let current: Running;
  try {
    current = await launch(port, storeDir, args, timeoutMs);
  } catch (e) {
    rmSync(storeDir, { recursive: true, force: true });
    throw e;
  }
  const halt = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (current.exited) return;
    current.proc.kill(signal);
    await current.exit;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get proc() {
      return current.proc;
    },
    get running() {
      return !current.exited;
    },
    async stop() {
      await halt('SIGKILL');
      rmSync(storeDir, { recursive: true, force: true });
    },
    halt,
    async restart() {
      await halt('SIGTERM');
      // the port was ours a moment ago; nobody else takes it on a test machine in practice
      current = await launch(port, storeDir, args, timeoutMs);
    },
  };
}
