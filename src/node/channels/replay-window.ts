/**
 * Bounded state against replays and reordering beyond one channel: the per-(peer, session)
 * sequence numbers (one tracker per direction), and the token buckets that bound the work a peer
 * (or someone claiming to be it) can cause.
 */

/**
 * The next sequence number per (peer, session), least recently used evicted beyond `max`. An
 * evicted session starts again at 0, so a receiver refuses the rest of an evicted session (fail
 * closed) rather than accepting anything twice.
 */
export class SessionSequences {
  private readonly next = new Map<string, number>();

  constructor(private readonly max: number) {}

  private static key(peer: string, sessionId: string): string {
    // node ids never hold '\n' (they are subject tokens), so the key is unambiguous
    return `${peer}\n${sessionId}`;
  }

  /** The next number of (peer, session): 0 if untracked. Marks it recently used. Does not throw. */
  get(peer: string, sessionId: string): number {
    const k = SessionSequences.key(peer, sessionId);
    const v = this.next.get(k);
    if (v === undefined) return 0;
    this.next.delete(k);
    this.next.set(k, v);
    return v;
  }

  /** Records `value` as the next number of (peer, session), evicting the least recently used beyond the bound. Does not throw. */
  set(peer: string, sessionId: string, value: number): void {
    const k = SessionSequences.key(peer, sessionId);
    this.next.delete(k);
    this.next.set(k, value);
    while (this.next.size > this.max) this.next.delete(this.next.keys().next().value!);
  }

  /** Forgets every session of `peer` (it restarted: its counters start again). Does not throw. */
  clearPeer(peer: string): void {
    const prefix = `${peer}\n`;
    for (const k of [...this.next.keys()]) if (k.startsWith(prefix)) this.next.delete(k);
  }

  /** Forgets everything. Does not throw. */
  clear(): void {
    this.next.clear();
  }

  /** How many (peer, session) pairs are tracked. Does not throw. */
  get size(): number {
    return this.next.size;
  }
}

/** A token bucket: `burst` tokens, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes a token if one is left; false means "over the limit". Does not throw. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
