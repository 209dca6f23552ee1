/**
 * Keygen: one request creates the wallet on both curves (DKLs23 and FROST DKG, run at once) with
 * every member of the cluster and threshold `mpc_threshold`. Each member checks the client's
 * request itself, stores both shares as *pending* version 1 in one vault transaction, and
 * broadcasts a signed "stored" confirmation with the public keys; a member activates version 1
 * only once every member's confirmation arrived with the same keys. The coordinator answers once
 * it has activated. A member that misses a confirmation keeps its shares pending (never discards
 * key material others may have activated).
 */
import {
  type GenerateKeyRequest,
  generateKeySignedBytes,
  keygenResult,
  parseGenerateKeyRequest,
  RequestError,
} from '../../api/index.js';
import { constantTimeEqual as bytesEqual } from '../../common/bytes.js';
import { ecdsa, frost, type KeygenParty } from '../../tss/index.js';
import type { SessionStart, StoredKey } from '../sessions/control.js';
import { PartyRunner } from '../sessions/party-runner.js';
import {
  activateVersion,
  ControlInbox,
  type NodeContext,
  newSessionId,
  OperationError,
  sendControl,
} from './context.js';

function walletExists(ctx: NodeContext, walletId: string): boolean {
  for (const t of ['ecdsa', 'eddsa'] as const) {
    try {
      ctx.vault.getWallet(t, walletId);
      return true;
    } catch {
      // not found under this key type
    }
  }
  return false;
}

/**
 * Coordinates a keygen request that parsed and authenticated; returns the result event, and
 * `refused` when no session ran because the wallet exists (that answer must not take the
 * wallet's keygen result's message id). Never throws.
 */
export async function coordinateKeygen(
  ctx: NodeContext,
  req: GenerateKeyRequest,
  raw: Uint8Array,
  clientId: string,
): Promise<{ result: Uint8Array; refused: boolean }> {
  const fail = (code: OperationError['errorCode'], reason: string) => ({
    result: keygenResult(req.walletId, { code, reason }),
    refused: false,
  });
  if (walletExists(ctx, req.walletId))
    return { ...fail('ERROR_KEY_ALREADY_EXISTS', `Key already exists: ${req.walletId}`), refused: true };
  const notReady = ctx.members.filter((m) => !ctx.readiness.isReady(m));
  if (notReady.length > 0)
    return fail('ERROR_CLUSTER_NOT_READY', `All nodes are not ready! not ready: ${notReady.join(', ')}`);
  const sid = newSessionId();
  const start: SessionStart = {
    op: 'keygen',
    request: raw,
    clientId,
    keyType: '',
    walletId: req.walletId,
    version: 1,
    threshold: ctx.config.mpc_threshold,
    participants: ctx.members,
    dealers: [],
    oldPublic: new Uint8Array(0),
    members: ctx.members,
  };
  const inbox = new ControlInbox(ctx, sid);
  sendControl(ctx, sid, { type: 'start', start }, ctx.members);
  try {
    const keys = await runKeygen(ctx, sid, start, inbox);
    return {
      result: keygenResult(req.walletId, {
        ecdsaPublicKeyXY: ecdsa.publicKeyXY(keys.ecdsa),
        eddsaPublicKey: keys.eddsa,
      }),
      refused: false,
    };
  } catch (e) {
    const oe = asOperationError(e, 'ERROR_KEYGEN_FAILURE');
    return fail(oe.errorCode, oe.reason);
  } finally {
    inbox.close();
  }
}

/** A member's side of a keygen started by `coordinator`. Never throws (failures are logged). */
export async function joinKeygen(
  ctx: NodeContext,
  coordinator: string,
  sid: string,
  start: SessionStart,
): Promise<void> {
  let inbox: ControlInbox;
  try {
    inbox = new ControlInbox(ctx, sid);
  } catch {
    return;
  }
  try {
    await runKeygen(ctx, sid, start, inbox);
  } catch (e) {
    ctx.log.warn(
      { session: sid, coordinator, reason: asOperationError(e, 'ERROR_KEYGEN_FAILURE').reason },
      'keygen failed',
    );
  } finally {
    inbox.close();
  }
}

export function asOperationError(e: unknown, code: OperationError['errorCode']): OperationError {
  if (e instanceof OperationError) return e;
  if (e instanceof RequestError) return new OperationError(e.errorCode, e.reason);
  return new OperationError(
    code,
    `${code === 'ERROR_KEYGEN_FAILURE' ? 'keygen' : 'operation'} failed: ${(e as Error).message}`,
  );
}

function checkKeygenStart(ctx: NodeContext, start: SessionStart): GenerateKeyRequest {
  const req = parseGenerateKeyRequest(start.request);
  ctx.authenticate(generateKeySignedBytes(req), req.signature, req.walletId, req.authorizerSignatures);
  if (req.walletId !== start.walletId)
    throw new OperationError('ERROR_MSG_VALIDATION', 'the session start does not match the request');
  if (start.participants.join('\u0000') !== ctx.members.join('\u0000'))
    throw new OperationError('ERROR_INCOMPATIBLE_PEER_IDS', 'a keygen runs with every member of the cluster');
  if (start.threshold !== ctx.config.mpc_threshold || start.version !== 1)
    throw new OperationError(
      'ERROR_INVALID_THRESHOLD',
      `the coordinator asked for threshold ${start.threshold}; this node is configured with mpc_threshold ${ctx.config.mpc_threshold}`,
    );
  if (walletExists(ctx, req.walletId))
    throw new OperationError('ERROR_KEY_ALREADY_EXISTS', `Key already exists: ${req.walletId}`);
  return req;
}

/**
 * Runs both DKGs, stores the shares pending, confirms, and activates once every member
 * confirmed the same keys. Returns the public keys (ECDSA compressed, Ed25519). Throws
 * `OperationError`/`RequestError`; on failure tells the peers (abort notices).
 */
async function runKeygen(
  ctx: NodeContext,
  sid: string,
  start: SessionStart,
  inbox: ControlInbox,
): Promise<{ ecdsa: Uint8Array; eddsa: Uint8Array }> {
  const deadline = Date.now() + ctx.config.tessera.timeouts.keygen_seconds * 1000;
  const peers = start.participants.filter((p) => p !== ctx.self);
  try {
    checkKeygenStart(ctx, start);
  } catch (e) {
    const oe = asOperationError(e, 'ERROR_KEYGEN_FAILURE');
    for (const p of ['ecdsa', 'eddsa'])
      sendControl(ctx, `${sid}/${p}`, { type: 'abort', reason: oe.reason, blame: [] }, peers);
    throw oe;
  }
  const timeoutMs = ctx.config.tessera.timeouts.keygen_seconds * 1000;
  const common = { self: ctx.self, participants: start.participants, threshold: start.threshold };
  const ecdsaParty = new ecdsa.DkgParty({
    ...common,
    sessionId: `${sid}/ecdsa`,
    setupLog: { claim: (c) => ctx.vault.claimSetupContext(c) },
  });
  const frostParty = new frost.DkgParty({ ...common, sessionId: `${sid}/eddsa` });
  const runners = [ecdsaParty, frostParty].map(
    (party) =>
      new PartyRunner<ecdsa.KeyShare | frost.KeyShare>({
        party: party as KeygenParty<ecdsa.KeyShare | frost.KeyShare>,
        sender: ctx.sender,
        router: ctx.router,
        timeoutMs,
        log: ctx.log,
      }),
  );
  for (const r of runners) r.start();
  const settled = await Promise.allSettled(runners.map((r) => r.result));
  const shares = settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  const disposeAll = () => {
    for (const s of shares) s?.dispose();
    for (const p of [ecdsaParty, frostParty]) p.pendingResult()?.dispose();
  };
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    for (const r of runners) r.abort('the other curve’s key generation failed');
    disposeAll();
    throw new OperationError('ERROR_KEYGEN_FAILURE', `keygen failed: ${(failure.reason as Error).message}`);
  }
  const [eShare, fShare] = shares as [ecdsa.KeyShare, frost.KeyShare];
  const keys: StoredKey[] = [
    { keyType: 'secp256k1', version: 1, publicKey: Uint8Array.from(eShare.groupPublicKey) },
    { keyType: 'ed25519', version: 1, publicKey: Uint8Array.from(fShare.groupPublicKey) },
  ];
  const eBytes = eShare.serialize();
  const fBytes = fShare.serialize();
  try {
    const pending = (keyType: 'ecdsa' | 'eddsa', publicKey: Uint8Array, share: Uint8Array) => ({
      keyType,
      walletId: start.walletId,
      version: 1,
      threshold: start.threshold,
      participants: [...start.participants],
      publicKey,
      share,
    });
    // both curves' shares in one transaction, pending until every member confirmed
    ctx.vault.putShares([pending('ecdsa', keys[0]!.publicKey, eBytes), pending('eddsa', keys[1]!.publicKey, fBytes)]);
  } catch (e) {
    for (const p of ['ecdsa', 'eddsa'])
      sendControl(ctx, `${sid}/${p}`, { type: 'abort', reason: 'storage failed', blame: [] }, peers);
    throw new OperationError('ERROR_KEY_SAVE', `keygen failed: storing the shares failed: ${(e as Error).message}`);
  } finally {
    eBytes.fill(0);
    fBytes.fill(0);
    disposeAll();
  }
  // stored (pending) before we say so
  sendControl(ctx, sid, { type: 'stored', keys }, start.members);
  inbox.local({ type: 'stored', keys });
  try {
    await awaitConfirmations(ctx, inbox, start.participants, keys, deadline, sid);
  } catch (e) {
    ctx.reconcileLater('ecdsa', start.walletId);
    ctx.reconcileLater('eddsa', start.walletId);
    throw e;
  }
  activateVersion(ctx, 'ecdsa', start.walletId, 1);
  activateVersion(ctx, 'eddsa', start.walletId, 1);
  return { ecdsa: keys[0]!.publicKey, eddsa: keys[1]!.publicKey };
}

/**
 * Waits for a "stored" confirmation with exactly `keys` from every one of `from`. Throws
 * `OperationError` on a timeout (the pending version stays) or on a confirmation of other keys.
 */
export async function awaitConfirmations(
  ctx: NodeContext,
  inbox: ControlInbox,
  from: readonly string[],
  keys: readonly StoredKey[],
  deadline: number,
  sid: string,
  op: 'keygen' | 'reshare' = 'keygen',
): Promise<void> {
  const confirmed = new Set<string>();
  const same = (got: readonly StoredKey[]) =>
    got.length === keys.length &&
    got.every(
      (k, i) =>
        k.keyType === keys[i]!.keyType && k.version === keys[i]!.version && bytesEqual(k.publicKey, keys[i]!.publicKey),
    );
  while (confirmed.size < from.length) {
    let next: Awaited<ReturnType<ControlInbox['next']>>;
    try {
      next = await inbox.next(deadline);
    } catch {
      const missing = from.filter((p) => !confirmed.has(p));
      ctx.log.error({ session: sid, missing }, 'ALERT: new key material stays pending: confirmations missing');
      throw new OperationError(
        'ERROR_SESSION_TIMEOUT',
        `${op} session timed out waiting for ${missing.join(', ')}`,
        true,
      );
    }
    const { from: who, c } = next;
    if (c.type === 'abort' && from.includes(who))
      throw new OperationError('ERROR_OPERATION_ABORTED', `${who} aborted: ${c.reason}`);
    if (c.type !== 'stored' || !from.includes(who)) continue;
    if (!same(c.keys)) {
      ctx.log.error({ session: sid, peer: who }, 'ALERT: a member confirmed different keys');
      throw new OperationError('ERROR_DATA_CORRUPTION', `${who} confirmed different public keys`);
    }
    confirmed.add(who);
  }
}
