/**
 * A `nats-server -js` on this machine for `tessera dev --nats` and `bench:cluster`: a free local
 * port, a temporary store, `max_payload` raised for node messages, started and waited for until it
 * accepts connections; `stop()` ends it and removes the store.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, TimeoutError } from '../common/errors.js';

export interface LocalNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  readonly proc: ChildProcess;
  /** Ends the server and removes its store. Does not throw. */
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 nobody listens on right now. Throws what `listen` throws. */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** True once something accepts TCP connections on 127.0.0.1:`port`. Does not throw. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** True if `nats-server` runs from PATH. Does not throw. */
export function natsServerOnPath(): boolean {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/**
 * Starts `nats-server -js` on a free local port. Throws `NotFoundError` when nats-server is not on
 * PATH (saying how to install it), `TimeoutError` (with its last output) when it does not accept
 * connections within `timeoutMs`.
 */
export async function startLocalNatsServer(opts: { timeoutMs?: number } = {}): Promise<LocalNatsServer> {
  if (!natsServerOnPath())
    throw new NotFoundError('nats-server on PATH', 'install it (apt-get install nats-server) or give a NATS URL');
  const port = await freeLocalPort();
  const storeDir = mkdtempSync(join(tmpdir(), 'tessera-nats-'));
  const conf = join(storeDir, 'nats-server.conf');
  writeFileSync(
    conf,
    `listen: 127.0.0.1:${port}\nmax_payload: 2MB\njetstream { store_dir: "${join(storeDir, 'js')}" }\n`,
  );
  const proc = spawn('nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 200) stderr.shift();
  });
  let exited = false;
  const exit = new Promise<void>((r) =>
    proc.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await acceptsConnections(port))) {
    if (exited || Date.now() > deadline) {
      proc.kill('SIGKILL');
      rmSync(storeDir, { recursive: true, force: true });
      throw new TimeoutError(
        `nats-server to accept connections on port ${port} (${stderr.join('').slice(-500)})`,
        timeoutMs,
      );
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
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(t);
      }
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
