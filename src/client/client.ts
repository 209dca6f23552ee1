/**
 * The SDK client: signs and publishes mpcium requests over a {@link WorkQueue} (reshare over a
 * {@link Bus}: mpcium sends it on core NATS), consumes this client's results and settles each
 * request's promise with its result. Requests are byte for byte what mpcium's Go client sends
 * (`api`'s encoders and signed bytes); results are read as Go's client reads them.
 *
 * Matching (mpcium routes results by client id only, so a client matches them itself): a keygen
 * result by its `wallet_id`, a signing result by its `tx_id` (all signing results share the
 * subject `…complete`), a reshare result by its subject's last token (the session id); the
 * result's `wallet_id` must also be the request's. One request per id is in flight at a time
 * (concurrent signing requests need distinct tx ids; the default is a fresh UUID). An error result
 * published under an *unauthenticated* message id (a node could not authenticate *a* request
 * naming this id) settles the request only if that id is derived from this request's own bytes
 * and client id: anyone able to publish requests could otherwise fail another client's request by
 * reusing its id.
 * With `synchronousResults`, each request also names a reply subject of its own (`Mpc-Reply-To`,
 * mpcium PR #142): a node publishes the result there too, and the first copy to arrive settles the
 * request under the same rules.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type AuthorizerSignature,
  authorizerSignedBytes,
  CLIENT_ID_HEADER,
  encodeGenerateKeyRequest,
  encodeResharingRequest,
  encodeSignTxRequest,
  generateKeySignedBytes,
  KEYGEN_REQUEST_SUBJECTS,
  KEYGEN_STREAM,
  type KeyType,
  type Operation,
  parseGenerateKeyRequest,
  parseKeygenResult,
  parseReshareResult,
  parseResharingRequest,
  parseSigningResult,
  parseSignTxRequest,
  REPLY_TO_HEADER,
  RESHARE_REQUEST_SUBJECT,
  RESULT_STREAM,
  RESULT_SUBJECTS,
  RequestError,
  requestSubject,
  resharingSignedBytes,
  resultConsumer,
  SIGNING_REQUEST_SUBJECTS,
  SIGNING_STREAM,
  signTxSignedBytes,
  unauthenticatedResultMessageId,
  validateSubjectToken,
} from '../api/index.js';
import { InvalidArgumentError, InvalidStateError, TimeoutError } from '../common/errors.js';
import type { Bus, BusMessage, Subscription, WorkMessage, WorkQueue } from '../transport/index.js';
import { validatePath } from '../tss/index.js';
import type { AuthorizerSigner, InitiatorSigner } from './initiator.js';
import {
  type KeygenOutcome,
  keygenOutcome,
  type ReshareOutcome,
  type ResultEvent,
  reshareOutcome,
  type SignOutcome,
  signOutcome,
} from './outcomes.js';
import { ResultStream } from './result-stream.js';

export interface ClientOptions {
  /** Where requests go and results come from (JetStream, or the in-process `MemoryJetStream`). */
  readonly workQueue: WorkQueue;
  /** Signs every request; the nodes' `event_initiator_pubkey` is its public key. */
  readonly initiator: InitiatorSigner;
  /** Core NATS, for reshare requests (`mpc:reshare`); without it `reshare` is refused. */
  readonly bus?: Bus;
  /** Scopes this client's results (`mpc.mpc_*_result.<clientId>.…`, own durable consumers): give each process its own. */
  readonly clientId?: string;
  /** Co-sign every request, in this order (the nodes' `authorization` policy decides which are required). */
  readonly authorizers?: readonly AuthorizerSigner[];
  /** How long a request waits for its result (default 120 000 ms); each call may override it. */
  readonly resultTimeoutMs?: number;
  /** Requests in flight at once (default 1024); one more is refused with `InvalidStateError`. */
  readonly maxPending?: number;
  /** Results each `results()` iterator buffers before the client stops acking (default 1024). */
  readonly resultBufferSize?: number;
  /**
   * Also take each request's result from core NATS (needs `bus`): every request carries
   * `Mpc-Reply-To: _INBOX.<random>.<n>` and a node that supports it (Tessera; mpcium's PR #142)
   * publishes the result there as well as to the stream. The request settles on the first copy;
   * `results()` still yields the stream's. A reply is as trustworthy as whoever can publish to
   * that subject (docs/client.md). Default false.
   */
  readonly synchronousResults?: boolean;
}

/** A signing request. */
export interface SignRequest {
  readonly walletId: string;
  readonly keyType: KeyType;
  /** secp256k1: the 32-byte digest; ed25519: the message itself (1 byte to 1 MiB). */
  readonly tx: Uint8Array;
  /** Default: a fresh UUID. Distinct for concurrent requests. */
  readonly txId?: string;
  /** Non-hardened indices (below 2^31): sign with the child key (see `deriveChildPublicKey`). */
  readonly derivationPath?: readonly number[];
  /** Passed through to the result (default ''). */
  readonly networkInternalCode?: string;
  readonly timeoutMs?: number;
}

/** A reshare request: move the wallet's `keyType` key to the committee `nodeIds` with threshold `newThreshold`. */
export interface ReshareRequest {
  readonly walletId: string;
  readonly keyType: KeyType;
  /** The new t: t+1 of the new committee sign. */
  readonly newThreshold: number;
  /** The new committee's node ids (at least newThreshold + 1, distinct). */
  readonly nodeIds: readonly string[];
  /** Default: a fresh UUID. */
  readonly sessionId?: string;
  readonly timeoutMs?: number;
}

/** mpcium's result consumers (`NewMessageQueue`, reference §1.4). */
const RESULT_CONSUMER = { maxDeliver: 3, ackWaitMs: 30_000, maxAckPending: 1000 } as const;
/** Stream sequences remembered to drop redeliveries of a result already handled. */
const SEEN_CAPACITY = 4096;
const MSG_ID_HEADER = 'Nats-Msg-Id';
const OPERATIONS: readonly Operation[] = ['keygen', 'signing', 'reshare'];

interface Pending {
  readonly op: Operation;
  readonly id: string;
  readonly walletId: string;
  /** The message id of an error result for *this* request failing authentication. */
  readonly unauthenticatedMsgId: string;
  /** SHA-256 (hex) of this request's bytes: the `:conflict:`, `:refused:` and `:error:` ids of its results carry it. */
  readonly digestHex: string;
  /** The last token of this request's reply subject (with `synchronousResults`). */
  readonly replyToken: string | undefined;
  readonly settle: (e: ResultEvent) => void;
  readonly fail: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A Tessera (or mpcium) cluster's client. Create it with {@link MpcClient.create}. */
export class MpcClient {
  private readonly pending = new Map<string, Pending>();
  private readonly seen = new Set<number>();
  private readonly streams = new Set<ResultStream>();
  private readonly backlog: ResultEvent[] = [];
  private readonly consumers: { stop(): void }[] = [];
  private readonly headers: Readonly<Record<string, string>> | undefined;
  /** With `synchronousResults`: this client's reply subjects are `<replyInbox>.<n>`. */
  private readonly replyInbox: string | undefined;
  /** Reply token → the key of the pending request it answers. */
  private readonly replyTokens = new Map<string, string>();
  private replySeq = 0;
  private replySub: Subscription | undefined;
  private closed = false;
  private dropped = 0;

  private constructor(
    private readonly opts: ClientOptions,
    private readonly timeoutMs: number,
    private readonly maxPending: number,
    private readonly bufferSize: number,
  ) {
    this.headers = opts.clientId ? { [CLIENT_ID_HEADER]: opts.clientId } : undefined;
    this.replyInbox = opts.synchronousResults ? `_INBOX.${randomUUID().replaceAll('-', '')}` : undefined;
  }

  /**
   * Checks the options, creates the request streams and the result stream if they do not exist
   * (as mpcium's clients do) and starts this client's three durable result consumers (and, with
   * `synchronousResults`, its reply subscription). Throws `InvalidArgumentError` for bad options
   * (`synchronousResults` without a bus); rejects with the work queue's and the bus's errors.
   */
  static async create(opts: ClientOptions): Promise<MpcClient> {
    if (opts.clientId !== undefined && opts.clientId !== '') validateSubjectToken('client id', opts.clientId);
    if (typeof opts.initiator?.sign !== 'function') throw new InvalidArgumentError('an initiator signer is required');
    const ids = (opts.authorizers ?? []).map((a) => a.id);
    if (
      ids.some((id) => typeof id !== 'string' || id.length === 0 || id.length > 256) ||
      new Set(ids).size !== ids.length
    )
      throw new InvalidArgumentError('authorizer ids are distinct strings of 1 to 256 characters');
    if (opts.synchronousResults === true && opts.bus === undefined)
      throw new InvalidArgumentError('synchronousResults takes the results from core NATS: give the client a bus');
    const c = new MpcClient(
      opts,
      checkTimeout(opts.resultTimeoutMs ?? 120_000),
      positive('maxPending', opts.maxPending ?? 1024),
      positive('resultBufferSize', opts.resultBufferSize ?? 1024),
    );
    const wq = opts.workQueue;
    await wq.ensureStream({ name: KEYGEN_STREAM, subjects: KEYGEN_REQUEST_SUBJECTS });
    await wq.ensureStream({ name: SIGNING_STREAM, subjects: SIGNING_REQUEST_SUBJECTS });
    await wq.ensureStream({ name: RESULT_STREAM, subjects: RESULT_SUBJECTS });
    try {
      for (const op of OPERATIONS) {
        const { durable, filter } = resultConsumer(op, opts.clientId);
        const cfg = { stream: RESULT_STREAM, durable, filter, ...RESULT_CONSUMER };
        c.consumers.push(wq.consume(cfg, (m) => c.onResult(op, m)));
      }
      if (c.replyInbox !== undefined) c.replySub = opts.bus!.subscribe(`${c.replyInbox}.*`, (m) => c.onReply(m));
    } catch (e) {
      for (const x of c.consumers) x.stop();
      throw e;
    }
    return c;
  }

  /**
   * Creates a wallet (an ECDSA and an EdDSA key) and resolves with its public keys. Rejects with
   * `InvalidArgumentError` for a bad wallet id (nothing is published), `InvalidStateError` if the
   * client is closed, the wallet already has a request in flight or `maxPending` are, the
   * signers' and the work queue's errors, {@link OperationFailedError} (an error result, its
   * `errorCode` mpcium's), `TimeoutError` if no result comes in time.
   */
  async createWallet(walletId: string = randomUUID(), opts: { timeoutMs?: number } = {}): Promise<KeygenOutcome> {
    this.open();
    checkText('wallet_id', walletId);
    validateSubjectToken('wallet_id', walletId);
    const timeoutMs = checkTimeout(opts.timeoutMs ?? this.timeoutMs);
    const raw = generateKeySignedBytes({ walletId });
    const signed = await this.signatures(walletId, raw);
    const body = encodeGenerateKeyRequest({ walletId, ...signed });
    selfCheck(() => parseGenerateKeyRequest(body));
    return this.submit('keygen', walletId, walletId, body, timeoutMs, {
      publish: (headers) => this.opts.workQueue.publish(requestSubject('keygen', walletId), body, { headers }),
      outcome: (e) => keygenOutcome(narrow(e, 'keygen').result),
      check: `that every node is running and ready (keygen needs all of them) and consumes stream ${KEYGEN_STREAM}`,
    });
  }

  /**
   * Signs `tx` with the wallet's `keyType` key (or its child along `derivationPath`). Rejects with
   * `InvalidArgumentError` for a bad request — wallet or tx id, key type, a secp256k1 tx that is
   * not 32 bytes, a hardened or malformed path — before anything is published; otherwise as
   * {@link createWallet}.
   */
  async sign(req: SignRequest): Promise<SignOutcome> {
    this.open();
    const { walletId, keyType, tx } = req;
    const txId = req.txId ?? randomUUID();
    const networkInternalCode = req.networkInternalCode ?? '';
    checkText('wallet_id', walletId);
    checkText('tx_id', txId);
    checkText('network_internal_code', networkInternalCode);
    validateSubjectToken('wallet_id', walletId);
    validateSubjectToken('tx_id', txId);
    checkKeyType(keyType);
    if (!(tx instanceof Uint8Array)) throw new InvalidArgumentError('tx must be a Uint8Array');
    if (req.derivationPath !== undefined) validatePath(req.derivationPath);
    const derivationPath = req.derivationPath === undefined ? null : [...req.derivationPath];
    const timeoutMs = checkTimeout(req.timeoutMs ?? this.timeoutMs);
    const fields = { keyType, walletId, networkInternalCode, txId, tx, derivationPath };
    // the api's parser is the contract: whatever it refuses is refused here, before signing
    selfCheck(() => parseSignTxRequest(encodeSignTxRequest({ ...fields, signature: empty, authorizerSignatures: [] })));
    const signed = await this.signatures(txId, signTxSignedBytes(fields));
    const body = encodeSignTxRequest({ ...fields, ...signed });
    return this.submit('signing', txId, walletId, body, timeoutMs, {
      publish: (headers) => this.opts.workQueue.publish(requestSubject('signing', txId), body, { headers }),
      outcome: (e) => signOutcome(keyType, narrow(e, 'signing').result),
      check: `that t+1 nodes holding wallet ${walletId} are running and consume stream ${SIGNING_STREAM}`,
    });
  }

  /**
   * Reshares the wallet's `keyType` key to a new committee and threshold. Rejects with
   * `InvalidStateError` without a bus, `InvalidArgumentError` for a bad request (ids, key type,
   * fewer than newThreshold + 1 distinct node ids) before anything is published; otherwise as
   * {@link createWallet}.
   */
  async reshare(req: ReshareRequest): Promise<ReshareOutcome> {
    this.open();
    const bus = this.opts.bus;
    if (bus === undefined)
      throw new InvalidStateError(
        `reshare requests travel on core NATS (${RESHARE_REQUEST_SUBJECT}): give the client a bus`,
      );
    const { walletId, keyType, newThreshold } = req;
    const sessionId = req.sessionId ?? randomUUID();
    checkText('wallet_id', walletId);
    checkText('session_id', sessionId);
    validateSubjectToken('wallet_id', walletId);
    validateSubjectToken('session_id', sessionId);
    checkKeyType(keyType);
    if (!Array.isArray(req.nodeIds) || req.nodeIds.some((n) => typeof n !== 'string' || !n.isWellFormed()))
      throw new InvalidArgumentError('node_ids must be an array of node id strings');
    if (!Number.isSafeInteger(newThreshold)) throw new InvalidArgumentError('new_threshold must be an integer');
    const timeoutMs = checkTimeout(req.timeoutMs ?? this.timeoutMs);
    const fields = { sessionId, nodeIds: [...req.nodeIds], newThreshold, keyType, walletId };
    selfCheck(() =>
      parseResharingRequest(encodeResharingRequest({ ...fields, signature: empty, authorizerSignatures: [] })),
    );
    const signed = await this.signatures(walletId, resharingSignedBytes(fields));
    const body = encodeResharingRequest({ ...fields, ...signed });
    return this.submit('reshare', sessionId, walletId, body, timeoutMs, {
      publish: (headers) => bus.publish(RESHARE_REQUEST_SUBJECT, body, { headers }),
      outcome: (e) => reshareOutcome(sessionId, keyType, narrow(e, 'reshare').result),
      check: `that the nodes of the old and the new committee are running and listen on ${RESHARE_REQUEST_SUBJECT}`,
    });
  }

  /**
   * Every result this client receives, in the order received, each once: first those received
   * while no iterator was open (the newest `resultBufferSize`; older ones are counted in
   * {@link droppedResults}), then every later one — whether it settles a request of this client or
   * not (e.g. results left in the stream by an earlier run with the same client id). Backpressure:
   * each iterator buffers up to `resultBufferSize` results; while one is full, the client holds
   * further results unacked (the stream keeps them; the consumers stop at 1000 unacked), and the
   * promises of requests whose results are held wait too. Leave the loop (`break`) to stop
   * iterating. Ends when the client is closed. Does not throw.
   */
  results(): AsyncIterableIterator<ResultEvent> {
    const s = new ResultStream(this.bufferSize, (x) => this.streams.delete(x), this.backlog.splice(0));
    if (this.closed) s.end();
    else this.streams.add(s);
    return s;
  }

  /** Results dropped because no `results()` iterator was open and more than `resultBufferSize` were waiting. */
  get droppedResults(): number {
    return this.dropped;
  }

  /** Requests waiting for their result. */
  get pendingRequests(): number {
    return this.pending.size;
  }

  /**
   * Stops the result consumers, rejects the requests still waiting with `InvalidStateError` and
   * ends every `results()` iterator. The work queue and the bus stay open (they are the caller's).
   * Does not throw.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.consumers) c.stop();
    this.replySub?.unsubscribe();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.fail(new InvalidStateError(`the client was closed before the ${p.op} result for ${p.id} arrived`));
    }
    this.pending.clear();
    this.replyTokens.clear();
    for (const s of [...this.streams]) s.end();
    this.backlog.length = 0;
  }

  private open(): void {
    if (this.closed) throw new InvalidStateError('the client is closed');
  }

  /** The initiator's signature of `raw`, then each authorizer's over (initiator id, raw, that signature). */
  private async signatures(
    initiatorId: string,
    raw: Uint8Array,
  ): Promise<{ signature: Uint8Array; authorizerSignatures: AuthorizerSignature[] }> {
    const signature = await this.opts.initiator.sign(raw);
    const authorizerSignatures: AuthorizerSignature[] = [];
    for (const a of this.opts.authorizers ?? []) {
      const s = await a.sign(authorizerSignedBytes(initiatorId, raw, signature));
      authorizerSignatures.push({ authorizerId: a.id, signature: s });
    }
    return { signature, authorizerSignatures };
  }

  /** Registers the request (one per id), publishes it, and settles with its result or a timeout. */
  private submit<T>(
    op: Operation,
    id: string,
    walletId: string,
    body: Uint8Array,
    timeoutMs: number,
    how: {
      publish: (headers: Readonly<Record<string, string>> | undefined) => unknown;
      outcome: (e: ResultEvent) => T;
      check: string;
    },
  ): Promise<T> {
    this.open();
    const key = `${op}:${id}`;
    if (this.pending.has(key))
      throw new InvalidStateError(`a ${op} request for ${id} is already waiting for its result; use another id`);
    if (this.pending.size >= this.maxPending)
      throw new InvalidStateError(`${this.maxPending} requests are waiting for results; wait for some to finish`);
    const consumer = resultConsumer(op, this.opts.clientId).durable;
    const replyToken = this.replyInbox === undefined ? undefined : String(++this.replySeq);
    const headers =
      replyToken === undefined
        ? this.headers
        : { ...this.headers, [REPLY_TO_HEADER]: `${this.replyInbox}.${replyToken}` };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.get(key) !== entry) return;
        this.forget(key, entry);
        reject(
          new TimeoutError(
            `the ${op} request ${id}`,
            timeoutMs,
            `check ${how.check}, that the nodes' event_initiator_pubkey is this client's initiator key ` +
              `(${this.opts.initiator.algorithm}), and that no other client consumes ${consumer} ` +
              '(clients sharing a client id take each other’s results); a late result still shows on results()',
          ),
        );
      }, timeoutMs);
      const digestHex = createHash('sha256').update(body).digest('hex');
      const entry: Pending = {
        op,
        id,
        walletId,
        unauthenticatedMsgId: unauthenticatedResultMessageId(op, digestHex, this.opts.clientId),
        digestHex,
        replyToken,
        settle: (e) => {
          try {
            resolve(how.outcome(e));
          } catch (err) {
            reject(err);
          }
        },
        fail: reject,
        timer,
      };
      this.pending.set(key, entry);
      if (replyToken !== undefined) this.replyTokens.set(replyToken, key);
      const failed = (err: unknown) => {
        if (this.pending.get(key) !== entry) return;
        this.forget(key, entry);
        reject(err);
      };
      try {
        Promise.resolve(how.publish(headers)).catch(failed);
      } catch (err) {
        failed(err);
      }
    });
  }

  private async onResult(op: Operation, m: WorkMessage): Promise<void> {
    if (this.seen.has(m.seq)) return m.ack(); // a redelivery of a result already handled
    let event: ResultEvent;
    try {
      event = readResult(op, m, m.subject.slice(m.subject.lastIndexOf('.') + 1));
    } catch {
      return m.term(); // no client can read it (as mpcium's TS client: terminate)
    }
    this.seen.add(m.seq);
    if (this.seen.size > SEEN_CAPACITY) this.seen.delete(this.seen.values().next().value!);
    this.match(event, m.headers.get(MSG_ID_HEADER));
    await this.deliver(event, m);
    if (this.closed)
      m.nak(); // not handed to every reader: leave it to the next client
    else m.ack();
  }

  private match(e: ResultEvent, msgId: string | undefined): void {
    const key = `${e.operation}:${resultId(e)}`;
    const p = this.pending.get(key);
    if (p === undefined || p.walletId !== e.result.walletId) return;
    const unauthenticated = msgId?.startsWith(unauthenticatedResultMessageId(e.operation, '')) === true;
    if (unauthenticated && msgId !== p.unauthenticatedMsgId) return; // about someone else's request naming this id
    // an error a node answered for *a* request naming this id (a conflicting copy, a refused or failed
    // one) carries that request's digest: someone else's copy must not fail this request
    const about = msgId === undefined ? undefined : /:(?:conflict|refused|error):([0-9a-f]{64})(?::\d+)?$/.exec(msgId);
    if (about && about[1] !== p.digestHex) return;
    this.forget(key, p);
    p.settle(e);
  }

  /** Drops a pending request: its entry, timer and reply token. Does not throw. */
  private forget(key: string, p: Pending): void {
    this.pending.delete(key);
    clearTimeout(p.timer);
    if (p.replyToken !== undefined) this.replyTokens.delete(p.replyToken);
  }

  /**
   * A result on one of this client's reply subjects: read as its request's operation (a reshare's
   * session id is the request's) and matched as a stream result is; not handed to `results()`
   * (the stream's copy is). Anything else there is ignored. Does not throw.
   */
  private onReply(m: BusMessage): void {
    const key = this.replyTokens.get(m.subject.slice(m.subject.lastIndexOf('.') + 1));
    const p = key === undefined ? undefined : this.pending.get(key);
    if (p === undefined) return;
    let event: ResultEvent;
    try {
      event = readResult(p.op, { subject: m.subject, seq: 0, data: m.data }, p.id);
    } catch {
      return;
    }
    if (resultId(event) !== p.id) return; // another request's result: its own subject or the stream settles it
    this.match(event, m.headers.get(MSG_ID_HEADER));
  }

  /** Hands `e` to every open iterator (waiting while one is full, keeping the message's ack wait alive), or to the backlog. */
  private async deliver(e: ResultEvent, m: WorkMessage): Promise<void> {
    if (this.streams.size === 0) {
      this.backlog.push(e);
      if (this.backlog.length > this.bufferSize) {
        this.backlog.shift();
        this.dropped++;
      }
      return;
    }
    const waits = [...this.streams].map((s) => s.offer(e)).filter((w) => w !== undefined);
    if (waits.length === 0) return;
    const beat = setInterval(() => m.working(), RESULT_CONSUMER.ackWaitMs / 3);
    try {
      await Promise.all(waits);
    } finally {
      clearInterval(beat);
    }
  }
}

const empty = new Uint8Array(0);

/** A result event; `sessionId` is a reshare's (the last token of its stream subject). Throws `InvalidArgumentError`. */
function readResult(
  op: Operation,
  m: { subject: string; seq: number; data: Uint8Array },
  sessionId: string,
): ResultEvent {
  const at = { subject: m.subject, seq: m.seq };
  if (op === 'keygen') return { ...at, operation: op, result: parseKeygenResult(m.data) };
  if (op === 'signing') return { ...at, operation: op, result: parseSigningResult(m.data) };
  return { ...at, operation: op, sessionId, result: parseReshareResult(m.data) };
}

/** The id a result answers: the wallet id (keygen), tx id (signing) or session id (reshare). Does not throw. */
function resultId(e: ResultEvent): string {
  return e.operation === 'keygen' ? e.result.walletId : e.operation === 'signing' ? e.result.txId : e.sessionId;
}

function narrow<O extends Operation>(e: ResultEvent, op: O): Extract<ResultEvent, { operation: O }> {
  if (e.operation !== op) throw new InvalidStateError(`a ${e.operation} result cannot settle a ${op} request`);
  return e as Extract<ResultEvent, { operation: O }>;
}

/** Runs the api's parser on what is about to be signed or sent: its refusal becomes `InvalidArgumentError`. */
function selfCheck(parse: () => unknown): void {
  try {
    parse();
  } catch (e) {
    if (e instanceof RequestError) throw new InvalidArgumentError(e.reason);
    throw e;
  }
}

/** A string a Go node reads back unchanged (no lone surrogate: Go would turn it into U+FFFD). */
function checkText(what: string, s: unknown): void {
  if (typeof s !== 'string' || !s.isWellFormed())
    throw new InvalidArgumentError(`${what} must be a string of well-formed Unicode`);
}

function checkKeyType(k: unknown): asserts k is KeyType {
  if (k !== 'secp256k1' && k !== 'ed25519') throw new InvalidArgumentError("key type is 'secp256k1' or 'ed25519'");
}

function checkTimeout(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0 || ms > 2 ** 31 - 1)
    throw new InvalidArgumentError('a result timeout is a positive number of milliseconds below 2^31');
  return ms;
}

function positive(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
}
