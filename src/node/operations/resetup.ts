/**
 * Automatic OT re-setup of a burnt DKLs23 pair (docs/ecdsa.md): when a signing session leaves a
 * pair burnt in this node's share — OT evidence against the peer, or a lost race — this node
 * starts a two-member `OtResetupParty` with that peer, with the vault's setup log, checkpointed
 * like a signing party, and logs an alert. At most one re-setup per (wallet, peer) at a time,
 * and not more often than every 10 s; when both ends start one at once, the smaller node id's wins.
 */
import { checkpointed, ecdsa } from '../../tss/index.js';
import type { SessionStart } from '../sessions/control.js';
import { PartyRunner } from '../sessions/party-runner.js';
import { type NodeContext, newSessionId, OperationError, sendControl } from './context.js';

const MIN_INTERVAL_MS = 10_000;

interface ResetupState {
  readonly inflight: Set<string>;
  /** When this node last started a re-setup of a pair. */
  readonly last: Map<string, number>;
  /** When this node last accepted a peer's re-setup of a pair. */
  readonly lastInbound: Map<string, number>;
}

const states = new WeakMap<NodeContext, ResetupState>();

function stateOf(ctx: NodeContext): ResetupState {
  let s = states.get(ctx);
  if (!s) {
    s = { inflight: new Set(), last: new Map(), lastInbound: new Map() };
    states.set(ctx, s);
  }
  return s;
}

const pairKey = (walletId: string, peer: string) => `${walletId}\u0000${peer}`;

/** True if this node's share of the version has its pair with `peer` burnt. Does not throw. */
function pairBurnt(ctx: NodeContext, start: SessionStart, peer: string): boolean {
  try {
    const lease = ctx.shares.acquire('ecdsa', start.walletId, start.version);
    try {
      return (lease.share as ecdsa.KeyShare).burntPeers().includes(peer);
    } finally {
      lease.release();
    }
  } catch {
    return false;
  }
}

/** Starts a re-setup with every ready peer in `peers` that has none running. Does not throw. */
export function scheduleResetup(ctx: NodeContext, walletId: string, version: number, peers: readonly string[]): void {
  const st = stateOf(ctx);
  for (const peer of peers) {
    const k = pairKey(walletId, peer);
    if (st.inflight.has(k) || Date.now() - (st.last.get(k) ?? 0) < MIN_INTERVAL_MS) continue;
    if (!ctx.readiness.isReady(peer)) continue;
    ctx.log.warn({ wallet: walletId, peer, version }, 'ALERT: burnt OT pair; starting a re-setup');
    const sid = newSessionId();
    const participants = [ctx.self, peer].sort();
    const start: SessionStart = {
      op: 'resetup',
      request: new Uint8Array(0),
      clientId: '',
      keyType: 'secp256k1',
      walletId,
      version,
      threshold: 0,
      participants,
      dealers: [],
      oldPublic: new Uint8Array(0),
      members: participants,
    };
    sendControl(ctx, sid, { type: 'start', start }, [peer]);
    void joinResetup(ctx, ctx.self, sid, start);
  }
}

/**
 * One member's side of a re-setup. Resolves true once the new pair is installed and stored,
 * false on refusal or failure (logged). Never throws.
 */
export async function joinResetup(ctx: NodeContext, from: string, sid: string, start: SessionStart): Promise<boolean> {
  const peer = start.participants.find((p) => p !== ctx.self);
  const st = stateOf(ctx);
  try {
    if (start.participants.length !== 2 || peer === undefined || !start.participants.includes(ctx.self))
      throw new OperationError('ERROR_INCOMPATIBLE_PEER_IDS', 'a re-setup is between this node and one peer');
    if (from !== ctx.self && from !== peer)
      throw new OperationError('ERROR_INCOMPATIBLE_PEER_IDS', 'only a member starts a re-setup');
    if (start.keyType !== 'secp256k1')
      throw new OperationError('ERROR_MSG_VALIDATION', 'only ECDSA pairs are re-set up');
    const wallet = ctx.vault.getWallet('ecdsa', start.walletId);
    if (wallet.currentVersion !== start.version || !wallet.participants.includes(peer))
      throw new OperationError('ERROR_SESSION_STALE', 'the re-setup names another key version or a non-member');
    const k = pairKey(start.walletId, peer);
    if (from !== ctx.self) {
      if (st.inflight.has(k) && ctx.self < peer)
        throw new OperationError('ERROR_SESSION_DUPLICATE', 'a re-setup of this pair is running');
      // A member may ask for a pair this node holds live, but not all the time: each re-setup costs a
      // full OT setup and breaks sessions in flight. A pair burnt here is always set up again.
      const burntHere =
        ctx.vault.getWallet('ecdsa', start.walletId).currentVersion === start.version && pairBurnt(ctx, start, peer);
      if (!burntHere && Date.now() - (st.lastInbound.get(k) ?? 0) < MIN_INTERVAL_MS)
        throw new OperationError('ERROR_CONCURRENCY_LIMIT', 'this pair was re-set up moments ago');
      st.lastInbound.set(k, Date.now());
    }
    st.inflight.add(k);
    st.last.set(k, Date.now());
    const lease = ctx.shares.acquire('ecdsa', start.walletId, start.version);
    try {
      const party = checkpointed(
        new ecdsa.OtResetupParty({
          sessionId: `${sid}/resetup`,
          self: ctx.self,
          members: start.participants,
          keyShare: lease.share as ecdsa.KeyShare,
          setupLog: { claim: (c) => ctx.vault.claimSetupContext(c) },
        }),
        lease.checkpoint,
      );
      const runner = new PartyRunner({
        party,
        sender: ctx.sender,
        router: ctx.router,
        timeoutMs: ctx.config.tessera.timeouts.keygen_seconds * 1000,
        log: ctx.log,
      });
      runner.start();
      await runner.result;
      lease.checkpoint();
      ctx.log.info({ wallet: start.walletId, peer }, 'OT pair re-set up');
      ctx.audit({ actor: from, action: 'ot-resetup', walletId: start.walletId, sessionId: sid, outcome: 'ok' });
      return true;
    } finally {
      ctx.shares.settle(lease);
      lease.release();
      st.inflight.delete(k);
    }
  } catch (e) {
    const reason = e instanceof OperationError ? e.reason : (e as Error).message;
    ctx.log.warn({ wallet: start.walletId, peer, reason }, 'OT re-setup failed');
    if (peer !== undefined) sendControl(ctx, `${sid}/resetup`, { type: 'abort', reason, blame: [] }, [peer]);
    ctx.audit({
      actor: from,
      action: 'ot-resetup',
      walletId: start.walletId,
      sessionId: sid,
      outcome: 'error',
      details: { reason: reason.slice(0, 200) },
    });
    return false;
  }
}
