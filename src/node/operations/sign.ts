/**
 * Signing: the coordinator (the node that took the request) picks exactly t+1 ready members of the
 * wallet's committee, spreading load and avoiding pairs it knows are burnt, and announces a signed
 * session start that fixes every input; each signer checks the client's signature and authorizers
 * itself, runs its party over the channels with the vault's signing log (ECDSA: checkpointed,
 * under the per-pair cap) and reports its outcome; the coordinator checks the signature with an
 * independent verifier and answers. A failed attempt is retried once, preferring another set. Every
 * ready member of the committee hears the start and the result, so a tx id is claimed everywhere.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  isErrorCode,
  parseSigningResult,
  parseSignTxRequest,
  type SignatureOutcome,
  type SignTxRequest,
  signingResult,
  signTxSignedBytes,
} from '../../api/index.js';
import { ByteReader, ByteWriter } from '../../common/bytes.js';
import { checkpointed, ecdsa, frost, type ProtocolParty } from '../../tss/index.js';
import { ed25519PublicKey } from '../crypto/ed25519.js';
import type { Control, SessionStart } from '../sessions/control.js';
import type { ShareLease } from '../sessions/live-shares.js';
import { PartyRunner } from '../sessions/party-runner.js';
import { ControlInbox, type NodeContext, newSessionId, OperationError, sendControl, vaultKeyType } from './context.js';
import { lookupWallet } from './directory.js';
import { signRequestDigest } from './request-ledger.js';
import { scheduleResetup } from './resetup.js';

/** The party session id of a signing session. */
const partyId = (sid: string) => `${sid}/sign`;

interface SignerOutcome {
  readonly outcome: SignatureOutcome;
  readonly publicKey: Uint8Array;
}

function encodeOutcome(o: SignatureOutcome, publicKey: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  if (o.keyType === 'secp256k1') w.u8(1).raw(o.r).raw(o.s).u8(o.recoveryId);
  else w.u8(2).raw(o.signature);
  return w.bytes(publicKey).finish();
}

function decodeOutcome(b: Uint8Array): SignerOutcome {
  const r = new ByteReader(b);
  const kind = r.u8();
  let outcome: SignatureOutcome;
  if (kind === 1) outcome = { keyType: 'secp256k1', r: r.raw(32), s: r.raw(32), recoveryId: r.u8() };
  else if (kind === 2) outcome = { keyType: 'ed25519', signature: r.raw(64) };
  else throw new OperationError('ERROR_MESSAGE_FORMAT', 'a signer sent a malformed outcome');
  const publicKey = r.bytes(64);
  r.end();
  return { outcome, publicKey };
}

/** The key a signature must verify under: the wallet key, or its child on the requested path. */
function expectedPublicKey(ctx: NodeContext, req: SignTxRequest, master: Uint8Array): Uint8Array {
  const path = req.derivationPath ?? [];
  if (path.length === 0) return master;
  return req.keyType === 'secp256k1'
    ? ecdsa.deriveChildPublicKey(master, ctx.chainCode, path)
    : frost.deriveChildPublicKey(master, ctx.chainCode, path);
}

/**
 * True if the outcome is a valid signature of the request under `publicKey`, checked by a verifier
 * independent of the signing code: noble for secp256k1 (node:crypto cannot verify a raw digest),
 * OpenSSL (node:crypto: RFC 8032, s < L; stricter than noble's ZIP-215 default) for Ed25519, in a
 * tenth of noble's time (docs/benchmarks.md, "Node"). Does not throw.
 */
export function verifyOutcome(req: SignTxRequest, o: SignatureOutcome, publicKey: Uint8Array): boolean {
  try {
    if (o.keyType === 'secp256k1' && req.keyType === 'secp256k1') {
      if (o.recoveryId > 1 || o.r.length !== 32 || o.s.length !== 32) return false;
      const sig = new Uint8Array(65);
      sig[0] = o.recoveryId;
      sig.set(o.r, 1);
      sig.set(o.s, 33);
      // One joint multiplication R = u1·G + u2·P: low S, R.x mod n = r, and the recovery id must be
      // R's (x = r, no overflow; its parity), which makes it recover exactly this key — a wrong v
      // would make the chain recover another sender (review 7, finding 12). Half the cost of a
      // verification followed by a recovery, and the same answer.
      return secp256k1.verify(sig, req.tx, publicKey, { prehash: false, lowS: true, format: 'recovered' });
    }
    if (o.keyType === 'ed25519' && req.keyType === 'ed25519')
      return o.signature.length === 64 && cryptoVerify(null, req.tx, ed25519PublicKey(publicKey), o.signature);
  } catch {
    return false;
  }
  return false;
}

/**
 * Picks t+1 signers among `candidates`: those the retry should avoid last (`avoid`: a higher rank
 * is taken later), then least loaded first (ties at random), skipping a candidate whose pair with
 * an already chosen one this node knows is burnt. Returns undefined if no such set. Exported for
 * tests. Does not throw.
 */
export function pickSigners(
  ctx: Pick<NodeContext, 'self' | 'load'>,
  candidates: readonly string[],
  count: number,
  burnt: ReadonlySet<string>,
  avoid: ReadonlyMap<string, number>,
): string[] | undefined {
  const order = [...candidates]
    .map((c) => ({ c, avoid: avoid.get(c) ?? 0, load: ctx.load.get(c) ?? 0, tie: Math.random() }))
    .sort((a, b) => a.avoid - b.avoid || a.load - b.load || a.tie - b.tie)
    .map((x) => x.c);
  const chosen: string[] = [];
  for (const c of order) {
    if (chosen.length === count) break;
    if (
      burnt.size > 0 &&
      ((c === ctx.self && chosen.some((x) => burnt.has(x))) || (burnt.has(c) && chosen.includes(ctx.self)))
    )
      continue;
    chosen.push(c);
  }
  return chosen.length === count ? chosen.sort() : undefined;
}

/**
 * What the request handler publishes: a new result, a stored result replayed for an identical
 * request, nothing (the identical request is in flight: its own result will come), or an error
 * for a request that reused a tx id (published under its own message id, so that it never takes
 * the first request's place).
 */
export type SignOutcome =
  | { readonly kind: 'result'; readonly result: Uint8Array }
  | { readonly kind: 'replay'; readonly result: Uint8Array }
  | { readonly kind: 'in-flight' }
  | { readonly kind: 'conflict'; readonly result: Uint8Array };

/**
 * Coordinates one signing request that parsed and authenticated; returns the result event's
 * bytes (success or error). Never throws.
 */
export async function coordinateSign(
  ctx: NodeContext,
  req: SignTxRequest,
  raw: Uint8Array,
  clientId: string,
): Promise<SignOutcome> {
  const ids = { walletId: req.walletId, txId: req.txId, networkInternalCode: req.networkInternalCode };
  const fail = (e: OperationError) =>
    signingResult(ids, { code: e.errorCode, reason: e.reason, isTimeout: e.isTimeout });
  const wallet = await lookupWallet(ctx, req.keyType, req.walletId, false);
  if (wallet === undefined)
    return {
      kind: 'result',
      result: fail(new OperationError('ERROR_KEY_NOT_FOUND', `Key not found: ${req.keyType} wallet ${req.walletId}`)),
    };
  const version = wallet.version;
  const digest = signRequestDigest(req);
  const first = newSessionId();
  const gone = coordinatorGone(ctx);
  const claim = ctx.ledger.claim(req.walletId, req.txId, digest, first, undefined, gone);
  if (claim.kind === 'replay') return { kind: 'replay', result: claim.result };
  if (claim.kind === 'duplicate') {
    if (claim.inFlight) return { kind: 'in-flight' };
    return {
      kind: 'conflict',
      result: fail(new OperationError('ERROR_SESSION_DUPLICATE', `Duplicate session: ${claim.reason}`)),
    };
  }

  // a signer blamed by the failed attempt (its outcome did not verify) is never asked again for
  // this request; the other signers of an attempt that failed without blame are only avoided: the
  // retry takes them back rather than give up when the ready members without them are too few (in
  // a 2-of-3 cluster whose coordinator was not a signer, one dead co-signer would otherwise fail
  // the request although two nodes are up). A signer that reported the failure is avoided less
  // than one that stayed silent.
  const excluded = new Set<string>();
  const avoid = new Map<string, number>();
  /** The last attempt ended because a signer holds the request in flight for another session. */
  let inFlightElsewhere = false;
  let lastError = new OperationError('ERROR_SIGNING_FAILURE', 'Signing failed');
  let sid = first;
  for (let attempt = 1; attempt <= 2; attempt++) {
    if (attempt > 1) {
      // the ledger claim moves to the retry's session id
      ctx.ledger.release(req.walletId, req.txId, sid);
      sid = newSessionId();
      const again = ctx.ledger.claim(req.walletId, req.txId, digest, sid, undefined, gone);
      // meanwhile another coordinator's session of the request signed it here, or holds it
      if (again.kind === 'replay') return { kind: 'replay', result: again.result };
      if (again.kind === 'duplicate' && again.inFlight) inFlightElsewhere = true;
      if (again.kind !== 'claimed') break;
    }
    const ready = wallet.participants.filter((p) => ctx.readiness.isReady(p));
    const need = wallet.threshold + 1;
    if (ready.length < need) {
      lastError = new OperationError(
        'ERROR_NOT_MAJORITY',
        `not enough peers to process signing request: ready=${ready.length}, required=${need}`,
      );
      break;
    }
    const burnt = ownBurntPeers(ctx, req.keyType, req.walletId, version);
    if (burnt.size > 0) scheduleResetup(ctx, req.walletId, version, [...burnt]);
    const candidates = ready.filter((p) => !excluded.has(p));
    const signers = pickSigners(ctx, candidates, need, burnt, avoid);
    if (!signers) {
      lastError = new OperationError(
        'ERROR_INSUFFICIENT_PARTICIPANTS',
        `not enough peers to create signing session! expected ${need}, got ${candidates.length}`,
      );
      break;
    }
    const start: SessionStart = {
      op: 'sign',
      request: raw,
      clientId,
      keyType: req.keyType,
      walletId: req.walletId,
      version,
      threshold: wallet.threshold,
      participants: signers,
      dealers: [],
      oldPublic: new Uint8Array(0),
      members: ready,
    };
    for (const s of signers) ctx.load.set(s, (ctx.load.get(s) ?? 0) + 1);
    ctx.log.debug({ session: sid, attempt, signers, members: ready }, 'signing attempt started');
    try {
      const r = await runAttempt(ctx, sid, start, req, wallet.publicKey);
      if ('outcome' in r) {
        const result = signingResult(ids, r.outcome);
        ctx.ledger.complete(req.walletId, req.txId, sid, result);
        sendControl(ctx, sid, { type: 'result', requestDigest: digest, result }, ready);
        return { kind: 'result', result };
      }
      lastError = r.error;
      // end the attempt everywhere: members drop their claims, signers (this node's too) their parties
      sendControl(ctx, sid, { type: 'abort', reason: r.error.reason, blame: r.suspects }, ready);
      sendControl(ctx, partyId(sid), { type: 'abort', reason: r.error.reason, blame: [] }, signers);
      ctx.router.fail(partyId(sid), `the coordinator ended the attempt: ${r.error.reason}`, []);
      // a signer that holds this very request in flight for another coordinator (JetStream
      // delivered it twice: an ack or a consumer's state lost in a NATS outage), or that is
      // leaving, is not asked again; its co-signers did nothing wrong
      inFlightElsewhere = r.inFlightElsewhere === true;
      if ((r.inFlightElsewhere || r.leaving) && r.reporter !== undefined) excluded.add(r.reporter);
      else {
        for (const p of r.suspects) excluded.add(p);
        if (r.suspects.length === 0)
          for (const p of signers) if (p !== ctx.self) avoid.set(p, p === r.reporter ? 1 : 2);
      }
    } finally {
      for (const s of signers) ctx.load.set(s, Math.max(0, (ctx.load.get(s) ?? 1) - 1));
    }
    ctx.log.warn({ session: sid, attempt, reason: lastError.reason }, 'signing attempt failed');
  }
  ctx.ledger.release(req.walletId, req.txId, sid);
  // the request is being signed in another session: as with this node's own in-flight claim,
  // publish nothing — that session answers, or a later delivery signs
  if (inFlightElsewhere) {
    ctx.log.info({ session: sid }, 'the request is in flight at another coordinator; asking again later');
    return { kind: 'in-flight' };
  }
  return { kind: 'result', result: fail(lastError) };
}

/** True for another node that is not ready: a claim held for its session may be taken over. Does not throw. */
function coordinatorGone(ctx: NodeContext): (node: string) => boolean {
  return (node) => node !== ctx.self && !ctx.readiness.isReady(node);
}

function ownBurntPeers(ctx: NodeContext, keyType: string, walletId: string, version: number): Set<string> {
  if (keyType !== 'secp256k1') return new Set();
  try {
    const lease = ctx.shares.acquire('ecdsa', walletId, version);
    try {
      return new Set((lease.share as ecdsa.KeyShare).burntPeers());
    } finally {
      lease.release();
    }
  } catch {
    return new Set();
  }
}

type AttemptResult =
  | { readonly outcome: SignatureOutcome }
  | {
      readonly error: OperationError;
      /** Signers the attempt blames (their outcome did not verify). */
      readonly suspects: readonly string[];
      /** The signer whose failure report ended the attempt, if one did. */
      readonly reporter?: string;
      /** The reporter holds the identical request in flight for another session. */
      readonly inFlightElsewhere?: boolean;
      /** The reporter is leaving the cluster. */
      readonly leaving?: boolean;
    };

/** One signing session: announce, join locally if a signer, wait for a verified outcome. Never throws. */
async function runAttempt(
  ctx: NodeContext,
  sid: string,
  start: SessionStart,
  req: SignTxRequest,
  master: Uint8Array,
): Promise<AttemptResult> {
  const inbox = new ControlInbox(ctx, sid);
  const expected = expectedPublicKey(ctx, req, master);
  const deadline = Date.now() + ctx.config.tessera.timeouts.signing_seconds * 1000;
  try {
    sendControl(ctx, sid, { type: 'start', start }, start.members);
    if (start.members.includes(ctx.self))
      void joinSign(ctx, ctx.self, sid, start, { report: (c) => inbox.local(c), request: req });
    for (;;) {
      const { from, c } = await inbox.next(deadline);
      if (c.type !== 'done' || !start.participants.includes(from)) continue;
      // one signer's outcome decides the attempt: a verified signature, or a failure that ended the session for all
      if (!c.ok)
        return {
          error: new OperationError(codeOf(c.code), `Signing failed: ${from}: ${c.reason}`),
          suspects: [],
          reporter: from,
          inFlightElsewhere: c.code === IN_FLIGHT_ELSEWHERE,
          leaving: c.code === LEAVING,
        };
      let o: SignerOutcome | undefined;
      try {
        o = decodeOutcome(c.outcome);
      } catch {
        o = undefined;
      }
      if (o && verifyOutcome(req, o.outcome, expected)) return { outcome: o.outcome };
      ctx.log.warn({ session: sid, peer: from }, 'a signer reported a signature that does not verify');
      return {
        error: new OperationError(
          'ERROR_SIGNATURE_VERIFICATION',
          'Signing failed: a signer reported an invalid signature',
        ),
        suspects: [from],
      };
    }
  } catch {
    sendControl(
      ctx,
      partyId(sid),
      { type: 'abort', reason: 'the coordinator timed out', blame: [] },
      start.participants,
    );
    return {
      error: new OperationError(
        'ERROR_SESSION_TIMEOUT',
        `signing session timed out after ${ctx.config.tessera.timeouts.signing_seconds}s`,
        true,
      ),
      suspects: [],
    };
  } finally {
    inbox.close();
  }
}

const codeOf = (code: string) => (isErrorCode(code) ? code : 'ERROR_SIGNING_FAILURE');

/** What a signer reports when it is leaving the cluster (a graceful stop): the retry goes without it. */
const LEAVING = 'ERROR_PEER_NOT_READY';

/**
 * A node that is stopping answers the start of a signing session that names it as a signer with
 * {@link LEAVING}, so that the coordinator, which chose it just before it left, retries at once
 * without it instead of waiting for the session's timeout. Does not throw.
 */
export function refuseSignWhileLeaving(ctx: NodeContext, coordinator: string, sid: string, start: SessionStart): void {
  if (!start.participants.includes(ctx.self) || coordinator === ctx.self) return;
  sendControl(
    ctx,
    sid,
    { type: 'done', ok: false, code: LEAVING, reason: 'the node is stopping' },
    [coordinator],
    coordinator,
  );
}

/**
 * What a signer reports (in place of an mpcium code) when it holds the identical request in
 * flight for another session: not a failure of the request, which that session answers.
 */
const IN_FLIGHT_ELSEWHERE = 'TESSERA_IN_FLIGHT_ELSEWHERE';

/**
 * A member's side of a signing session (also the coordinator's own, with `local`: its outcome
 * delivered by `report`, and `request` the request the coordinator parsed and authenticated from
 * the very bytes of `start.request`, so it is not parsed and verified a second time): check, then
 * sign if listed, and report the outcome to the coordinator; an observer only holds the tx id
 * claim until the result. Never throws.
 */
export async function joinSign(
  ctx: NodeContext,
  coordinator: string,
  sid: string,
  start: SessionStart,
  local?: { readonly report: (c: Control) => void; readonly request: SignTxRequest },
): Promise<void> {
  const report = local?.report;
  const tell = (c: Control) => (report ? report(c) : sendControl(ctx, sid, c, [coordinator], coordinator));
  const refuse = (code: string, reason: string) => {
    tell({ type: 'done', ok: false, code, reason });
    sendControl(ctx, partyId(sid), { type: 'abort', reason, blame: [] }, start.participants);
  };
  const signer = start.participants.includes(ctx.self);
  let req: SignTxRequest;
  try {
    req = checkSignStart(ctx, start, local?.request);
  } catch (e) {
    const oe = e instanceof OperationError ? e : new OperationError('ERROR_MSG_VALIDATION', (e as Error).message);
    ctx.log.warn({ session: sid, coordinator, reason: oe.reason }, 'refused a signing session');
    if (signer) refuse(oe.errorCode, oe.reason);
    return;
  }
  const digest = signRequestDigest(req);
  // the coordinator holds its claim already; every other member claims the tx id here
  if (coordinator !== ctx.self) {
    const claim = ctx.ledger.claim(req.walletId, req.txId, digest, sid, coordinator, coordinatorGone(ctx));
    if (claim.kind === 'duplicate') {
      if (signer)
        refuse(
          claim.inFlight ? IN_FLIGHT_ELSEWHERE : 'ERROR_SESSION_DUPLICATE',
          claim.inFlight
            ? `the identical request is being signed in another session (walletID=${req.walletId} txID=${req.txId})`
            : `Duplicate session: duplicate signing request detected for walletID=${req.walletId} txID=${req.txId}`,
        );
      return;
    }
  }
  const inbox = coordinator !== ctx.self ? new ControlInbox(ctx, sid) : undefined;
  try {
    if (signer) {
      const outcome = await signAs(ctx, sid, start, req, coordinator);
      tell(outcome);
      if (outcome.type === 'done' && !outcome.ok) {
        // the co-signers stop now rather than at their timeout (a runner that aborted told them already)
        sendControl(ctx, partyId(sid), { type: 'abort', reason: outcome.reason, blame: [] }, start.participants);
        // nothing was signed: the coordinator's retry must find the tx id free
        if (coordinator !== ctx.self) ctx.ledger.release(req.walletId, req.txId, sid);
        return;
      }
    }
    if (inbox) await awaitResult(ctx, inbox, coordinator, req, sid);
  } finally {
    inbox?.close();
  }
}

/** Waits for the coordinator's result, then records it (or drops the claim). */
async function awaitResult(
  ctx: NodeContext,
  inbox: ControlInbox,
  coordinator: string,
  req: SignTxRequest,
  sid: string,
): Promise<void> {
  const deadline = Date.now() + 2 * ctx.config.tessera.timeouts.signing_seconds * 1000;
  try {
    for (;;) {
      // wake every 2 s: a coordinator that went down will send no result, and its claim must not linger
      if (!ctx.readiness.isReady(coordinator)) break;
      let next: Awaited<ReturnType<ControlInbox['next']>>;
      try {
        next = await inbox.next(Math.min(deadline, Date.now() + 2000));
      } catch (e) {
        if (Date.now() >= deadline) throw e;
        continue;
      }
      const { from, c } = next;
      if (from !== coordinator) continue;
      if (c.type === 'abort') break;
      if (c.type !== 'result') continue;
      // keep only a result that is this request's valid signature (a coordinator's word is not enough:
      // this node would replay it to identical retries)
      if (resultVerifies(ctx, req, c.result)) ctx.ledger.complete(req.walletId, req.txId, sid, c.result);
      else
        ctx.log.warn({ session: sid, peer: coordinator }, 'a coordinator sent a result that does not verify; not kept');
      break;
    }
  } catch {
    // no result in time: as if the session failed
  }
  ctx.ledger.release(req.walletId, req.txId, sid);
}

/** True if `result` is a success event whose signature verifies for `req` under this node's view of the key. Does not throw. */
function resultVerifies(ctx: NodeContext, req: SignTxRequest, result: Uint8Array): boolean {
  try {
    const e = parseSigningResult(result);
    if (e.resultType !== 'success' || e.walletId !== req.walletId || e.txId !== req.txId) return false;
    const master = ctx.vault.getWallet(vaultKeyType(req.keyType), req.walletId).publicKey;
    const outcome: SignatureOutcome =
      req.keyType === 'secp256k1'
        ? { keyType: 'secp256k1', r: e.r!, s: e.s!, recoveryId: e.signatureRecovery![0]! }
        : { keyType: 'ed25519', signature: e.signature! };
    if (
      outcome.keyType === 'secp256k1' &&
      (outcome.r.length !== 32 || outcome.s.length !== 32 || e.signatureRecovery!.length !== 1)
    )
      return false;
    return verifyOutcome(req, outcome, expectedPublicKey(ctx, req, Uint8Array.from(master)));
  } catch {
    return false;
  }
}

/**
 * Parses and authenticates the request of a signing start (unless this node did so already:
 * `authenticated`) and checks the start against it and this node's vault. Throws
 * `OperationError` or `RequestError`.
 */
function checkSignStart(ctx: NodeContext, start: SessionStart, authenticated?: SignTxRequest): SignTxRequest {
  const req = authenticated ?? parseSignTxRequest(start.request);
  if (authenticated === undefined)
    ctx.authenticate(signTxSignedBytes(req), req.signature, req.txId, req.authorizerSignatures);
  if (req.walletId !== start.walletId || req.keyType !== start.keyType)
    throw new OperationError('ERROR_MSG_VALIDATION', 'the session start does not match the request');
  const wallet = ctx.vault.getWallet(vaultKeyType(req.keyType), req.walletId);
  if (wallet.currentVersion !== start.version)
    throw new OperationError(
      'ERROR_SESSION_STALE',
      `key version mismatch: the session uses ${start.version}, this node holds ${wallet.currentVersion}`,
    );
  const signers = start.participants;
  if (
    new Set(signers).size !== signers.length ||
    signers.length !== wallet.threshold + 1 ||
    !signers.every((s) => wallet.participants.includes(s)) ||
    [...signers].sort().join('\u0000') !== signers.join('\u0000')
  )
    throw new OperationError(
      'ERROR_INCOMPATIBLE_PEER_IDS',
      'the signer set is not t+1 sorted members of the committee',
    );
  return req;
}

/** Runs this node's signing party; returns the `done` control for the coordinator. Never throws. */
async function signAs(
  ctx: NodeContext,
  sid: string,
  start: SessionStart,
  req: SignTxRequest,
  coordinator: string,
): Promise<Control> {
  const vkt = vaultKeyType(req.keyType);
  let lease: ShareLease;
  try {
    lease = ctx.shares.acquire(vkt, req.walletId, start.version);
  } catch (e) {
    return {
      type: 'done',
      ok: false,
      code: 'ERROR_KEY_LOAD',
      reason: `cannot load the key share: ${(e as Error).message}`,
    };
  }
  const peers = start.participants.filter((p) => p !== ctx.self);
  let exit: (() => void) | undefined;
  try {
    const timeoutMs = ctx.config.tessera.timeouts.signing_seconds * 1000;
    if (vkt === 'ecdsa') exit = await ctx.shares.admit(lease, peers, timeoutMs);
    const derivation =
      req.derivationPath && req.derivationPath.length > 0
        ? { chainCode: ctx.chainCode, path: req.derivationPath }
        : undefined;
    // durable before any message of the party leaves (group commit: node outbound gate)
    const signingLog = {
      claim: (c: Uint8Array) =>
        ctx.deferred((durability) =>
          ctx.vault.claimSigningContext(vkt, req.walletId, start.version, c, { durability }),
        ),
    };
    let party: ProtocolParty<frost.SignResult | ecdsa.SignResult>;
    if (lease.share instanceof ecdsa.KeyShare) {
      party = checkpointed(
        new ecdsa.SignParty({
          sessionId: partyId(sid),
          self: ctx.self,
          signers: start.participants,
          keyShare: lease.share,
          digest: req.tx,
          derivation,
          signingLog,
        }),
        lease.checkpoint,
      );
    } else {
      party = new frost.SignParty({
        sessionId: partyId(sid),
        self: ctx.self,
        signers: start.participants,
        keyShare: lease.share,
        message: req.tx,
        derivation,
        signingLog,
      });
    }
    const runner = new PartyRunner({
      party,
      sender: ctx.sender,
      router: ctx.router,
      timeoutMs,
      coordinator,
      log: ctx.log,
    });
    runner.start();
    const r = await runner.result;
    const outcome: SignatureOutcome =
      'recoveryId' in r
        ? { keyType: 'secp256k1', r: r.r, s: r.s, recoveryId: r.recoveryId }
        : { keyType: 'ed25519', signature: r.signature };
    return { type: 'done', ok: true, outcome: encodeOutcome(outcome, r.publicKey) };
  } catch (e) {
    return { type: 'done', ok: false, code: 'ERROR_SIGNING_FAILURE', reason: (e as Error).message };
  } finally {
    exit?.();
    if (vkt === 'ecdsa') {
      ctx.shares.settle(lease);
      const burnt = (lease.share as ecdsa.KeyShare).isDisposed ? [] : (lease.share as ecdsa.KeyShare).burntPeers();
      if (burnt.length > 0) scheduleResetup(ctx, req.walletId, start.version, burnt);
    }
    lease.release();
  }
}
