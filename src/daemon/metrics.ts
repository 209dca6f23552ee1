/**
 * The node's {@link NodeMetrics} on a prom-client registry (one per daemon, so several daemons in
 * one process keep their own), plus the gauges only the daemon knows: vault open, backup times.
 * Names follow Prometheus conventions under the `tessera_` prefix; docs/node.md lists them.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeMetrics, RequestOp, SessionOp, SessionRole } from '../node/index.js';

/** Session durations: from a fast EdDSA signature to a slow keygen (seconds). */
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface PromMetricsOptions {
  /** Also export the process metrics of prom-client (CPU, memory, event loop, GC); default true. */
  readonly processMetrics?: boolean;
  /** Labels on every metric (e.g. `{ node: 'node0' }`). */
  readonly labels?: Readonly<Record<string, string>>;
}

export class PromNodeMetrics implements NodeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'op'>;
  private readonly results: Counter<'op' | 'code'>;
  private readonly durations: Histogram<'op' | 'role'>;
  private readonly active: Gauge<'op' | 'role'>;
  private readonly ready: Gauge;
  private readonly members: Gauge;
  private readonly vaultOpen: Gauge;
  private readonly backups: Counter<'outcome' | 'kind'>;
  private readonly lastBackup: Gauge;
  private readonly lastBackupFailure: Gauge;
  private readinessSource: (() => { ready: boolean; natsConnected: boolean }) | undefined;

  /** Does not throw. */
  constructor(opts: PromMetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.labels) this.registry.setDefaultLabels({ ...opts.labels });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
    this.requests = new Counter({
      name: 'tessera_requests_total',
      help: 'Client requests taken by this node, by operation',
      labelNames: ['op'],
      registers,
    });
    this.results = new Counter({
      name: 'tessera_results_total',
      help: "Results this node published, by operation and code ('ok' or an mpcium ERROR_* code)",
      labelNames: ['op', 'code'],
      registers,
    });
    this.durations = new Histogram({
      name: 'tessera_session_duration_seconds',
      help: 'Sessions run on this node, by operation and role (coordinator or member)',
      labelNames: ['op', 'role'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.active = new Gauge({
      name: 'tessera_active_sessions',
      help: 'Sessions in progress on this node, by operation and role',
      labelNames: ['op', 'role'],
      registers,
    });
    this.ready = new Gauge({
      name: 'tessera_peers_ready',
      help: 'Ready members as this node sees them (itself included)',
      registers,
    });
    this.members = new Gauge({ name: 'tessera_peers_total', help: 'Members of the cluster', registers });
    this.vaultOpen = new Gauge({ name: 'tessera_vault_open', help: '1 while the vault is open', registers });
    this.backups = new Counter({
      name: 'tessera_backups_total',
      help: "Backup runs, by outcome ('ok', 'error') and kind ('full', 'incremental', 'none' when nothing new)",
      labelNames: ['outcome', 'kind'],
      registers,
    });
    this.lastBackup = new Gauge({
      name: 'tessera_backup_last_success_timestamp_seconds',
      help: 'When the last backup succeeded (Unix time); 0 before the first',
      registers,
    });
    this.lastBackupFailure = new Gauge({
      name: 'tessera_backup_last_failure_timestamp_seconds',
      help: 'When the last backup failed (Unix time); 0 if none has',
      registers,
    });
    const source = () => this.readinessSource?.() ?? { ready: false, natsConnected: false };
    new Gauge({
      name: 'tessera_ready',
      help: '1 while /readyz reports ready (transports connected, vault open, a majority of members ready)',
      registers,
      collect() {
        this.set(source().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tessera_nats_connected',
      help: '1 while the connection to the broker is up',
      registers,
      collect() {
        this.set(source().natsConnected ? 1 : 0);
      },
    });
  }

  /** Where `tessera_ready` and `tessera_nats_connected` are read at each scrape (must not throw). */
  setReadinessSource(f: () => { ready: boolean; natsConnected: boolean }): void {
    this.readinessSource = f;
  }

  requestReceived(op: RequestOp): void {
    this.requests.inc({ op });
  }

  resultPublished(op: RequestOp, errorCode: string | undefined): void {
    this.results.inc({ op, code: errorCode ?? 'ok' });
  }

  sessionStarted(op: SessionOp, role: SessionRole): void {
    this.active.inc({ op, role });
  }

  sessionEnded(op: SessionOp, role: SessionRole, seconds: number): void {
    this.active.dec({ op, role });
    this.durations.observe({ op, role }, seconds);
  }

  peersReady(ready: number, members: number): void {
    this.ready.set(ready);
    this.members.set(members);
  }

  backupFinished(ok: boolean, kind?: string): void {
    this.backups.inc({ outcome: ok ? 'ok' : 'error', kind: kind ?? (ok ? 'none' : 'unknown') });
    (ok ? this.lastBackup : this.lastBackupFailure).set(Date.now() / 1000);
  }

  /** The daemon's own gauge: the vault opened or closed. Does not throw. */
  setVaultOpen(open: boolean): void {
    this.vaultOpen.set(open ? 1 : 0);
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
