/**
 * The daemon's HTTP endpoints (node:http, no framework): `/healthz` (the process is live),
 * `/readyz` (it can serve: 200 or 503 with detail JSON shaped like mpcium's `/health`, which is
 * served too), `/metrics` (Prometheus text). Read-only, GET/HEAD only, no request body read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '../common/errors.js';
import { type Logger, silentLogger } from '../common/log.js';

/** What `/readyz` reports: ready, and the checks behind it. */
export interface ReadinessReport {
  readonly ready: boolean;
  /** The checks (mpcium's names where they exist: `nats_connected`, `peers_ready_count`, `majority_ready`, …). */
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export interface HealthServerOptions {
  /** `host:port`, `:port` (every interface, as mpcium's `:8080`) or `[v6]:port`; port 0 picks a free one. */
  readonly address: string;
  /** Computes readiness on each `/readyz`; a throw counts as not ready. */
  readonly readiness: () => ReadinessReport | Promise<ReadinessReport>;
  /** The Prometheus exposition for `/metrics` (absent: 404). */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  readonly log?: Logger;
}

/** Parses a listen address. Throws `InvalidArgumentError` naming what is wrong. */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))?:(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port > 65535)
    throw new InvalidArgumentError(
      `healthcheck.address: '${address}' is not host:port or :port (e.g. ':8080', '127.0.0.1:8080')`,
    );
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
};

/** A running health/metrics server. */
export class HealthServer {
  private constructor(
    private readonly server: Server,
    private readonly opts: HealthServerOptions,
  ) {}

  /** Listens on `opts.address`. Throws `InvalidArgumentError` for a bad address; rejects with the listen error (EADDRINUSE…). */
  static async listen(opts: HealthServerOptions): Promise<HealthServer> {
    const { host, port } = parseListenAddress(opts.address);
    const log = opts.log ?? silentLogger;
    let hs: HealthServer | undefined;
    const server = createServer((req, res) => {
      void hs?.handle(req, res).catch((e: unknown) => {
        log.error({ err: (e as Error).message, path: req.url }, 'a health request failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    server.maxHeadersCount = 50;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL'
            ? new InvalidArgumentError(
                `healthcheck.address ${opts.address}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'not permitted' : 'no such local address'}; choose another (healthcheck.address or --health-address)`,
              )
            : e,
        ),
      );
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => log.error({ err: e.message }, 'the health server failed'));
    hs = new HealthServer(server, opts);
    log.info({ address: opts.address, port: hs.port }, 'health and metrics listening');
    return hs;
  }

  /** The port listened on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and closes every connection. Does not throw. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        json(res, 200, { status: 'live', live: true });
        return;
      case '/readyz':
      case '/health': {
        let r: ReadinessReport;
        try {
          r = await this.opts.readiness();
        } catch (e) {
          r = { ready: false, details: { error: (e as Error).message } };
        }
        json(res, r.ready ? 200 : 503, {
          status: r.ready ? 'ready' : 'not_ready',
          live: true,
          ready: r.ready,
          details: r.details,
        });
        return;
      }
      case '/metrics': {
        if (!this.opts.metrics) break;
        const m = await this.opts.metrics();
        res.writeHead(200, { 'content-type': m.contentType, 'cache-control': 'no-store' });
        res.end(m.body);
        return;
      }
    }
    json(res, 404, { error: 'not found', paths: ['/healthz', '/readyz', '/metrics'] });
  }
}
