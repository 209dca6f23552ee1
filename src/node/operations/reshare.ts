/**
 * Reshare of one curve's key to a new committee and/or threshold. The coordinator (a holder of
 * the active version v) picks t+1 ready holders as dealers and announces the start with the old
 * public package; every member checks the client's request itself. New members store version v+1
 * *pending* and confirm (signed broadcast); once every new member's confirmation is in, new
 * members activate v+1 (which destroys their v) and old members outside the new committee retire
 * v (destroying it). Until then — and on any failure — v stays active and keeps signing.
 */
import { createHash } from 'node:crypto';
import {
  initiatorId,
  parseResharingRequest,
  type ResharingRequest,
  reshareResult,
  resharingSignedBytes,
} from '../../api/index.js';
import { constantTimeEqual } from '../../common/bytes.js';
import { ecdsa, frost, type ProtocolParty } from '../../tss/index.js';
import type { SessionStart, StoredKey } from '../sessions/control.js';
import { PartyRunner } from '../sessions/party-runner.js';
import {
  activateVersion,
  ControlInbox,
  type NodeContext,
  newSessionId,
  OperationError,
  sendControl,
  vaultKeyType,
} from './context.js';
import { lookupWallet } from './directory.js';
import { asOperationError, awaitConfirmations } from './keygen.js';

const partyId = (sid: string) => `${sid}/reshare`;

/**
 * The request-log key of a reshare session id: a control character keeps it apart from every tx
 * id, the SHA-256 keeps it within the log's 256-byte ids whatever the session id's length.
 */
export const reshareKey = (sessionId: string) =>
  `\u0000reshare\u0000${createHash('sha256').update(sessionId, 'utf8').digest('hex')}`;

const requestDigest = (raw: Uint8Array) => new Uint8Array(createHash('sha256').update(raw).digest());

type AnyPublic = ecdsa.KeyPublic | frost.KeyPublic;

/** Coordinates a reshare request that parsed and authenticated; returns the result event. Never throws. */
export async function coordinateReshare(
  ctx: NodeContext,
  req: ResharingRequest,
  raw: Uint8Array,
  clientId: string,
): Promise<{ result: Uint8Array; refused: boolean }> {
  const ids = { walletId: req.walletId, newThreshold: req.newThreshold, keyType: req.keyType };
  const fail = (e: OperationError) => ({
    result: reshareResult(ids, { code: e.errorCode, reason: e.reason }),
    refused: false,
  });
  let used: ReturnType<NodeContext['vault']['signedRequest']>;
  try {
    used = ctx.vault.signedRequest(req.walletId, reshareKey(req.sessionId));
  } catch {
    used = undefined;
  }
  if (used) {
    const dup = new OperationError(
      'ERROR_SESSION_DUPLICATE',
      `Duplicate session: reshare session ${req.sessionId} was used before`,
    );
    return { ...fail(dup), refused: true };
  }
  const wallet = await lookupWallet(ctx, req.keyType, req.walletId, true);
  if (wallet === undefined)
    return fail(new OperationError('ERROR_KEY_NOT_FOUND', `Key not found: ${req.keyType} wallet ${req.walletId}`));
  const oldPublic = wallet.package;
  const unknown = req.nodeIds.filter((n) => !ctx.members.includes(n));
  if (unknown.length > 0)
    return fail(new OperationError('ERROR_INCOMPATIBLE_PEER_IDS', `unknown node ids: ${unknown.join(', ')}`));
  const newCommittee = [...req.nodeIds].sort();
  const notReady = newCommittee.filter((n) => !ctx.readiness.isReady(n));
  if (notReady.length > 0)
    return fail(new OperationError('ERROR_CLUSTER_NOT_READY', `new members not ready: ${notReady.join(', ')}`));
  const holders = wallet.participants.filter((p) => ctx.readiness.isReady(p));
  if (holders.length < wallet.threshold + 1)
    return fail(
      new OperationError(
        'ERROR_NOT_MAJORITY',
        `not enough holders of the key are ready: ready=${holders.length}, required=${wallet.threshold + 1}`,
      ),
    );
  const dealers = [...holders]
    .sort((a, b) => (ctx.load.get(a) ?? 0) - (ctx.load.get(b) ?? 0) || Math.random() - 0.5)
    .slice(0, wallet.threshold + 1)
    .sort();
  const sid = newSessionId();
  const start: SessionStart = {
    op: 'reshare',
    request: raw,
    clientId,
    keyType: req.keyType,
    walletId: req.walletId,
    version: wallet.version,
    threshold: req.newThreshold,
    participants: newCommittee,
    dealers,
    oldPublic,
    members: [...new Set([...holders, ...newCommittee])].sort(),
  };
  const inbox = new ControlInbox(ctx, sid);
  sendControl(ctx, sid, { type: 'start', start }, start.members);
  try {
    const pub = await runReshare(ctx, ctx.self, sid, start, inbox);
    return {
      result: reshareResult(ids, { publicKey: req.keyType === 'secp256k1' ? ecdsa.publicKeyXY(pub) : pub }),
      refused: false,
    };
  } catch (e) {
    return fail(asOperationError(e, 'ERROR_RESHARE_FAILURE'));
  } finally {
    inbox.close();
  }
}

/** A member's side of a reshare started by `coordinator`. Never throws (failures are logged). */
export async function joinReshare(
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
    await runReshare(ctx, coordinator, sid, start, inbox);
  } catch (e) {
    ctx.log.warn(
      { session: sid, coordinator, reason: asOperationError(e, 'ERROR_RESHARE_FAILURE').reason },
      'reshare failed',
    );
  } finally {
    inbox.close();
  }
}

interface CheckedReshare {
  readonly req: ResharingRequest;
  readonly oldPublic: AnyPublic;
  readonly holdsOld: boolean;
}

function checkReshareStart(ctx: NodeContext, start: SessionStart): CheckedReshare {
  const req = parseResharingRequest(start.request);
  ctx.authenticate(
    resharingSignedBytes(req),
    req.signature ?? new Uint8Array(0),
    initiatorId(req),
    req.authorizerSignatures,
  );
  const sorted = (l: readonly string[]) => [...l].sort().join('\u0000') === l.join('\u0000');
  if (
    req.walletId !== start.walletId ||
    req.keyType !== start.keyType ||
    req.newThreshold !== start.threshold ||
    [...req.nodeIds].sort().join('\u0000') !== start.participants.join('\u0000') ||
    !sorted(start.dealers) ||
    !sorted(start.members)
  )
    throw new OperationError('ERROR_MSG_VALIDATION', 'the session start does not match the request');
  if (!start.participants.every((p) => ctx.members.includes(p)))
    throw new OperationError('ERROR_INCOMPATIBLE_PEER_IDS', 'the new committee names a node outside the cluster');
  const oldPublic: AnyPublic =
    req.keyType === 'secp256k1'
      ? ecdsa.deserializeKeyPublic(start.oldPublic)
      : frost.deserializeKeyPublic(start.oldPublic);
  if (oldPublic.version !== start.version || !start.dealers.every((d) => oldPublic.participants.includes(d)))
    throw new OperationError('ERROR_MSG_VALIDATION', 'the dealers or version do not match the old key package');
  if (start.dealers.length < oldPublic.threshold + 1)
    throw new OperationError('ERROR_INSUFFICIENT_PARTICIPANTS', 'a reshare needs t+1 dealers');
  const vkt = vaultKeyType(req.keyType);
  let holdsOld = false;
  let known: ReturnType<NodeContext['vault']['getWallet']> | undefined;
  try {
    known = ctx.vault.getWallet(vkt, req.walletId);
  } catch {
    known = undefined;
  }
  if (known) {
    // never take the coordinator's word for the key: a made-up package would make this node destroy its share
    if (!constantTimeEqual(known.publicKey, oldPublic.groupPublicKey))
      throw new OperationError('ERROR_MSG_VALIDATION', 'the old key package is not this wallet’s key');
    const current = known.currentVersion ?? 0;
    if (ctx.vault.listVersions(vkt, req.walletId).some((v) => v.status === 'pending' && v.version > current)) {
      ctx.reconcileLater(vkt, req.walletId);
      throw new OperationError(
        'ERROR_SESSION_STALE',
        'an earlier reshare of this wallet is not settled here yet; retry later',
      );
    }
    if (known.currentVersion !== null) {
      if (known.currentVersion !== start.version)
        throw new OperationError(
          'ERROR_SESSION_STALE',
          `key version mismatch: ${start.version} vs ${known.currentVersion}`,
        );
      const lease = ctx.shares.acquire(vkt, req.walletId, known.currentVersion);
      try {
        const own =
          lease.share instanceof ecdsa.KeyShare
            ? ecdsa.serializeKeyPublic(lease.share.public)
            : frost.serializeKeyPublic(lease.share.public);
        if (!constantTimeEqual(own, start.oldPublic))
          throw new OperationError('ERROR_MSG_VALIDATION', 'the old key package differs from this node’s');
      } finally {
        lease.release();
      }
      holdsOld = true;
    }
  }
  if (start.dealers.includes(ctx.self) && !holdsOld)
    throw new OperationError('ERROR_KEY_NOT_FOUND', 'this node is named as a dealer but holds no active share');
  // a reshare request runs once: a replayed one (core NATS carries it in the clear) must never run again
  if (ctx.vault.bindSignRequest(req.walletId, reshareKey(req.sessionId), requestDigest(start.request)) !== 'bound')
    throw new OperationError(
      'ERROR_SESSION_DUPLICATE',
      `Duplicate session: reshare session ${req.sessionId} was used before`,
    );
  return { req, oldPublic, holdsOld };
}

/**
 * Runs this node's part: deal and/or receive, store pending, confirm, wait for every new
 * member's confirmation, then activate (new member) or retire (old member leaving). Returns the
 * group public key. Throws `OperationError` / `RequestError`.
 */
async function runReshare(
  ctx: NodeContext,
  coordinator: string,
  sid: string,
  start: SessionStart,
  inbox: ControlInbox,
): Promise<Uint8Array> {
  const deadline = Date.now() + ctx.config.tessera.timeouts.reshare_seconds * 1000;
  const partyMembers = [...new Set([...start.dealers, ...start.participants])];
  const peers = partyMembers.filter((p) => p !== ctx.self);
  let checked: CheckedReshare;
  try {
    checked = checkReshareStart(ctx, start);
  } catch (e) {
    const oe = asOperationError(e, 'ERROR_RESHARE_FAILURE');
    if (partyMembers.includes(ctx.self))
      sendControl(ctx, partyId(sid), { type: 'abort', reason: oe.reason, blame: [] }, peers);
    throw oe;
  }
  const vkt = vaultKeyType(start.keyType);
  const isDealer = start.dealers.includes(ctx.self);
  const isNew = start.participants.includes(ctx.self);
  const newVersion = start.version + 1;
  let groupKey: Uint8Array = Uint8Array.from(checked.oldPublic.groupPublicKey);
  if (isDealer || isNew) {
    const lease = isDealer ? ctx.shares.acquire(vkt, start.walletId, start.version) : undefined;
    try {
      const common = {
        sessionId: partyId(sid),
        self: ctx.self,
        dealers: start.dealers,
        newParticipants: start.participants,
        newThreshold: start.threshold,
      };
      const party: ProtocolParty<ecdsa.ReshareResult | frost.ReshareResult> =
        start.keyType === 'secp256k1'
          ? new ecdsa.ReshareParty({
              ...common,
              oldPublic: checked.oldPublic as ecdsa.KeyPublic,
              keyShare: lease?.share as ecdsa.KeyShare | undefined,
              setupLog: { claim: (c) => ctx.vault.claimSetupContext(c) },
            })
          : new frost.ReshareParty({
              ...common,
              oldPublic: checked.oldPublic as frost.KeyPublic,
              keyShare: lease?.share as frost.KeyShare | undefined,
            });
      const runner = new PartyRunner({
        party,
        sender: ctx.sender,
        router: ctx.router,
        timeoutMs: ctx.config.tessera.timeouts.reshare_seconds * 1000,
        log: ctx.log,
      });
      runner.start();
      let result: ecdsa.ReshareResult | frost.ReshareResult;
      try {
        result = await runner.result;
      } catch (e) {
        throw new OperationError('ERROR_RESHARE_FAILURE', `Resharing failed: ${(e as Error).message}`);
      }
      groupKey = Uint8Array.from(result.public.groupPublicKey);
      if (isNew) {
        const share = result.share;
        if (!share) throw new OperationError('ERROR_RESHARE_FAILURE', 'Resharing failed: no share for a new member');
        const bytes = share.serialize();
        try {
          ctx.vault.putShare({
            keyType: vkt,
            walletId: start.walletId,
            version: newVersion,
            threshold: start.threshold,
            participants: [...start.participants],
            publicKey: groupKey,
            share: bytes,
          });
        } catch (e) {
          throw new OperationError(
            'ERROR_KEY_SAVE',
            `Resharing failed: storing the new share failed: ${(e as Error).message}`,
          );
        } finally {
          bytes.fill(0);
          share.dispose();
        }
        const keys: StoredKey[] = [{ keyType: start.keyType, version: newVersion, publicKey: groupKey }];
        sendControl(ctx, sid, { type: 'stored', keys }, start.members);
        inbox.local({ type: 'stored', keys });
      }
    } finally {
      lease?.release();
    }
  }
  if (!isNew && !checked.holdsOld && ctx.self !== coordinator) return groupKey;
  const keys: StoredKey[] = [{ keyType: start.keyType, version: newVersion, publicKey: groupKey }];
  try {
    await awaitConfirmations(ctx, inbox, start.participants, keys, deadline, sid, 'reshare');
  } catch (e) {
    ctx.reconcileLater(vkt, start.walletId);
    throw e;
  }
  if (isNew) {
    activateVersion(ctx, vkt, start.walletId, newVersion);
    ctx.shares.retire(vkt, start.walletId, start.version);
  } else if (checked.holdsOld) {
    ctx.vault.retireActive(vkt, start.walletId);
    ctx.shares.retire(vkt, start.walletId, start.version);
  }
  ctx.log.info({ session: sid, wallet: start.walletId, version: newVersion }, 'reshare complete');
  return groupKey;
}
