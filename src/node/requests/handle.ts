/**
 * Client requests → sessions → results, as mpcium's nodes do it (reference §1.2, §7): keygen and
 * signing requests come from the shared durable consumers of the work queue (each request to one
 * node, which coordinates it), reshare requests from the bus subject `mpc:reshare` (one node of
 * a queue group). Every request is parsed and authenticated first; a failure there gets an error
 * result under a message id derived from the request bytes (docs/node.md) — unlike mpcium, a sign
 * request with a bad signature gets `ERROR_INVALID_INITIATOR_SIGNATURE` instead of silence. The
 * message is acked once its result is published; a failed publish leaves it to be redelivered.
 * A request with an `Mpc-Reply-To` header gets each result published for it on that subject too
 * (`reply-to.ts`).
 */
import { createHash } from 'node:crypto';
import {
  CLIENT_ID_HEADER,
  type ErrorCode,
  generateKeySignedBytes,
  initiatorId,
  KEYGEN_CONSUMER,
  KEYGEN_REQUEST_SUBJECTS,
  KEYGEN_STREAM,
  keygenResult,
  type Operation,
  parseGenerateKeyRequest,
  parseResharingRequest,
  parseSignTxRequest,
  RESHARE_REQUEST_SUBJECT,
  RESULT_STREAM,
  RESULT_SUBJECTS,
  RequestError,
  reshareResult,
  resharingSignedBytes,
  resultMessageId,
  resultSubject,
  SIGNING_CONSUMER,
  SIGNING_REQUEST_SUBJECTS,
  SIGNING_STREAM,
  signingResult,
  signTxSignedBytes,
  unauthenticatedResultMessageId,
  validateSubjectToken,
} from '../../api/index.js';
import type { Bus, BusMessage, DroppedMessage, WorkMessage, WorkQueue } from '../../transport/index.js';
import { type NodeMetrics, noMetrics, timedSession } from '../metrics.js';
import type { NodeContext } from '../operations/context.js';
import { coordinateKeygen } from '../operations/keygen.js';
import { coordinateReshare } from '../operations/reshare.js';
import { coordinateSign } from '../operations/sign.js';
import { NODE_INBOX_PREFIX, replySubjectOf, sendReply } from './reply-to.js';
import { Semaphore } from './semaphore.js';
import { UnauthenticatedTally } from './unauthenticated-tally.js';

const ACK_WAIT_MS = 30_000;
/** Reshare requests waiting for this node's one reshare slot, beyond which they are refused. */
const MAX_WAITING_RESHARES = 64;
/** Reshare messages handled at once (the slot, its waiting line, and room for those being parsed). */
const MAX_RESHARES_IN_HANDLING = MAX_WAITING_RESHARES + 16;
const MAX_DELIVER = 4;

/** A claimed field of a request that failed to parse, if it is a usable subject token. Does not throw. */
function claimedToken(data: Uint8Array, field: string): string | undefined {
  try {
    const v = (JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>)[field];
    return typeof v === 'string' ? validateSubjectToken(field, v) : undefined;
  } catch {
    return undefined;
  }
}

function claimedString(data: Uint8Array, field: string): string {
  try {
    const v = (JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>)[field];
    return typeof v === 'string' ? v.slice(0, 256) : '';
  } catch {
    return '';
  }
}

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * The largest request a node takes: its bytes travel inside the signed session start to every
 * member (sessions/control.ts), which must fit one channel frame.
 */
export const MAX_REQUEST_BYTES = 256 * 1024;

/**
 * The message id of an error result: apart from the operation's own id, which only its success
 * takes — an error (a failed attempt, a replayed request that members refused) must never occupy
 * the id in JetStream's deduplication window and make the success that follows be dropped. Per
 * request bytes (and stream sequence), so redeliveries of one request still deduplicate. Does not throw.
 */
function errorMessageId(base: string, request: Uint8Array, seq?: number): string {
  return `${base}:error:${sha256hex(request)}${seq === undefined ? '' : `:${seq}`}`;
}

/** Refuses a request too large to carry in a session start. Throws `RequestError`. */
function checkSize(data: Uint8Array): void {
  if (data.length > MAX_REQUEST_BYTES)
    throw new RequestError(
      'ERROR_MSG_VALIDATION',
      `validation of the request failed: ${data.length} bytes is over the limit of ${MAX_REQUEST_BYTES}`,
    );
}

export class RequestHandler {
  private readonly stops: { stop(): void }[] = [];
  private sub: { unsubscribe(): void } | undefined;
  private readonly keygenSlots: Semaphore;
  private readonly signingSlots: Semaphore;
  private readonly reshareSlots = new Semaphore(1);
  /** Reshare messages being handled (parsed, waiting for the slot, running). */
  private reshareHandling = 0;
  /** Requests refused before authentication: counted, logged at a bounded rate, audited per minute. */
  private readonly unauthenticated: UnauthenticatedTally;
  /** Requests in progress (for a graceful stop). */
  private readonly inProgress = new Set<Promise<void>>();
  private readonly reservedReplyPrefixes: readonly string[];

  /**
   * `ownSubjects`: prefixes of the node's own subjects on the bus (its channels' prefix), never a
   * reply subject; the node's NATS inbox prefix is added.
   */
  constructor(
    private readonly ctx: NodeContext,
    private readonly workQueue: WorkQueue,
    private readonly bus: Bus,
    private readonly metrics: NodeMetrics = noMetrics,
    ownSubjects: readonly string[] = [],
  ) {
    this.reservedReplyPrefixes = [...ownSubjects, NODE_INBOX_PREFIX];
    this.unauthenticated = new UnauthenticatedTally((e) => ctx.audit(e), ctx.log);
    this.keygenSlots = new Semaphore(ctx.config.max_concurrent_keygen);
    this.signingSlots = new Semaphore(ctx.config.max_concurrent_signing);
  }

  /** Creates the streams if needed and starts consuming. Throws what the transports throw. */
  async start(): Promise<void> {
    const c = this.ctx.config;
    await this.workQueue.ensureStream({ name: KEYGEN_STREAM, subjects: [...KEYGEN_REQUEST_SUBJECTS] });
    await this.workQueue.ensureStream({ name: SIGNING_STREAM, subjects: [...SIGNING_REQUEST_SUBJECTS] });
    await this.workQueue.ensureStream({ name: RESULT_STREAM, subjects: [...RESULT_SUBJECTS] });
    this.stops.push(
      this.workQueue.consume(
        {
          stream: KEYGEN_STREAM,
          durable: KEYGEN_CONSUMER,
          filter: KEYGEN_REQUEST_SUBJECTS[0],
          maxDeliver: MAX_DELIVER,
          ackWaitMs: ACK_WAIT_MS,
          maxAckPending: c.max_concurrent_keygen,
        },
        (m) => this.track(this.keygen(m)),
      ),
      this.workQueue.consume(
        {
          stream: SIGNING_STREAM,
          durable: SIGNING_CONSUMER,
          filter: SIGNING_REQUEST_SUBJECTS[0],
          maxDeliver: MAX_DELIVER,
          ackWaitMs: ACK_WAIT_MS,
          maxAckPending: c.max_concurrent_signing,
        },
        (m) => this.track(this.signing(m)),
        { onMaxDeliveries: (m) => void this.track(this.maxDeliveries(m)) },
      ),
    );
    // handled concurrently (the bus delivers the next message at once): the reshare slot and its
    // bounded waiting line apply to authenticated requests; what is held unparsed is bounded here
    this.sub = this.bus.subscribe(RESHARE_REQUEST_SUBJECT, (m) => this.admitReshare(m), {
      queue: 'tessera-reshare',
    });
  }

  /**
   * Takes a reshare message unless {@link MAX_RESHARES_IN_HANDLING} are already being handled
   * (parsed, waiting for the reshare slot or running): core NATS has no back-pressure, and a flood
   * must not queue without bound; the excess is dropped with a (rate-limited) log line. Does not throw.
   */
  private admitReshare(m: BusMessage): void {
    if (this.reshareHandling >= MAX_RESHARES_IN_HANDLING) {
      this.unauthenticated.warn(
        `${this.reshareHandling} reshare requests are being handled`,
        'a reshare request was dropped: too many in handling on this node (a flood on mpc:reshare?)',
      );
      return;
    }
    this.reshareHandling++;
    void this.track(this.reshare(m)).finally(() => {
      this.reshareHandling--;
    });
  }

  /** Stops taking requests (those not yet handed over stay in the stream for the other nodes). Does not throw. */
  stopTaking(): void {
    for (const s of this.stops) s.stop();
    this.sub?.unsubscribe();
  }

  /** Requests in progress. */
  get inProgressCount(): number {
    return this.inProgress.size;
  }

  /** Settles once every request in progress has finished. Does not throw. */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.inProgress]);
  }

  /** After the drain: audits the last refusals counted and stops the tally's timer. Does not throw. */
  finish(): void {
    this.unauthenticated.close();
  }

  /** Stops taking requests and waits (bounded) for those in progress. Does not throw. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopTaking();
    await Promise.race([this.drained(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    this.finish();
  }

  /**
   * Tracks a request in progress. A handler that throws is logged (its caller naks or drops the
   * message); the promise kept here never rejects unhandled, which would end the process.
   */
  private track(p: Promise<void>): Promise<void> {
    this.inProgress.add(p);
    p.then(
      () => this.inProgress.delete(p),
      (e: unknown) => {
        this.inProgress.delete(p);
        this.ctx.log.error(
          { err: e instanceof Error ? e.message : String(e) },
          'handling a request failed unexpectedly (a JetStream request is redelivered, a reshare request dropped)',
        );
      },
    );
    return p;
  }

  private clientIdOf(headers: ReadonlyMap<string, string>): string {
    const cid = headers.get(CLIENT_ID_HEADER) ?? '';
    if (cid === '') return '';
    try {
      return validateSubjectToken('client id', cid);
    } catch {
      return '';
    }
  }

  /** The request's valid `Mpc-Reply-To` subject, if any (an invalid one is logged). Does not throw. */
  private replyToOf(headers: ReadonlyMap<string, string>, op: Operation): string | undefined {
    return replySubjectOf(
      headers,
      this.reservedReplyPrefixes,
      this.ctx.log,
      op,
      this.ctx.config.tessera.reply_subject_prefixes,
    );
  }

  /**
   * Publishes a result to the result stream; once stored (or a duplicate of one stored), also to
   * `replyTo` when the request asked for it. True if stored. Does not throw.
   */
  private async publish(
    op: Operation,
    subject: string,
    data: Uint8Array,
    msgId: string,
    replyTo: string | undefined,
  ): Promise<boolean> {
    try {
      const r = await this.workQueue.publish(subject, data, { msgId });
      const error = resultErrorCode(data);
      this.metrics.resultPublished(op, error);
      this.ctx.log.debug({ op, subject, msgId, duplicate: r.duplicate, error }, 'result published');
      if (replyTo !== undefined) sendReply(this.bus, this.ctx.log, op, replyTo, data, msgId);
      return true;
    } catch (e) {
      this.ctx.log.error(
        { op, subject, err: (e as Error).message },
        'publishing a result failed; the request will be redelivered',
      );
      return false;
    }
  }

  /** Keeps a long request from being redelivered while it runs. */
  private keepAlive(m: WorkMessage): () => void {
    const t = setInterval(() => m.working(), ACK_WAIT_MS / 3);
    t.unref();
    return () => clearInterval(t);
  }

  private async keygen(m: WorkMessage): Promise<void> {
    this.metrics.requestReceived('keygen');
    const clientId = this.clientIdOf(m.headers);
    const replyTo = this.replyToOf(m.headers, 'keygen');
    const stop = this.keepAlive(m);
    try {
      let req: ReturnType<typeof parseGenerateKeyRequest>;
      try {
        checkSize(m.data);
        req = parseGenerateKeyRequest(m.data);
        this.ctx.authenticate(generateKeySignedBytes(req), req.signature, req.walletId, req.authorizerSignatures);
      } catch (e) {
        const re = asRequestError(e);
        const wallet = claimedToken(m.data, 'wallet_id');
        this.unauthenticated.refused('keygen', re.errorCode);
        if (wallet === undefined) {
          this.unauthenticated.warn(re.reason, 'a keygen request without a usable wallet_id was dropped');
          m.ack();
          return;
        }
        const data = keygenResult(wallet, { code: re.errorCode, reason: re.reason });
        const ok = await this.publish(
          'keygen',
          resultSubject('keygen', wallet, clientId),
          data,
          unauthenticatedResultMessageId('keygen', sha256hex(m.data), clientId),
          replyTo,
        );
        if (ok) m.ack();
        else m.nak(1000);
        return;
      }
      const { result, refused } = await this.keygenSlots.run(() =>
        timedSession(this.metrics, 'keygen', 'coordinator', () => coordinateKeygen(this.ctx, req, m.data, clientId)),
      );
      const failed = resultErrorCode(result);
      this.ctx.audit({
        actor: clientId || 'client',
        action: 'keygen',
        walletId: req.walletId,
        outcome: failed ? 'error' : 'ok',
        errorCode: failed,
      });
      // a refusal (the wallet exists) must not take the message id of the wallet's own keygen result
      const base = resultMessageId('keygen', req.walletId, clientId);
      const msgId = refused
        ? `${base}:refused:${sha256hex(m.data)}:${m.seq}`
        : failed
          ? errorMessageId(base, m.data, m.seq)
          : base;
      const ok = await this.publish('keygen', resultSubject('keygen', req.walletId, clientId), result, msgId, replyTo);
      if (ok) m.ack();
      else m.nak(1000);
    } finally {
      stop();
    }
  }

  private async signing(m: WorkMessage): Promise<void> {
    this.metrics.requestReceived('signing');
    const clientId = this.clientIdOf(m.headers);
    const replyTo = this.replyToOf(m.headers, 'signing');
    const stop = this.keepAlive(m);
    try {
      let req: ReturnType<typeof parseSignTxRequest>;
      try {
        checkSize(m.data);
        req = parseSignTxRequest(m.data);
        this.ctx.authenticate(signTxSignedBytes(req), req.signature, initiatorId(req), req.authorizerSignatures);
      } catch (e) {
        const re = asRequestError(e);
        const ids = {
          walletId: claimedString(m.data, 'wallet_id'),
          txId: claimedString(m.data, 'tx_id'),
          networkInternalCode: claimedString(m.data, 'network_internal_code'),
        };
        this.unauthenticated.refused('sign', re.errorCode);
        const data = signingResult(ids, { code: re.errorCode, reason: re.reason });
        const ok = await this.publish(
          'signing',
          resultSubject('signing', '', clientId),
          data,
          unauthenticatedResultMessageId('signing', sha256hex(m.data), clientId),
          replyTo,
        );
        if (ok) m.ack();
        else m.nak(1000);
        return;
      }
      const out = await this.signingSlots.run(() =>
        timedSession(this.metrics, 'sign', 'coordinator', () => coordinateSign(this.ctx, req, m.data, clientId)),
      );
      if (out.kind === 'in-flight') {
        // A redelivery or a retry of the request being signed now. Ask again later rather than ack: if
        // that session's coordinator died, a later delivery finds the tx id free and signs.
        this.ctx.audit({ actor: clientId || 'client', action: 'sign', walletId: req.walletId, outcome: 'duplicate' });
        m.nak(this.ctx.config.tessera.timeouts.signing_seconds * 1000);
        return;
      }
      const failed = resultErrorCode(out.result);
      this.ctx.audit({
        actor: clientId || 'client',
        action: 'sign',
        walletId: req.walletId,
        outcome: out.kind === 'replay' ? 'replayed' : out.kind === 'conflict' ? 'duplicate' : failed ? 'error' : 'ok',
        errorCode: failed,
        details: { txId: req.txId.slice(0, 200), keyType: req.keyType },
      });
      // A replayed result gets its own message id (the first copy may have been consumed already);
      // a tx-id conflict too (it must never take the first request's place in the deduplication window).
      const base = resultMessageId('signing', req.txId, clientId);
      const msgId =
        out.kind === 'replay'
          ? `${base}:replay:${m.seq}`
          : out.kind === 'conflict'
            ? `${base}:conflict:${sha256hex(m.data)}`
            : failed
              ? errorMessageId(base, m.data, m.seq)
              : base;
      const ok = await this.publish(
        'signing',
        resultSubject('signing', req.txId, clientId),
        out.result,
        msgId,
        replyTo,
      );
      if (ok) m.ack();
      else m.nak(1000);
    } finally {
      stop();
    }
  }

  /**
   * mpcium's answer when a signing request was delivered too often (reference §1.2 step 5): to the
   * subject scoped by the stored request's `ClientID`, under the unauthenticated message id of its
   * bytes and client id (nothing here is authenticated), and to its `Mpc-Reply-To`. Does not throw.
   */
  private async maxDeliveries(m: DroppedMessage): Promise<void> {
    const data = m.data;
    const clientId = this.clientIdOf(m.headers);
    const replyTo = this.replyToOf(m.headers, 'signing');
    const ids = {
      walletId: claimedString(data, 'wallet_id'),
      txId: claimedString(data, 'tx_id'),
      networkInternalCode: claimedString(data, 'network_internal_code'),
    };
    const result = signingResult(ids, {
      code: 'ERROR_MAX_DELIVERY_ATTEMPTS',
      reason: 'Signing failed: maximum delivery attempts exceeded',
      isTimeout: true,
    });
    await this.publish(
      'signing',
      resultSubject('signing', '', clientId),
      result,
      unauthenticatedResultMessageId('signing', sha256hex(data), clientId),
      replyTo,
    );
  }

  private async reshare(m: BusMessage): Promise<void> {
    this.metrics.requestReceived('reshare');
    const clientId = this.clientIdOf(m.headers);
    const replyTo = this.replyToOf(m.headers, 'reshare');
    let req: ReturnType<typeof parseResharingRequest>;
    try {
      checkSize(m.data);
      req = parseResharingRequest(m.data);
      this.ctx.authenticate(
        resharingSignedBytes(req),
        req.signature ?? new Uint8Array(0),
        initiatorId(req),
        req.authorizerSignatures,
      );
    } catch (e) {
      const re = asRequestError(e);
      const sessionId = claimedToken(m.data, 'session_id');
      this.unauthenticated.refused('reshare', re.errorCode);
      if (sessionId === undefined) {
        // no result subject without a session id (mpcium publishes none either)
        this.unauthenticated.warn(re.reason, 'a reshare request without a usable session_id was dropped');
        return;
      }
      const ids = {
        walletId: claimedString(m.data, 'wallet_id'),
        newThreshold: 0,
        keyType: (claimedString(m.data, 'key_type') === 'ed25519' ? 'ed25519' : 'secp256k1') as 'ed25519' | 'secp256k1',
      };
      const data = reshareResult(ids, { code: re.errorCode, reason: re.reason });
      await this.publish(
        'reshare',
        resultSubject('reshare', sessionId, clientId),
        data,
        unauthenticatedResultMessageId('reshare', sha256hex(m.data), clientId),
        replyTo,
      );
      return;
    }
    if (this.reshareSlots.waiting >= MAX_WAITING_RESHARES) {
      // reshare requests come on core NATS with no back-pressure: beyond the bound they are refused
      const data = reshareResult(
        { walletId: req.walletId, newThreshold: req.newThreshold, keyType: req.keyType },
        { code: 'ERROR_RESOURCE_EXHAUSTED', reason: 'too many reshare requests waiting on this node; retry later' },
      );
      const msgId = `${resultMessageId('reshare', req.sessionId, clientId)}:refused:${sha256hex(m.data)}`;
      await this.publish('reshare', resultSubject('reshare', req.sessionId, clientId), data, msgId, replyTo);
      return;
    }
    const { result, refused } = await this.reshareSlots.run(() =>
      timedSession(this.metrics, 'reshare', 'coordinator', () => coordinateReshare(this.ctx, req, m.data, clientId)),
    );
    const failed = resultErrorCode(result);
    this.ctx.audit({
      actor: clientId || 'client',
      action: 'reshare',
      walletId: req.walletId,
      outcome: refused ? 'duplicate' : failed ? 'error' : 'ok',
      errorCode: failed,
      details: { keyType: req.keyType, newThreshold: req.newThreshold, nodes: req.nodeIds.join(',').slice(0, 500) },
    });
    // a refused replay must not take the message id of the session's own result
    const base = resultMessageId('reshare', req.sessionId, clientId);
    const msgId = refused ? `${base}:refused:${sha256hex(m.data)}` : failed ? errorMessageId(base, m.data) : base;
    await this.publish('reshare', resultSubject('reshare', req.sessionId, clientId), result, msgId, replyTo);
  }
}

function asRequestError(e: unknown): RequestError {
  if (e instanceof RequestError) return e;
  return new RequestError('ERROR_UNMARSHAL_FAILURE', `Failed to unmarshal the request: ${(e as Error).message}`);
}

/** The error code of a result event we built, or undefined for a success. Does not throw. */
function resultErrorCode(data: Uint8Array): ErrorCode | undefined {
  try {
    const o = JSON.parse(Buffer.from(data).toString('utf8')) as { result_type?: string; error_code?: string };
    return o.result_type === 'error' ? (o.error_code as ErrorCode) : undefined;
  } catch {
    return undefined;
  }
}
