/**
 * Settles, with the peers, what a crash or a lost confirmation left open — from the vault alone:
 *
 * - a **pending** version (a keygen or reshare that stored its share but did not see every
 *   member's confirmation) is activated once every member of its committee says it holds that
 *   version (pending or active) with the same key — exactly the activation rule of a live
 *   session; it is discarded once every member answered, one says it does not hold it and none
 *   says it is active (then no one can have activated it); otherwise it stays pending and is
 *   asked about again (an operator settles a member that never comes back: docs/node.md);
 * - an **active** version that a newer committee without this node replaced is retired (its
 *   secret destroyed) once t+1 members of that committee agree on the newer version AND t+1 other
 *   members of this version's own committee say they no longer hold it: this node left the
 *   committee in a reshare whose last confirmations it missed.
 *
 * Runs at start and again for the wallets still open, with a bound on wallets per pass.
 */

import type { KeyType as ApiKeyType } from '../../api/index.js';
import { constantTimeEqual } from '../../common/bytes.js';
import { NotFoundError } from '../../common/errors.js';
import type { KeyType as VaultKeyType } from '../../vault/index.js';
import type { Control, HoldStatus } from '../sessions/control.js';
import { ControlInbox, type NodeContext, newSessionId, sendControl } from './context.js';
import { lookupWallet } from './directory.js';

const apiKeyType = (k: VaultKeyType): ApiKeyType => (k === 'ecdsa' ? 'secp256k1' : 'ed25519');

/**
 * What this node holds of a version, or undefined if its vault cannot tell (then it does not
 * answer: "none" on a read error would count as "retired it" towards someone else's decision).
 * Does not throw.
 */
export function localHold(
  ctx: NodeContext,
  keyType: ApiKeyType,
  walletId: string,
  version: number,
): Control | undefined {
  const vkt: VaultKeyType = keyType === 'secp256k1' ? 'ecdsa' : 'eddsa';
  let w: ReturnType<NodeContext['vault']['getWallet']>;
  try {
    w = ctx.vault.getWallet(vkt, walletId);
  } catch (e) {
    if (e instanceof NotFoundError) return { type: 'hold', status: 'none', publicKey: new Uint8Array(0) };
    return undefined;
  }
  try {
    const v = ctx.vault.listVersions(vkt, walletId).find((x) => x.version === version);
    const status: HoldStatus = v?.status === 'pending' ? 'pending' : v?.status === 'active' ? 'active' : 'none';
    return { type: 'hold', status, publicKey: status === 'none' ? new Uint8Array(0) : Uint8Array.from(w.publicKey) };
  } catch {
    return undefined;
  }
}

/** Answers a peer's hold query (not at all if this node's vault cannot tell). Does not throw. */
export function answerHoldQuery(
  ctx: NodeContext,
  from: string,
  sid: string,
  q: Extract<Control, { type: 'hold-query' }>,
): void {
  if (q.keyType !== 'secp256k1' && q.keyType !== 'ed25519') return;
  const hold = localHold(ctx, q.keyType, q.walletId, q.version);
  if (hold) sendControl(ctx, sid, hold, [from], from);
}

/** Asks `members` what they hold of a version; the answers that came within `timeoutMs`. Never throws. */
async function askHolds(
  ctx: NodeContext,
  keyType: ApiKeyType,
  walletId: string,
  version: number,
  members: readonly string[],
  timeoutMs: number,
): Promise<Map<string, { status: HoldStatus; publicKey: Uint8Array }>> {
  const out = new Map<string, { status: HoldStatus; publicKey: Uint8Array }>();
  const asked = members.filter((m) => m !== ctx.self && ctx.readiness.isReady(m));
  if (asked.length === 0) return out;
  const sid = newSessionId();
  const inbox = new ControlInbox(ctx, sid);
  try {
    sendControl(ctx, sid, { type: 'hold-query', keyType, walletId, version }, asked);
    const deadline = Date.now() + timeoutMs;
    while (out.size < asked.length) {
      const { from, c } = await inbox.next(deadline);
      if (c.type === 'hold' && asked.includes(from) && !out.has(from))
        out.set(from, { status: c.status, publicKey: c.publicKey });
    }
  } catch {
    // the answers so far
  } finally {
    inbox.close();
  }
  return out;
}

export interface ReconcileReport {
  activated: number;
  discarded: number;
  retired: number;
  /** Wallet versions still open (members unreachable): ask again later. */
  open: { keyType: VaultKeyType; walletId: string }[];
}

/**
 * One pass over `wallets` (default: every wallet in the vault, at most `limit`). Never throws;
 * every decision is logged.
 */
export async function reconcile(
  ctx: NodeContext,
  wallets?: readonly { keyType: VaultKeyType; walletId: string }[],
  limit = 10_000,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { activated: 0, discarded: 0, retired: 0, open: [] };
  let list: { keyType: VaultKeyType; walletId: string }[];
  try {
    list = (wallets ?? ctx.vault.listWallets().map((w) => ({ keyType: w.keyType, walletId: w.walletId }))).slice(
      0,
      limit,
    );
  } catch (e) {
    ctx.log.error({ err: (e as Error).message }, 'reconcile could not list the wallets');
    return report;
  }
  for (const { keyType, walletId } of list) {
    try {
      await reconcileWallet(ctx, keyType, walletId, report);
    } catch (e) {
      ctx.log.error({ wallet: walletId, keyType, err: (e as Error).message }, 'reconcile failed for a wallet');
      report.open.push({ keyType, walletId });
    }
  }
  return report;
}

async function reconcileWallet(
  ctx: NodeContext,
  keyType: VaultKeyType,
  walletId: string,
  report: ReconcileReport,
): Promise<void> {
  const wallet = ctx.vault.getWallet(keyType, walletId);
  const current = wallet.currentVersion ?? 0;
  const pending = ctx.vault
    .listVersions(keyType, walletId)
    .filter((v) => v.status === 'pending' && v.version > current)
    .sort((a, b) => b.version - a.version)[0];
  const kt = apiKeyType(keyType);
  if (pending) {
    const others = pending.participants.filter((p) => p !== ctx.self);
    const holds = await askHolds(ctx, kt, walletId, pending.version, others, 3000);
    const sameKey = (k: Uint8Array) => constantTimeEqual(k, wallet.publicKey);
    const anyActive = [...holds.values()].some((h) => h.status === 'active');
    const allHold = others.every((p) => {
      const h = holds.get(p);
      return h !== undefined && h.status !== 'none' && sameKey(h.publicKey);
    });
    if (allHold) {
      ctx.vault.activate(keyType, walletId, pending.version);
      if (current > 0) ctx.shares.retire(keyType, walletId, current);
      ctx.log.warn(
        { wallet: walletId, keyType, version: pending.version },
        'activated a pending version every member holds',
      );
      report.activated++;
      return;
    }
    // Discard only on every member's answer: one that activated it may just not have answered in
    // time, and a lying member's "none" must not outweigh it.
    const allAnswered = others.every((p) => holds.has(p));
    const someoneLacks = [...holds.values()].some((h) => h.status === 'none');
    if (allAnswered && someoneLacks && !anyActive) {
      ctx.vault.discardPending(keyType, walletId, pending.version);
      ctx.log.warn(
        { wallet: walletId, keyType, version: pending.version },
        'discarded a pending version a member never stored',
      );
      report.discarded++;
      return;
    }
    report.open.push({ keyType, walletId });
    return;
  }
  if (wallet.currentVersion === null) return;
  // Has a newer committee without this node replaced the active version?
  const others = await lookupWallet(ctx, kt, walletId, false, 3000, { peersOnly: true });
  if (others && others.version > wallet.currentVersion && !others.participants.includes(ctx.self)) {
    // The newer committee's word is not enough (t+1 colluding nodes could invent one and make honest
    // holders destroy their shares, 7/N-1): t+1 members of THIS version's committee must say they
    // no longer hold it. An honest one retired it only after every new member confirmed.
    const committee = wallet.participants.filter((p) => p !== ctx.self);
    const holds = await askHolds(ctx, kt, walletId, wallet.currentVersion, committee, 3000);
    const gone = [...holds.values()].filter((h) => h.status === 'none').length;
    if (gone < wallet.threshold + 1) {
      report.open.push({ keyType, walletId });
      return;
    }
    ctx.vault.retireActive(keyType, walletId);
    ctx.shares.retire(keyType, walletId, wallet.currentVersion);
    ctx.log.warn(
      { wallet: walletId, keyType, version: wallet.currentVersion, newer: others.version },
      'retired (destroyed) a version that a newer committee without this node replaced',
    );
    report.retired++;
  }
}
