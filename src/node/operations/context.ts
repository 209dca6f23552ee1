/**
 * What every operation (keygen, sign, reshare, re-setup) needs from its node: identity, config,
 * vault, channels, sessions, live shares, readiness, the request authenticator and the audit log;
 * plus the small helpers they share (key-type names, the coordinator's control inbox, sending a
 * control message).
 */
import { randomUUID } from 'node:crypto';
import type { KeyType as ApiKeyType, ErrorCode } from '../../api/index.js';
import { TimeoutError } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Durability, Vault, KeyType as VaultKeyType } from '../../vault/index.js';
import type { NodeConfig } from '../config.js';
import type { Readiness } from '../peers/readiness.js';
import { type Control, decodeControl, encodeControl, KIND_CONTROL } from '../sessions/control.js';
import type { LiveShares } from '../sessions/live-shares.js';
import type { SessionRouter } from '../sessions/router.js';
import type { InboundMessage, MessageSender } from '../sessions/wire.js';
import type { RequestLedger } from './request-ledger.js';

/** One entry of the audit trail (no secrets). */
export interface AuditEvent {
  readonly actor: string;
  readonly action: string;
  readonly walletId?: string;
  readonly sessionId?: string;
  readonly outcome: 'ok' | 'error' | 'duplicate' | 'replayed';
  readonly errorCode?: string;
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export interface NodeContext {
  readonly self: string;
  /** Every member of the cluster, in canonical (sorted) order. */
  readonly members: readonly string[];
  readonly config: NodeConfig;
  readonly chainCode: Uint8Array;
  readonly vault: Vault;
  readonly sender: MessageSender;
  readonly router: SessionRouter;
  readonly shares: LiveShares;
  readonly readiness: Readiness;
  readonly ledger: RequestLedger;
  /** Sessions in flight per node that this node coordinates (to spread load). */
  readonly load: Map<string, number>;
  readonly log: Logger;
  /** Checks a client request's initiator signature and authorizers. Throws `RequestError`. */
  authenticate(
    signedBytes: Uint8Array,
    signature: Uint8Array,
    initiatorId: string,
    authorizers: readonly {
      authorizerId: string;
      signature: Uint8Array;
    }[],
  ): void;
  audit(e: AuditEvent): void;
  /**
   * Runs a write of the signing path (`fn` passes the durability on to the vault): deferred, durable
   * before any message the node publishes after it (the node's `OutboundGate`). Returns and throws
   * what `fn` does.
   */
  deferred<T>(fn: (durability: Durability) => T): T;
  /** Asks the peers about this wallet's pending version later (a confirmation was missed). Does not throw. */
  reconcileLater(keyType: VaultKeyType, walletId: string): void;
}

/** An operation's failure with the mpcium error code its result carries. */
export class OperationError extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    readonly reason: string,
    readonly isTimeout = false,
  ) {
    super(reason);
    this.name = 'OperationError';
  }
}

export const vaultKeyType = (k: ApiKeyType | string): VaultKeyType => (k === 'secp256k1' ? 'ecdsa' : 'eddsa');

/** A fresh session id (a UUID, as mpcium's SessionID header). Does not throw. */
export const newSessionId = (): string => randomUUID();

/** Sends a control message of session `sid` to `to` (this node skipped). Never rejects: a lost notice ends in a timeout. */
export function sendControl(ctx: NodeContext, sid: string, c: Control, to: readonly string[], direct?: string): void {
  const recipients = to.filter((p) => p !== ctx.self);
  if (recipients.length === 0) return;
  ctx.sender
    .send({ sessionId: sid, kind: KIND_CONTROL, round: 0, to: direct ?? null, payload: encodeControl(c) }, recipients)
    .catch((e: unknown) => ctx.log.warn({ session: sid, err: (e as Error).message }, 'a control message was not sent'));
}

/**
 * The control messages of one session id, as they arrive: registered in the router (so early
 * ones are delivered), closed once. `next` waits for the next message that `accept` takes.
 */
export class ControlInbox {
  private readonly queue: { from: string; c: Control; m: InboundMessage }[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  /** Throws `AlreadyExistsError` if the id is in use. */
  constructor(
    private readonly ctx: NodeContext,
    readonly sid: string,
  ) {
    ctx.router.register(sid, (m) => {
      if (m.kind !== KIND_CONTROL || this.closed) return;
      let c: Control;
      try {
        c = decodeControl(m.payload);
      } catch {
        ctx.log.warn({ session: sid, peer: m.from }, 'dropped a malformed control message');
        return;
      }
      if (this.queue.length >= 256) return;
      this.queue.push({ from: m.from, c, m });
      this.wake?.();
    });
  }

  /** Feeds a message produced locally (this node's own confirmation). Does not throw. */
  local(c: Control): void {
    this.queue.push({ from: this.ctx.self, c, m: undefined as unknown as InboundMessage });
    this.wake?.();
  }

  /**
   * Resolves with the next queued message; rejects with `TimeoutError` at `deadline` (ms epoch).
   */
  async next(deadline: number): Promise<{ from: string; c: Control; m: InboundMessage }> {
    for (;;) {
      const item = this.queue.shift();
      if (item) return item;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) throw new TimeoutError(`session ${this.sid}`, Math.max(0, left));
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        t.unref();
        this.wake = () => {
          clearTimeout(t);
          this.wake = undefined;
          res();
        };
      });
    }
  }

  /** Stops listening (later messages are dropped). Does not throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.router.unregister(this.sid);
    this.wake?.();
  }
}

/**
 * Activates a pending version unless it is active already (a reconcile pass may have done it
 * first, under the same rule: every member holds it). Throws what the vault throws otherwise.
 */
export function activateVersion(ctx: NodeContext, keyType: VaultKeyType, walletId: string, version: number): void {
  const v = ctx.vault.listVersions(keyType, walletId).find((x) => x.version === version);
  if (v?.status === 'active') return;
  ctx.vault.activate(keyType, walletId, version);
}
