/**
 * Bounded state against replays and reordering beyond one channel: the per-(peer, session)
 * sequence numbers (one tracker per direction), and the token buckets that bound the work a peer
 * (or someone claiming to be it) can cause.
 */

/**
 * The next sequence number per (peer, session), least recently used evicted beyond `max` — per
 * peer, so that one member opening many sessions cannot evict another member's counters. An
 * evicted session starts again at 0, so a receiver refuses the rest of an evicted session (fail
 * closed) rather than accepting anything twice.
 */
export class SessionSequences {
  private readonly peers = new Map<string, Map<string, number>>();

  constructor(private readonly max: number) {}

  /** The next number of (peer, session): 0 if untracked. Marks it recently used. Does not throw. */
  get(peer: string, sessionId: string): number {
    const m = this.peers.get(peer);
    const v = m?.get(sessionId);
    if (m === undefined || v === undefined) return 0;
    m.delete(sessionId);
    m.set(sessionId, v);
    return v;
  }

  /** Records `value` as the next number of (peer, session), evicting the peer's least recently used beyond the bound. Does not throw. */
  set(peer: string, sessionId: string, value: number): void {
    let m = this.peers.get(peer);
    if (m === undefined) {
      m = new Map();
      this.peers.set(peer, m);
    }
    m.delete(sessionId);
    m.set(sessionId, value);
    while (m.size > this.max) m.delete(m.keys().next().value!);
  }

  /** Forgets every session of `peer` (it restarted: its counters start again). Does not throw. */
  clearPeer(peer: string): void {
    this.peers.delete(peer);
  }

  /** Forgets everything. Does not throw. */
  clear(): void {
    this.peers.clear();
  }

  /** How many (peer, session) pairs are tracked. Does not throw. */
  get size(): number {
    let n = 0;
    for (const m of this.peers.values()) n += m.size;
    return n;
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
