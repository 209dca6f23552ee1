/**
 * What the node reports for monitoring, as an interface the node writes to (the daemon binds it
 * to prom-client; the node imports no metrics library). Every method must not throw and must be
 * cheap: the node calls them on its request path.
 */

/** A client operation, as mpcium names its result families. */
export type RequestOp = 'keygen' | 'signing' | 'reshare';

/** A session a node runs: coordinated (for a client request) or joined (for a peer's start). */
export type SessionOp = 'keygen' | 'sign' | 'reshare' | 'resetup';
export type SessionRole = 'coordinator' | 'member';

export interface NodeMetrics {
  /** A client request was taken (before parsing). */
  requestReceived(op: RequestOp): void;
  /** A result was published: `errorCode` is the mpcium `ERROR_*` code, or undefined for a success. */
  resultPublished(op: RequestOp, errorCode: string | undefined): void;
  /** A session began on this node. */
  sessionStarted(op: SessionOp, role: SessionRole): void;
  /** A session that began ended (whatever its outcome), after `seconds`. */
  sessionEnded(op: SessionOp, role: SessionRole, seconds: number): void;
  /** Ready members as this node sees them (itself included) out of `members`. */
  peersReady(ready: number, members: number): void;
  /** A periodic or on-demand backup finished: ok or failed; its kind when it ran ('none': nothing new to write). */
  backupFinished(ok: boolean, kind?: string): void;
}

const nothing = () => {};

/** Reports nothing (the default of library use, `tessera dev` and tests). */
export const noMetrics: NodeMetrics = {
  requestReceived: nothing,
  resultPublished: nothing,
  sessionStarted: nothing,
  sessionEnded: nothing,
  peersReady: nothing,
  backupFinished: nothing,
};

/**
 * Runs `fn` as one session of `op` in `role`: started, then ended with its duration however it
 * settles. Returns what `fn` returns; rethrows what it throws.
 */
export async function timedSession<T>(
  metrics: NodeMetrics,
  op: SessionOp,
  role: SessionRole,
  fn: () => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  metrics.sessionStarted(op, role);
  try {
    return await fn();
  } finally {
    metrics.sessionEnded(op, role, (performance.now() - t0) / 1000);
  }
}
