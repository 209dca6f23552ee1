/**
 * One Tessera node: identity + config + vault + transports + sessions. It knows no concrete
 * transport (the embedded cluster passes in-process ones, the daemon NATS ones), no logging or
 * metrics library. Start order: channels, readiness, then requests; a graceful stop leaves the
 * cluster first and lets the sessions under way finish. Everything it needs after a restart is in
 * its vault.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { BackupScheduler, type RunBackupResult } from '../backup/index.js';
import { InvalidArgumentError, InvalidStateError } from '../common/errors.js';
import { type Logger, silentLogger } from '../common/log.js';
import type { Bus, KeyValue, WorkQueue } from '../transport/index.js';
import type { Durability, Vault } from '../vault/index.js';
import { Channels } from './channels/index.js';
import type { NodeConfig } from './config.js';
import { type NodeMetrics, noMetrics, timedSession } from './metrics.js';
import { burnRestoredPairs } from './operations/after-restore.js';
import type { AuditEvent, NodeContext } from './operations/context.js';
import { answerQuery } from './operations/directory.js';
import { joinKeygen } from './operations/keygen.js';
import { answerHoldQuery, reconcile } from './operations/reconcile.js';
import { type RequestLedger, VaultRequestLedger } from './operations/request-ledger.js';
import { joinResetup } from './operations/resetup.js';
import { joinReshare } from './operations/reshare.js';
import { joinSign, refuseSignWhileLeaving } from './operations/sign.js';
import { OutboundGate } from './outbound.js';
import { Readiness } from './peers/readiness.js';
import { type AuthorizationPolicy, authenticateRequest, parseVerifyingKey } from './requests/authenticate.js';
import { RequestHandler } from './requests/handle.js';
import { decodeControl, KIND_CONTROL, type SessionStart } from './sessions/control.js';
import { LiveShares } from './sessions/live-shares.js';
import { SessionRouter } from './sessions/router.js';
import type { InboundMessage } from './sessions/wire.js';

export interface NodeOptions {
  readonly config: NodeConfig;
  /** This node's id (its peers.json UUID). */
  readonly self: string;
  readonly identityKey: KeyObject;
  /** Every member of the cluster: node id → 32-byte Ed25519 identity public key. */
  readonly members: ReadonlyMap<string, Uint8Array>;
  readonly vault: Vault;
  /** Node-to-node traffic. */
  readonly bus: Bus;
  /** Client requests and results. */
  readonly workQueue: WorkQueue;
  /** The readiness bucket (with a TTL of about three heartbeats). */
  readonly readinessKv: KeyValue;
  /** Subject prefix of node-to-node traffic (default 'tessera'). */
  readonly subjectPrefix?: string;
  readonly heartbeatMs?: number;
  /**
   * How long a peer counts as ready after its last heartbeat (default 3 heartbeats + 5 s); the
   * readiness bucket's TTL should be the same.
   */
  readonly readinessMaxAgeMs?: number;
  /** The signing-request ledger (default: the vault's request log). */
  readonly ledger?: RequestLedger;
  /** Where audit events go (default: the log). */
  readonly audit?: (e: AuditEvent & { time: number }) => void;
  /** The backup passphrase (the daemon reads `tessera.backup.passphrase_file`); recipients come from the config. */
  readonly backupPassphrase?: string;
  readonly log?: Logger;
  /** Where the node reports counters and durations (default: nowhere). */
  readonly metrics?: NodeMetrics;
}

/** Sessions one node takes part in at once, beyond which a start is refused (a bound on peers' demands). */
const participationLimit = (c: NodeConfig) => 4 * (c.max_concurrent_signing + c.max_concurrent_keygen) + 16;

export class TesseraNode {
  private readonly channels: Channels;
  private readonly readiness: Readiness;
  private readonly router = new SessionRouter();
  private readonly shares: LiveShares;
  private readonly requests: RequestHandler;
  private readonly ctx: NodeContext;
  private readonly log: Logger;
  private readonly metrics: NodeMetrics;
  private readonly backups: BackupScheduler | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling = false;
  private readonly reconcileQueue = new Map<string, { keyType: 'ecdsa' | 'eddsa'; walletId: string }>();
  private reconcileLaterTimer: NodeJS.Timeout | undefined;
  private participating = 0;
  /** Sessions this node takes part in for peers, by op (a graceful stop lets them finish). */
  private readonly memberSessions = new Map<Promise<unknown>, { op: string; session: string; coordinator: string }>();
  private state: 'created' | 'running' | 'stopping' | 'stopped' = 'created';
  private stopped: Promise<void> | undefined;

  /** Throws `InvalidArgumentError` for a node that is not a member or a config that does not parse keys. */
  constructor(private readonly opts: NodeOptions) {
    if (!opts.members.has(opts.self)) throw new InvalidArgumentError(`node ${opts.self} is not in the member list`);
    const c = opts.config;
    this.log = opts.log ?? silentLogger;
    this.metrics = opts.metrics ?? noMetrics;
    const members = [...opts.members.keys()].sort();
    if (c.mpc_threshold + 1 > members.length)
      throw new InvalidArgumentError(
        `mpc_threshold ${c.mpc_threshold} needs at least ${c.mpc_threshold + 1} nodes; the cluster has ${members.length}`,
      );
    const prefix = opts.subjectPrefix ?? 'tessera';
    const heartbeatMs = opts.heartbeatMs ?? 2000;
    // group commit: the signing path's writes are durable before any message published after them
    // a failed sync: nothing more leaves, and the node stops taking work and leaves readiness
    // (otherwise it would keep being chosen and keep pulling requests it cannot answer)
    const gate = new OutboundGate(opts.vault, this.log, () => void this.stop());
    const deferred = <T>(fn: (d: Durability) => T): T => gate.deferred(fn);
    const bus = gate.bus(opts.bus);
    this.channels = new Channels({
      self: opts.self,
      identityKey: opts.identityKey,
      peers: opts.members,
      bus,
      subjectPrefix: prefix,
    });
    this.readiness = new Readiness({
      self: opts.self,
      identityKey: opts.identityKey,
      members: opts.members,
      kv: opts.readinessKv,
      epoch: randomBytes(16),
      heartbeatMs,
      maxAgeMs: opts.readinessMaxAgeMs ?? 3 * heartbeatMs + 5000,
      log: this.log,
    });
    this.shares = new LiveShares(opts.vault, {
      maxSessionsPerPair: c.tessera.max_sessions_per_pair,
      log: this.log,
      deferred,
    });
    const initiator = parseVerifyingKey(c.event_initiator_algorithm, c.event_initiator_pubkey);
    const policy: AuthorizationPolicy = {
      enabled: c.authorization.enabled,
      required: c.authorization.required_authorizers,
      keys: new Map(
        Object.entries(c.authorization.authorizer_public_keys).map(([id, k]) => [
          id,
          parseVerifyingKey(k.algorithm, k.public_key),
        ]),
      ),
    };
    const audit = opts.audit ?? ((e) => deferred((durability) => appendAudit(opts.vault, e, durability)));
    this.ctx = {
      self: opts.self,
      members,
      config: c,
      chainCode: Uint8Array.from(Buffer.from(c.chain_code.replace(/^0x/, ''), 'hex')),
      vault: opts.vault,
      sender: this.channels,
      router: this.router,
      shares: this.shares,
      readiness: this.readiness,
      ledger:
        opts.ledger ??
        new VaultRequestLedger(opts.vault, c.tessera.result_retention_seconds * 1000, Date.now, deferred),
      load: new Map(),
      log: this.log,
      authenticate: (signedBytes, signature, initiatorId, authorizerSignatures) =>
        authenticateRequest({ signedBytes, signature, initiatorId, authorizerSignatures }, initiator, policy),
      reconcileLater: (keyType, walletId) => {
        this.reconcileQueue.set(`${keyType}\u0000${walletId}`, { keyType, walletId });
        if (this.reconcileQueue.size > 10_000)
          this.reconcileQueue.delete(this.reconcileQueue.keys().next().value as string);
        if (!this.reconcileLaterTimer) {
          this.reconcileLaterTimer = setTimeout(() => {
            this.reconcileLaterTimer = undefined;
            const wallets = [...this.reconcileQueue.values()];
            this.reconcileQueue.clear();
            void this.reconcilePass(wallets);
          }, 30_000);
          this.reconcileLaterTimer.unref();
        }
      },
      deferred,
      audit: (e) => {
        try {
          audit({ ...e, time: Date.now() });
        } catch (err) {
          this.log.error({ err: (err as Error).message }, 'ALERT: writing an audit entry failed');
        }
      },
    };
    this.requests = new RequestHandler(this.ctx, gate.workQueue(opts.workQueue), bus, this.metrics, [prefix]);
    if (c.backup_enabled) {
      const recipients = c.tessera.backup.recipients;
      if (recipients.length === 0 && opts.backupPassphrase === undefined)
        throw new InvalidArgumentError(
          'backup_enabled needs tessera.backup.recipients (age1… keys) or tessera.backup.passphrase_file; or set backup_enabled: false',
        );
      this.backups = new BackupScheduler(opts.vault, {
        periodSeconds: c.backup_period_seconds,
        outDir: c.backup_dir,
        nodeId: opts.self,
        ...(recipients.length > 0 ? { recipients } : { passphrase: opts.backupPassphrase }),
        keepChains: c.tessera.backup.keep_chains,
        onResult: (r) => {
          this.metrics.backupFinished(true, r.kind ?? 'none');
          this.log.info({ file: r.file, kind: r.kind }, 'backup written');
        },
        onError: (e) => {
          this.metrics.backupFinished(false);
          this.log.error({ err: (e as Error).message }, 'ALERT: a periodic backup failed');
        },
      });
    }
  }

  /**
   * Runs a backup now (or joins the one in progress): the node's configured directory and
   * encryption. Resolves null if it failed (logged). Throws `InvalidStateError` if backups are off.
   */
  async backupNow(): Promise<RunBackupResult | null> {
    if (!this.backups) throw new InvalidStateError('backups are disabled in this node’s configuration');
    return this.backups.runNow();
  }

  /** The node id. */
  get id(): string {
    return this.opts.self;
  }

  /** Ready members as this node sees them (itself included). Does not throw. */
  readyMembers(): string[] {
    return this.readiness.readyMembers();
  }

  /** Starts serving. Throws `InvalidStateError` if started before; what the transports throw. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new InvalidStateError('a node starts once');
    this.state = 'running';
    this.channels.onMessage((m) => this.onInbound(m));
    this.channels.onReject((r) => {
      this.log.warn({ peer: r.peer, session: r.sessionId, reason: r.reason }, 'refused a channel message');
      // Only a frame that decrypted on the peer's channel is the peer's doing; anything else may come
      // from anyone on the bus and must not end a session (the session's timeout covers real loss).
      if (r.authenticated && r.sessionId !== undefined && r.peer !== undefined)
        this.router.fail(r.sessionId, `channel: ${r.reason}`, [r.peer]);
    });
    this.readiness.onChange((c) => {
      // a peer that came back with another boot epoch lost its channel keys. One that only went
      // quiet (its heartbeat expired: a NATS outage, a stall) still holds them: dropping ours would
      // leave it sending on a channel we no longer know, and each session's first frame would be
      // refused (the session then stalls until its timeout)
      if (c.restarted) this.channels.resetPeer(c.peer);
      this.metrics.peersReady(this.readiness.readyMembers().length, this.ctx.members.length);
      this.log.info({ peer: c.peer, ready: c.ready, restarted: c.restarted }, 'peer readiness changed');
    });
    // rule 8 before anything signs: a restored vault's ECDSA pairs are all set up again
    burnRestoredPairs(this.opts.vault, this.log);
    await this.channels.start();
    await this.readiness.start();
    this.metrics.peersReady(this.readiness.readyMembers().length, this.ctx.members.length);
    await this.requests.start();
    this.backups?.start();
    // settle what a crash or a missed confirmation left open, once peers had time to announce themselves
    this.reconcileTimer = setTimeout(() => void this.reconcilePass(undefined), 2 * (this.opts.heartbeatMs ?? 2000));
    this.reconcileTimer.unref();
    this.log.info({ node: this.opts.self, members: this.ctx.members.length }, 'node started');
  }

  /**
   * Stops taking requests and leaves the cluster (peers stop choosing this node), lets the
   * sessions under way finish — its own requests and those it signs for peers, their messages
   * still routed — within `drainMs` (default 10 s), then closes the channels. Idempotent. Does not
   * throw.
   */
  stop(drainMs = 10_000): Promise<void> {
    this.stopped ??= (async () => {
      if (this.state === 'created') {
        this.state = 'stopped';
        return;
      }
      this.state = 'stopping';
      clearTimeout(this.reconcileTimer);
      clearTimeout(this.reconcileLaterTimer);
      this.requests.stopTaking();
      await this.readiness.leave();
      this.metrics.peersReady(0, this.ctx.members.length);
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.allSettled([this.requests.drained(), ...this.memberSessions.keys()]).then(() => true),
        new Promise<false>((r) => {
          timer = setTimeout(() => r(false), drainMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        const joined = [...this.memberSessions.values()].slice(0, 20);
        this.log.warn(
          { drainMs, requests: this.requests.inProgressCount, joined },
          'sessions still under way when the stop bound ran out; they end here',
        );
      }
      this.requests.finish();
      this.state = 'stopped';
      await this.readiness.stop();
      await this.backups?.stop();
      await this.channels.close();
      this.shares.close();
      this.log.info({ node: this.opts.self }, 'node stopped');
    })();
    return this.stopped;
  }

  /**
   * One reconcile pass (all wallets, or those left open by the last pass), then again in 30 s for
   * whatever is still open. Never throws.
   */
  private async reconcilePass(wallets: { keyType: 'ecdsa' | 'eddsa'; walletId: string }[] | undefined): Promise<void> {
    if (this.state !== 'running') return;
    if (this.reconciling) {
      for (const w of wallets ?? []) this.ctx.reconcileLater(w.keyType, w.walletId);
      return;
    }
    this.reconciling = true;
    try {
      const r = await reconcile(this.ctx, wallets);
      if (r.activated + r.discarded + r.retired > 0 || r.open.length > 0)
        this.log.info(
          { activated: r.activated, discarded: r.discarded, retired: r.retired, open: r.open.length },
          'reconciled versions with the peers',
        );
      if (r.open.length > 0 && this.state === 'running') {
        this.reconcileTimer = setTimeout(() => void this.reconcilePass(r.open), 30_000);
        this.reconcileTimer.unref();
      }
    } finally {
      this.reconciling = false;
    }
  }

  /** Settles pending and superseded versions with the peers now (tests, operators). Never throws. */
  async reconcileNow(): Promise<void> {
    await this.reconcilePass(undefined);
  }

  private onInbound(m: InboundMessage): void {
    // while stopping, the sessions under way still get their messages; nothing new is opened
    if (this.state !== 'running' && this.state !== 'stopping') return;
    const running = this.state === 'running';
    if (m.kind === KIND_CONTROL && !this.router.isKnown(m.sessionId)) {
      try {
        const c = decodeControl(m.payload);
        if (c.type === 'start') {
          if (running) this.onStart(m.from, m.sessionId, c.start);
          // a coordinator that chose this node just before it left learns at once, not at its timeout
          else if (c.start.op === 'sign') refuseSignWhileLeaving(this.ctx, m.from, m.sessionId, c.start);
          return;
        }
        if (c.type === 'query') {
          if (running) answerQuery(this.ctx, m.from, m.sessionId, c);
          return;
        }
        if (c.type === 'hold-query') {
          if (running) answerHoldQuery(this.ctx, m.from, m.sessionId, c);
          return;
        }
      } catch {
        this.log.warn({ peer: m.from, session: m.sessionId }, 'dropped a malformed control message');
        return;
      }
    }
    this.router.deliver(m);
  }

  private onStart(from: string, sid: string, start: SessionStart): void {
    if (from === this.opts.self || !start.members.includes(this.opts.self)) return;
    if (this.participating >= participationLimit(this.opts.config)) {
      this.log.warn({ peer: from, session: sid }, 'refused a session: too many sessions in progress');
      return;
    }
    this.participating++;
    const done = () => {
      this.participating--;
    };
    const join = (): Promise<unknown> => {
      switch (start.op) {
        case 'keygen':
          return joinKeygen(this.ctx, from, sid, start);
        case 'sign':
          return joinSign(this.ctx, from, sid, start);
        case 'reshare':
          return joinReshare(this.ctx, from, sid, start);
        case 'resetup':
          return joinResetup(this.ctx, from, sid, start);
      }
    };
    const session = timedSession(this.metrics, start.op, 'member', join).finally(done);
    this.memberSessions.set(session, { op: start.op, session: sid, coordinator: from });
    void session.finally(() => this.memberSessions.delete(session));
  }
}

/**
 * Appends an audit event to the vault's hash-chained log; a field the log refuses (request data
 * that is not a clean id) is dropped rather than losing the entry. Throws what the vault throws
 * otherwise (the caller raises an alert).
 */
function appendAudit(vault: Vault, e: AuditEvent & { time: number }, durability: Durability): void {
  try {
    vault.appendAudit(e, { durability });
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    vault.appendAudit(
      {
        time: e.time,
        actor: 'unknown',
        action: e.action,
        outcome: e.outcome,
        errorCode: e.errorCode,
        details: { note: 'request fields that are not clean ids were left out' },
      },
      { durability },
    );
  }
}
