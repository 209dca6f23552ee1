/**
 * Which version of a wallet is active, with which committee: a coordinator reads it from its own
 * vault when it holds the active version, and otherwise — after a reshare to a committee without
 * it — asks the ready members. A view is accepted only when t+1 of the committee it names report
 * exactly that view, so fewer than t+1 lying nodes cannot steer a coordinator (and could not sign
 * anyway: every signer checks its own vault).
 */

import type { KeyType as ApiKeyType } from '../../api/index.js';
import { ByteWriter, constantTimeEqual } from '../../common/bytes.js';
import { ecdsa, frost } from '../../tss/index.js';
import type { Control, WalletView } from '../sessions/control.js';
import { ControlInbox, type NodeContext, newSessionId, sendControl, vaultKeyType } from './context.js';

/** This node's view of the wallet's active version, or undefined if it holds none. Does not throw. */
export function localView(
  ctx: NodeContext,
  keyType: ApiKeyType,
  walletId: string,
  withPackage: boolean,
): WalletView | undefined {
  const vkt = vaultKeyType(keyType);
  try {
    const w = ctx.vault.getWallet(vkt, walletId);
    if (w.currentVersion === null) return undefined;
    let pkg: Uint8Array = new Uint8Array(0);
    if (withPackage) {
      const lease = ctx.shares.acquire(vkt, walletId, w.currentVersion);
      try {
        pkg =
          lease.share instanceof ecdsa.KeyShare
            ? ecdsa.serializeKeyPublic(lease.share.public)
            : frost.serializeKeyPublic(lease.share.public);
      } finally {
        lease.release();
      }
    }
    return {
      version: w.currentVersion,
      threshold: w.threshold,
      participants: [...w.participants],
      publicKey: Uint8Array.from(w.publicKey),
      package: pkg,
    };
  } catch {
    return undefined;
  }
}

/** Answers a peer's query with this node's view (or none). Does not throw. */
export function answerQuery(ctx: NodeContext, from: string, sid: string, q: Extract<Control, { type: 'query' }>): void {
  if (q.keyType !== 'secp256k1' && q.keyType !== 'ed25519') return;
  const info = localView(ctx, q.keyType, q.walletId, q.withPackage) ?? null;
  sendControl(ctx, sid, { type: 'info', info }, [from], from);
}

/** A view worth counting: from a member of the committee it names, t ≥ 1, members of this cluster, a package that is the key's. */
function plausible(ctx: NodeContext, v: WalletView, from: string, keyType: ApiKeyType, withPackage: boolean): boolean {
  if (!v.participants.includes(from) || v.threshold < 1 || v.threshold + 1 > v.participants.length) return false;
  if (!v.participants.every((p) => ctx.members.includes(p))) return false;
  if (!withPackage) return true;
  try {
    const pkg = keyType === 'secp256k1' ? ecdsa.deserializeKeyPublic(v.package) : frost.deserializeKeyPublic(v.package);
    const key = Uint8Array.from(pkg.groupPublicKey);
    return pkg.version === v.version && pkg.threshold === v.threshold && constantTimeEqual(key, v.publicKey);
  } catch {
    return false;
  }
}

const viewKey = (v: WalletView) => {
  const w = new ByteWriter().u32(v.version).u16(v.threshold).u16(v.participants.length);
  for (const p of v.participants) w.str(p);
  return Buffer.from(w.bytes(v.publicKey).bytes(v.package).finish()).toString('base64');
};

/**
 * The wallet's active version: this node's own view (unless `peersOnly`), else the view t+1 of
 * its committee report within `timeoutMs`; undefined if none. Never throws.
 */
export async function lookupWallet(
  ctx: NodeContext,
  keyType: ApiKeyType,
  walletId: string,
  withPackage: boolean,
  timeoutMs = 3000,
  opts: { peersOnly?: boolean } = {},
): Promise<WalletView | undefined> {
  if (!opts.peersOnly) {
    const own = localView(ctx, keyType, walletId, withPackage);
    if (own) return own;
  }
  // This node's own record of the wallet's key, kept even after it left the committee: a view of
  // another key is never counted (two colluding members could otherwise invent one, 7/N-1).
  let knownKey: Uint8Array | undefined;
  try {
    knownKey = Uint8Array.from(ctx.vault.getWallet(vaultKeyType(keyType), walletId).publicKey);
  } catch {
    knownKey = undefined;
  }
  const asked = ctx.readiness.readyMembers().filter((m) => m !== ctx.self);
  if (asked.length === 0) return undefined;
  const sid = newSessionId();
  const inbox = new ControlInbox(ctx, sid);
  try {
    sendControl(ctx, sid, { type: 'query', keyType, walletId, withPackage }, asked);
    const deadline = Date.now() + timeoutMs;
    const answered = new Set<string>();
    const votes = new Map<string, { view: WalletView; from: Set<string> }>();
    while (answered.size < asked.length) {
      let next: Awaited<ReturnType<ControlInbox['next']>>;
      try {
        next = await inbox.next(deadline);
      } catch {
        return undefined;
      }
      const { from, c } = next;
      if (c.type !== 'info' || !asked.includes(from) || answered.has(from)) continue;
      answered.add(from);
      if (c.info === null || !plausible(ctx, c.info, from, keyType, withPackage)) continue;
      if (knownKey && !constantTimeEqual(knownKey, c.info.publicKey)) continue;
      const k = viewKey(c.info);
      const slot = votes.get(k) ?? { view: c.info, from: new Set<string>() };
      slot.from.add(from);
      votes.set(k, slot);
      // t+1 of the committee it names, and never fewer than two nodes (a view sets its own t)
      if (slot.from.size >= Math.max(slot.view.threshold + 1, 2)) return slot.view;
    }
    return undefined;
  } finally {
    inbox.close();
  }
}
