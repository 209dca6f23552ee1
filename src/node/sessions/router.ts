/**
 * Routes inbound session messages to the open session with their id. A message may arrive before
 * its session opens here (a fast peer's first round can overtake the coordinator's start), so
 * messages of unknown sessions wait in a bounded buffer for a bounded time; messages of closed
 * sessions are dropped (a bounded set of recently closed ids). Every bound evicts the oldest.
 */
import { AlreadyExistsError } from '../../common/errors.js';
import type { InboundMessage } from './wire.js';

export interface RouterLimits {
  /** Sessions with buffered early messages (default 1024). */
  readonly maxEarlySessions?: number;
  /** Buffered messages per unknown session (default 256). */
  readonly maxEarlyPerSession?: number;
  /** How long early messages wait for their session (default 30 s). */
  readonly earlyTtlMs?: number;
  /** Bytes of all buffered early messages together (default 64 MiB). */
  readonly maxEarlyBytes?: number;
  /** Closed session ids remembered (default 16 384). */
  readonly maxClosed?: number;
  readonly now?: () => number;
}

export type SessionHandler = (m: InboundMessage) => void;
/** Ends a session from outside its messages (a refused channel message of that session). */
export type SessionFailure = (reason: string, blame: readonly string[]) => void;

export class SessionRouter {
  private readonly open = new Map<string, SessionHandler>();
  private readonly failures = new Map<string, SessionFailure>();
  private readonly early = new Map<string, { at: number; msgs: InboundMessage[]; bytes: number }>();
  private earlyBytes = 0;
  private readonly maxEarlyBytes: number;
  private readonly closed = new Set<string>();
  private readonly maxEarlySessions: number;
  private readonly maxEarlyPerSession: number;
  private readonly earlyTtlMs: number;
  private readonly maxClosed: number;
  private readonly now: () => number;
  /** Messages dropped (closed session, full buffer, expired): for status and tests. */
  dropped = 0;

  constructor(limits: RouterLimits = {}) {
    this.maxEarlySessions = limits.maxEarlySessions ?? 1024;
    this.maxEarlyPerSession = limits.maxEarlyPerSession ?? 256;
    this.earlyTtlMs = limits.earlyTtlMs ?? 30_000;
    this.maxClosed = limits.maxClosed ?? 16_384;
    this.maxEarlyBytes = limits.maxEarlyBytes ?? 64 * 1024 * 1024;
    this.now = limits.now ?? Date.now;
  }

  /**
   * Opens a session and hands it the messages that arrived early, in arrival order.
   * Throws `AlreadyExistsError` if a session with this id is open or was closed (ids are never reused).
   */
  register(sessionId: string, handler: SessionHandler, onFailure?: SessionFailure): void {
    if (this.open.has(sessionId) || this.closed.has(sessionId))
      throw new AlreadyExistsError(`session ${sessionId}`, 'a session id is used once; start a new session');
    this.open.set(sessionId, handler);
    if (onFailure) this.failures.set(sessionId, onFailure);
    const waiting = this.early.get(sessionId);
    if (waiting) this.drop(sessionId, waiting, false);
    if (waiting && this.now() - waiting.at <= this.earlyTtlMs) for (const m of waiting.msgs) this.call(handler, m);
  }

  /** Closes a session: later messages for it are dropped. Does not throw. */
  unregister(sessionId: string): void {
    if (!this.open.delete(sessionId)) return;
    this.failures.delete(sessionId);
    this.closed.add(sessionId);
    if (this.closed.size > this.maxClosed) this.closed.delete(this.closed.values().next().value as string);
  }

  /**
   * Ends an open session that registered a failure handler (the channels refused a message of it:
   * tampered, replayed, reordered or misattributed). Does not throw.
   */
  fail(sessionId: string, reason: string, blame: readonly string[]): void {
    const f = this.failures.get(sessionId);
    if (!f) return;
    try {
      f(reason, blame);
    } catch {
      // the session reports its own failure
    }
  }

  /** True while a session is open. Does not throw. */
  isOpen(sessionId: string): boolean {
    return this.open.has(sessionId);
  }

  /** True if the id was used by a session here (open or closed, as far as remembered). Does not throw. */
  isKnown(sessionId: string): boolean {
    return this.open.has(sessionId) || this.closed.has(sessionId);
  }

  /** Delivers to the open session, buffers for an unknown one, drops for a closed one. Does not throw. */
  deliver(m: InboundMessage): 'delivered' | 'buffered' | 'dropped' {
    const h = this.open.get(m.sessionId);
    if (h) {
      this.call(h, m);
      return 'delivered';
    }
    if (this.closed.has(m.sessionId)) {
      this.dropped++;
      return 'dropped';
    }
    const now = this.now();
    let slot = this.early.get(m.sessionId);
    if (slot && now - slot.at > this.earlyTtlMs) {
      this.drop(m.sessionId, slot, true);
      slot = undefined;
    }
    if (!slot) {
      this.sweep(now);
      slot = { at: now, msgs: [], bytes: 0 };
      this.early.set(m.sessionId, slot);
    }
    if (slot.msgs.length >= this.maxEarlyPerSession || this.earlyBytes + m.payload.length > this.maxEarlyBytes) {
      this.dropped++;
      return 'dropped';
    }
    slot.msgs.push(m);
    slot.bytes += m.payload.length;
    this.earlyBytes += m.payload.length;
    return 'buffered';
  }

  /** Drops expired early buffers and, beyond the bound, the oldest. */
  private sweep(now: number): void {
    for (const [id, slot] of this.early) {
      if (now - slot.at <= this.earlyTtlMs && this.early.size < this.maxEarlySessions) break;
      this.drop(id, slot, true);
    }
  }

  /** Removes an early buffer; wipes its payloads if they are dropped (direct payloads may be secret). */
  private drop(id: string, slot: { msgs: InboundMessage[]; bytes: number }, wipe: boolean): void {
    this.early.delete(id);
    this.earlyBytes -= slot.bytes;
    if (!wipe) return;
    this.dropped += slot.msgs.length;
    for (const m of slot.msgs) m.payload.fill(0);
  }

  private call(h: SessionHandler, m: InboundMessage): void {
    try {
      h(m);
    } catch {
      // a session handler reports its own failures; one must never stop the routing of others
    }
  }
}
