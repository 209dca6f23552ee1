/**
 * Opening a NATS connection from Tessera's options: server URL(s), user/password, token, nkey seed
 * or creds file, TLS and mutual TLS, and reconnection forever with capped exponential backoff (a
 * node outlives a NATS restart). Failures of the first connect are typed {@link NatsConnectError}s
 * that say what to fix; after that, the connection reconnects on its own.
 */
import { readFileSync } from 'node:fs';
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  nkeyAuthenticator,
} from '@nats-io/transport-node';
import { InvalidArgumentError, TesseraError } from '../../common/errors.js';

export interface NatsTlsOptions {
  /** PEM file of the CA that signed the server certificate. */
  readonly caFile?: string;
  /** Client certificate and key (mutual TLS). Both or neither. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Start TLS before the NATS INFO (servers configured with `handshake_first`). */
  readonly handshakeFirst?: boolean;
}

export interface NatsOptions {
  /** `nats://host:port` or `tls://host:port`; several for a cluster. */
  readonly url: string | readonly string[];
  /** Connection name the server shows in its monitoring. */
  readonly name?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** File holding an nkey user seed (`SU...`). */
  readonly nkeySeedFile?: string;
  /** A `.creds` file (user JWT and seed). */
  readonly credsFile?: string;
  readonly tls?: NatsTlsOptions;
  /** Time allowed for the first connect (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** First reconnect wait (default 250 ms), doubled per attempt up to `maxReconnectWaitMs` (default 10 s). */
  readonly reconnectWaitMs?: number;
  readonly maxReconnectWaitMs?: number;
  /** Prefix of request inboxes (mpcium nodes use `_INBOX_mpcium`). */
  readonly inboxPrefix?: string;
}

export type NatsConnectFailure = 'unreachable' | 'auth' | 'tls' | 'config';

/** The first connect failed; `reason` says why and the message what to check. Codes: `IO_ERROR` (unreachable, TLS), `INVALID_ARGUMENT` (credentials, options). */
export class NatsConnectError extends TesseraError {
  readonly reason: NatsConnectFailure;
  constructor(reason: NatsConnectFailure, message: string, options?: { cause?: unknown }) {
    super(reason === 'unreachable' || reason === 'tls' ? 'IO_ERROR' : 'INVALID_ARGUMENT', message, options);
    this.reason = reason;
  }
}

function readOption(what: string, file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new NatsConnectError(
      'config',
      `cannot read the NATS ${what} file ${file}; check the path and its permissions`,
      {
        cause: e,
      },
    );
  }
}

/** A server URL fit for a message or log line: credentials in it (`nats://user:pass@host`) replaced. Does not throw. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1[redacted]@');
}

/** The reconnect delay after `attempt` failed attempts (exported for tests). Does not throw. */
export function reconnectDelay(attempt: number, firstMs = 250, maxMs = 10_000): number {
  const base = Math.min(maxMs, firstMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** The reconnect attempts since the connection was last up (the backoff's exponent). */
export interface Backoff {
  attempt: number;
}

/**
 * The reconnect delay handler: nats.js calls it on every turn of its dial loop — also on the turns
 * that only sleep until the current delay has passed since the last dial — so a handler that grew
 * the delay on each call made the wait outrun the clock until it hit the cap: after one failed
 * try, every reconnect waited 5–10 s, even when the server was back within a second. This one
 * keeps returning the same delay until that delay has passed, so the delay grows once per dial
 * (`backoff.attempt`). Exported for tests. Does not throw.
 */
export function reconnectDelayHandler(
  backoff: Backoff,
  firstMs: number,
  maxMs: number,
  now: () => number = Date.now,
): () => number {
  let current: { delay: number; since: number; attempt: number } | undefined;
  return () => {
    const t = now();
    // the same wait until it has passed (and until a reconnect reset the count)
    if (current && current.attempt === backoff.attempt - 1 && t < current.since + current.delay) return current.delay;
    const attempt = backoff.attempt++;
    current = { delay: reconnectDelay(attempt, firstMs, maxMs), since: t, attempt };
    return current.delay;
  };
}

/**
 * Builds nats.js options from {@link NatsOptions}; reconnect delays grow with `backoff.attempt`
 * (which whoever sees the connection come back resets). Throws `NatsConnectError` ('config') on
 * contradictory options or unreadable files.
 */
export function natsConnectionOptions(o: NatsOptions, backoff: Backoff = { attempt: 0 }): NodeConnectionOptions {
  const servers = typeof o.url === 'string' ? [o.url] : [...o.url];
  if (servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.trim() === ''))
    throw new NatsConnectError('config', 'nats.url is empty; set it to the NATS server, e.g. nats://127.0.0.1:4222');
  const methods = [
    o.user !== undefined,
    o.token !== undefined,
    o.nkeySeedFile !== undefined,
    o.credsFile !== undefined,
  ];
  if (methods.filter(Boolean).length > 1)
    throw new NatsConnectError('config', 'set only one of nats user/password, token, nkey seed file and creds file');
  if (o.password !== undefined && o.user === undefined)
    throw new NatsConnectError('config', 'a NATS password needs a user name');
  if ((o.tls?.certFile === undefined) !== (o.tls?.keyFile === undefined))
    throw new NatsConnectError('config', 'nats.tls.client_cert and nats.tls.client_key go together (mutual TLS)');
  const authenticator: Authenticator[] = [];
  if (o.nkeySeedFile !== undefined) {
    const seed = new TextDecoder().decode(readOption('nkey seed', o.nkeySeedFile)).trim();
    authenticator.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
  }
  if (o.credsFile !== undefined) authenticator.push(credsAuthenticator(readOption('creds', o.credsFile)));
  const first = o.reconnectWaitMs ?? 250;
  const max = o.maxReconnectWaitMs ?? 10_000;
  return {
    servers,
    name: o.name,
    user: o.user,
    pass: o.password,
    token: o.token,
    authenticator: authenticator.length > 0 ? authenticator : undefined,
    tls: o.tls
      ? {
          caFile: o.tls.caFile,
          certFile: o.tls.certFile,
          keyFile: o.tls.keyFile,
          handshakeFirst: o.tls.handshakeFirst,
        }
      : undefined,
    timeout: o.connectTimeoutMs ?? 5_000,
    inboxPrefix: o.inboxPrefix,
    maxReconnectAttempts: -1,
    reconnect: true,
    reconnectTimeWait: first,
    reconnectDelayHandler: reconnectDelayHandler(backoff, first, max),
  };
}

/**
 * Connects, then reconnects forever — each outage backing off from the first delay again (the
 * attempts are counted from the last time the connection was up, not over its whole life: after a
 * few outages every reconnect would otherwise wait the cap, 10 s, even after a blip). `backoff`
 * lets a test watch the count. Throws `NatsConnectError`: 'config' (bad options), 'auth'
 * (credentials refused), 'tls' (handshake or certificate), 'unreachable' (nobody answered).
 */
export async function connectNats(o: NatsOptions, backoff: Backoff = { attempt: 0 }): Promise<NatsConnection> {
  const opts = natsConnectionOptions(o, backoff);
  const where = (opts.servers as string[]).map(redactUrl).join(', ');
  try {
    const nc = await connect(opts);
    backoff.attempt = 0;
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'reconnect') backoff.attempt = 0;
    })().catch(() => {});
    return nc;
  } catch (first) {
    let e = first;
    if (first instanceof Error && first.name === 'TimeoutError') {
      // A server that refuses the client certificate (mutual TLS) says so with a TLS alert after the
      // handshake; with reconnection on, nats.js only reports a timeout. One attempt without
      // reconnection reports the alert, so that a refusal is not mistaken for an unreachable server.
      try {
        const probe = await connect({ ...opts, reconnect: false, maxReconnectAttempts: 0 });
        await probe.close().catch(() => {});
      } catch (p) {
        e = p;
      }
    }
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (/authoriz|authentic|auth/i.test(msg))
      throw new NatsConnectError(
        'auth',
        `NATS at ${where} refused the credentials (${msg}); check nats.username/password, token, nkey or creds`,
        { cause: e },
      );
    if (/tls|certificate|ssl|self.signed|handshake/i.test(msg))
      throw new NatsConnectError(
        'tls',
        `TLS with NATS at ${where} failed (${msg}); check nats.tls.* (CA, client certificate and key) and the server's TLS settings`,
        { cause: e },
      );
    if (e instanceof InvalidArgumentError) throw e;
    throw new NatsConnectError(
      'unreachable',
      `cannot reach NATS at ${where} (${msg}); check that nats-server runs and nats.url`,
      {
        cause: e,
      },
    );
  }
}
