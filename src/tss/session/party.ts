/**
 * The shape of every threshold protocol in Tessera: a pure, transport-free state machine per
 * party. It is created with its inputs, emits outbound messages from {@link ProtocolParty.start},
 * consumes inbound ones with {@link ProtocolParty.receive}, and ends with a result or a
 * {@link ProtocolAbortedError}. No I/O, no timers, no globals; randomness is injected.
 *
 * {@link RoundProtocol} implements the envelope rules once for every protocol: a message from an
 * unknown sender, for another session, for a wrong round, misaddressed, unexpected, oversized, or
 * a second message with different content for a (round, kind, sender) slot already filled aborts
 * the party with blame on the sender. A byte-identical duplicate is ignored. Messages for a later
 * round are buffered.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { bytesEqual, utf8 } from '../math/hash.js';
import { ProtocolAbortedError } from './errors.js';
import { decodeMessage, MAX_ID_BYTES, type Message } from './message.js';

/** Lifecycle of a party. */
export type PartyStatus = 'created' | 'running' | 'done' | 'aborted';

/** What every protocol party offers to the node layer (and to the local runner). */
export interface ProtocolParty<R> {
  readonly sessionId: string;
  readonly self: string;
  readonly participants: readonly string[];
  readonly status: PartyStatus;
  /** The abort that ended this party, if any. */
  readonly abortError: ProtocolAbortedError | undefined;
  /**
   * Starts the session; returns the first round's messages. Throws `ProtocolAbortedError`, or
   * `InvalidStateError` if called twice.
   */
  start(): Message[];
  /**
   * Consumes one inbound message; returns the messages to send in reaction (possibly none).
   * `authenticatedSender` is the sender the transport authenticated; a message claiming another
   * sender is refused. **Without `authenticatedSender` the sender binding is skipped** and
   * `msg.from` is trusted as is: that is for tests and in-process use only. The node layer must
   * always call {@link receiveBytes} (or pass `authenticatedSender`) with the channel-authenticated
   * sender. Throws only `ProtocolAbortedError` (and keeps throwing it once aborted); its `outbound`
   * holds messages of rounds completed in the same call, to be sent once.
   */
  receive(msg: Message, authenticatedSender?: string): Message[];
  /** Decodes and consumes one encoded message. Throws only `ProtocolAbortedError`. */
  receiveBytes(authenticatedSender: string, bytes: Uint8Array): Message[];
  /** The result. Throws `InvalidStateError` unless the party is done. */
  result(): R;
  /**
   * Ends a created or running party from outside — the node's session timeout, a peer's abort
   * notice, a failed write of its state — with a `ProtocolAbortedError(reason)` naming no one,
   * wiping its secrets like any abort; later calls throw that error. No effect on a party that is
   * already done or aborted. Does not throw.
   */
  abort(reason: string): void;
}

/** A message to send, before the envelope is filled in. */
export interface Outgoing {
  readonly to: string | null;
  readonly payload: Uint8Array;
}

/** Senders this party expects a message from in one round, by kind. */
export interface RoundExpectation {
  readonly broadcast: readonly string[];
  readonly direct: readonly string[];
}

/** Messages received in one round. */
export interface RoundInbox {
  readonly broadcast: ReadonlyMap<string, Uint8Array>;
  readonly direct: ReadonlyMap<string, Uint8Array>;
}

/** What processing a complete round yields: messages for the next round, or the final result. */
export type RoundStep<R> = { readonly send: readonly Outgoing[] } | { readonly result: R };

/** Common inputs of a session. */
export interface SessionConfig {
  readonly sessionId: string;
  readonly self: string;
  /** Every party of the session, in the order all parties agreed on. */
  readonly participants: readonly string[];
}

/**
 * True for a usable session or party id: a non-empty, well-formed (no lone surrogate) string of at
 * most 256 UTF-8 bytes. Ids must round-trip through the UTF-8 wire encoding exactly. Does not throw.
 */
export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.isWellFormed() && utf8(s).length <= MAX_ID_BYTES;
}

/** Validates a session configuration. Throws `InvalidArgumentError`. */
export function validateSessionConfig(c: SessionConfig): void {
  if (!isValidId(c.sessionId))
    throw new InvalidArgumentError('session id must be a non-empty well-formed string of at most 256 bytes');
  if (!Array.isArray(c.participants) || c.participants.length < 2)
    throw new InvalidArgumentError('a session needs at least two participants');
  for (const p of c.participants)
    if (!isValidId(p))
      throw new InvalidArgumentError('party ids must be non-empty well-formed strings of at most 256 bytes');
  if (new Set(c.participants).size !== c.participants.length)
    throw new InvalidArgumentError('participant list has duplicates');
  if (!c.participants.includes(c.self)) throw new InvalidArgumentError('participant list does not contain this party');
}

/** SHA-256 of a payload (the duplicate check keeps digests, not copies of possibly secret payloads). */
function payloadDigest(payload: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(payload).digest());
}

/** Base class implementing the envelope rules for round-based protocols. */
export abstract class RoundProtocol<R> implements ProtocolParty<R> {
  readonly sessionId: string;
  readonly self: string;
  readonly participants: readonly string[];
  private state: PartyStatus = 'created';
  private abortErr: ProtocolAbortedError | undefined;
  private output: { value: R } | undefined;
  private current = 1;
  private readonly inbox = new Map<number, { broadcast: Map<string, Uint8Array>; direct: Map<string, Uint8Array> }>();
  /** SHA-256 of the payload accepted for each (round, kind, sender) slot, kept after the round is processed. */
  private readonly seen = new Map<string, Uint8Array>();

  protected constructor(
    config: SessionConfig,
    /** Number of rounds of inbound messages. */
    protected readonly totalRounds: number,
    /** Largest payload accepted. */
    protected readonly maxPayloadBytes: number,
  ) {
    validateSessionConfig(config);
    this.sessionId = config.sessionId;
    this.self = config.self;
    this.participants = Object.freeze([...config.participants]);
  }

  /** Senders expected in round `round` (1-based). */
  protected abstract expect(round: number): RoundExpectation;
  /** Produces the first round's messages. */
  protected abstract begin(): readonly Outgoing[];
  /** Processes a complete round. */
  protected abstract process(round: number, inbox: RoundInbox): RoundStep<R>;
  /** Wipes secret state; called once when the party aborts. */
  protected abstract wipe(): void;

  get status(): PartyStatus {
    return this.state;
  }
  get abortError(): ProtocolAbortedError | undefined {
    return this.abortErr;
  }

  /**
   * {@link ProtocolParty.start}. Throws `ProtocolAbortedError` (also the earlier abort of a party
   * aborted before it started), or `InvalidStateError` if called twice.
   */
  start(): Message[] {
    // A party aborted before start (e.g. by a message from an unknown sender) reports that abort.
    if (this.abortErr) throw this.abortErr;
    if (this.state !== 'created') throw new InvalidStateError('session already started');
    this.state = 'running';
    const out = this.guard(() => this.begin());
    const msgs = this.envelope(1, out);
    try {
      return [...msgs, ...this.pump()];
    } catch (e) {
      if (e instanceof ProtocolAbortedError) e.outbound = [...msgs, ...e.outbound];
      throw e;
    }
  }

  /** {@link ProtocolParty.receiveBytes}. Throws only `ProtocolAbortedError`. */
  receiveBytes(authenticatedSender: string, bytes: Uint8Array): Message[] {
    if (this.abortErr) throw this.abortErr;
    let msg: Message;
    try {
      msg = decodeMessage(bytes);
    } catch {
      throw this.fail(new ProtocolAbortedError('malformed message', [authenticatedSender]));
    }
    return this.receive(msg, authenticatedSender);
  }

  /** {@link ProtocolParty.receive}. Throws only `ProtocolAbortedError`. */
  receive(msg: Message, authenticatedSender?: string): Message[] {
    if (this.abortErr) throw this.abortErr;
    if (this.state === 'done') return [];
    if (typeof msg !== 'object' || msg === null || typeof msg.from !== 'string' || typeof msg.sessionId !== 'string') {
      throw this.fail(
        new ProtocolAbortedError('malformed message', authenticatedSender !== undefined ? [authenticatedSender] : []),
      );
    }
    const from = msg.from;
    if (authenticatedSender !== undefined && from !== authenticatedSender) {
      throw this.fail(new ProtocolAbortedError('message claims to come from another party', [authenticatedSender]));
    }
    const known = this.participants.includes(from) && from !== this.self;
    if (!known)
      throw this.fail(
        new ProtocolAbortedError(
          'message from an unknown sender',
          authenticatedSender ? [authenticatedSender] : [from],
        ),
      );
    if (msg.sessionId !== this.sessionId)
      throw this.fail(new ProtocolAbortedError('message belongs to another session', [from]));
    if (!Number.isInteger(msg.round) || msg.round < 1 || msg.round > this.totalRounds) {
      throw this.fail(new ProtocolAbortedError('message for a wrong round', [from]));
    }
    if (msg.to !== null && msg.to !== this.self)
      throw this.fail(new ProtocolAbortedError('message addressed to another party', [from]));
    if (!(msg.payload instanceof Uint8Array)) throw this.fail(new ProtocolAbortedError('malformed message', [from]));
    if (msg.payload.length > this.maxPayloadBytes)
      throw this.fail(new ProtocolAbortedError('oversized payload', [from]));
    const kind = msg.to === null ? 'broadcast' : 'direct';
    // One slot per (round, kind, sender). A byte-identical repeat of the message that filled a slot
    // (at-least-once delivery, a retransmission, a replayed authenticated message) is ignored, also
    // after its round was processed; different bytes for a filled slot abort blaming the sender: a
    // transport duplicate must not end a session, let alone burn OT pairs [5/R-A].
    const slot = `${msg.round}:${kind}:${from}`;
    const digest = payloadDigest(msg.payload);
    const prior = this.seen.get(slot);
    if (prior !== undefined) {
      if (timingSafeEqual(prior, digest)) return [];
      throw this.fail(
        new ProtocolAbortedError('duplicate message with different content for the same round slot', [from]),
      );
    }
    if (msg.round < this.current) throw this.fail(new ProtocolAbortedError('message for a wrong round', [from]));
    const exp = this.guard(() => this.expect(msg.round));
    if (!exp[kind].includes(from))
      throw this.fail(new ProtocolAbortedError(`unexpected ${kind} message in this round`, [from]));
    this.seen.set(slot, digest);
    this.box(msg.round)[kind].set(from, Uint8Array.from(msg.payload));
    return this.pump();
  }

  /** {@link ProtocolParty.result}. Throws `InvalidStateError` unless the party is done. */
  result(): R {
    if (this.state !== 'done' || !this.output) throw new InvalidStateError('the session has not completed');
    return this.output.value;
  }

  /** {@link ProtocolParty.abort}. Does not throw (a failing `wipe` is swallowed). */
  abort(reason: string): void {
    if (this.state === 'done' || this.abortErr) return;
    this.fail(
      new ProtocolAbortedError(typeof reason === 'string' && reason.length > 0 ? reason : 'aborted by the node', []),
    );
  }

  /**
   * Attaches messages of round `round` to an abort thrown while processing, so that they are sent
   * with it (e.g. a complaint that lets the peers abort too instead of finishing without this
   * party). Returns `e`.
   */
  protected withOutbound(e: ProtocolAbortedError, round: number, send: readonly Outgoing[]): ProtocolAbortedError {
    e.outbound = [...e.outbound, ...this.envelope(round, send)];
    return e;
  }

  /**
   * The broadcast of a confirmation round: `tag ‖ digest`, where `digest` binds the session context
   * and the validated public result (every key-generating protocol ends with one).
   */
  protected confirmationMessage(tag: string, digest: Uint8Array): Outgoing {
    return { to: null, payload: new ByteWriter().tag(tag).raw(digest).finish() };
  }

  /**
   * Reads every confirmation of `from` before judging, then aborts naming **every** party whose
   * digest differs from `digest` (with `reason`) and every party whose confirmation is malformed —
   * all of them, not the first found, so that no party escapes because another one was read first.
   * Returns normally when all agree. Throws only `ProtocolAbortedError`.
   */
  protected checkConfirmations(
    inbox: RoundInbox,
    from: readonly string[],
    tag: string,
    digest: Uint8Array,
    reason: string,
  ): void {
    const malformed: string[] = [];
    const differing: string[] = [];
    for (const p of from) {
      let theirs: Uint8Array;
      try {
        const r = new ByteReader(inbox.broadcast.get(p)!);
        r.expectTag(tag);
        theirs = r.raw(32);
        r.end();
      } catch {
        malformed.push(p);
        continue;
      }
      if (!bytesEqual(theirs, digest)) differing.push(p);
    }
    if (differing.length > 0) throw new ProtocolAbortedError(reason, [...differing, ...malformed]);
    if (malformed.length > 0) throw new ProtocolAbortedError('malformed confirmation', malformed);
  }

  /** Runs `fn` parsing data from `from`; any failure aborts with blame on `from`. */
  protected parse<T>(from: string, what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ProtocolAbortedError) throw e;
      throw new ProtocolAbortedError(`malformed ${what}`, [from]);
    }
  }

  private box(round: number) {
    let b = this.inbox.get(round);
    if (!b) {
      b = { broadcast: new Map(), direct: new Map() };
      this.inbox.set(round, b);
    }
    return b;
  }

  private pump(): Message[] {
    const out: Message[] = [];
    try {
      while (this.state === 'running') {
        const exp = this.guard(() => this.expect(this.current));
        const box = this.box(this.current);
        const complete = exp.broadcast.every((p) => box.broadcast.has(p)) && exp.direct.every((p) => box.direct.has(p));
        if (!complete) break;
        const round = this.current;
        const step = this.guard(() => this.process(round, box));
        this.inbox.delete(round);
        if ('result' in step) {
          this.output = { value: step.result };
          this.state = 'done';
          this.inbox.clear();
          this.seen.clear();
          break;
        }
        this.current = round + 1;
        out.push(...this.envelope(round + 1, step.send));
      }
    } catch (e) {
      // Messages of rounds completed in this call still go out with the abort (see ProtocolAbortedError.outbound).
      // Messages a protocol attached to the abort itself (see withOutbound) follow them.
      if (e instanceof ProtocolAbortedError && out.length > 0) e.outbound = [...out, ...e.outbound];
      throw e;
    }
    return out;
  }

  private envelope(round: number, out: readonly Outgoing[]): Message[] {
    return out.map((o) => ({ sessionId: this.sessionId, round, from: this.self, to: o.to, payload: o.payload }));
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ProtocolAbortedError) throw this.fail(e);
      if (e instanceof MalformedError) throw this.fail(new ProtocolAbortedError('malformed payload', []));
      throw this.fail(new ProtocolAbortedError('internal error', []));
    }
  }

  private fail(e: ProtocolAbortedError): ProtocolAbortedError {
    if (this.abortErr) return this.abortErr;
    this.abortErr = e;
    this.state = 'aborted';
    this.inbox.clear();
    this.seen.clear();
    try {
      this.wipe();
    } catch {
      // wiping must never turn an abort into another exception
    }
    return e;
  }
}
