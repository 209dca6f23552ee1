/**
 * Drives one protocol party over the channels: registers its session with the router, starts it,
 * feeds it every protocol message with the channel-authenticated sender, sends what it returns,
 * and ends it — with its result, with its abort (peers are told, with the blame), with a peer's
 * abort notice, or with the session timeout. Every runner ends exactly once and closes its
 * session id in the router.
 */
import { TimeoutError } from '../../common/errors.js';
import { type Logger, silentLogger } from '../../common/log.js';
import { type Message, ProtocolAbortedError, type ProtocolParty } from '../../tss/index.js';
import { decodeControl, encodeControl, KIND_CONTROL, KIND_TSS } from './control.js';
import type { SessionRouter } from './router.js';
import type { InboundMessage, MessageSender } from './wire.js';

export interface RunnerOptions<R> {
  /** The party (an ECDSA party already wrapped in `checkpointed`). */
  readonly party: ProtocolParty<R>;
  readonly sender: MessageSender;
  readonly router: SessionRouter;
  readonly timeoutMs: number;
  /** The node that coordinates the session: its abort notice counts even if it is not a participant. */
  readonly coordinator?: string;
  readonly log?: Logger;
}

/** Why a runner ended without a result: the party's abort or the timeout. */
export type RunnerFailure = ProtocolAbortedError | TimeoutError;

export class PartyRunner<R> {
  /** Settles once: the result, or a {@link RunnerFailure}. */
  readonly result: Promise<R>;
  private resolve!: (r: R) => void;
  private reject!: (e: RunnerFailure) => void;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly party: ProtocolParty<R>;
  private readonly peers: readonly string[];
  private readonly log: Logger;

  constructor(private readonly opts: RunnerOptions<R>) {
    this.party = opts.party;
    this.peers = opts.party.participants.filter((p) => p !== opts.party.self);
    this.log = opts.log ?? silentLogger;
    this.result = new Promise<R>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // a runner's failure is always handled by whoever awaits `result`; never an unhandled rejection
    this.result.catch(() => {});
  }

  get sessionId(): string {
    return this.party.sessionId;
  }

  /**
   * Opens the session and starts the party. Throws `AlreadyExistsError` if the session id was used
   * here before (then nothing ran); a party that aborts in `start()` ends the runner instead.
   */
  start(): void {
    this.opts.router.register(
      this.sessionId,
      (m) => this.onMessage(m),
      (reason, blame) => {
        if (this.ended) return;
        this.party.abort(reason);
        this.fail(new ProtocolAbortedError(reason, blame), true);
      },
    );
    this.timer = setTimeout(
      () => this.fail(new TimeoutError(`session ${this.sessionId}`, this.opts.timeoutMs), true),
      this.opts.timeoutMs,
    );
    this.timer.unref();
    this.step(() => this.party.start());
  }

  /** Ends the session from outside (cancellation, a failed sibling session): aborts the party and tells the peers. Does not throw. */
  abort(reason: string): void {
    if (this.ended) return;
    this.party.abort(reason);
    this.fail(this.party.abortError ?? new ProtocolAbortedError(reason), true);
  }

  private onMessage(m: InboundMessage): void {
    // only the session's participants speak in it (an outsider's message or abort notice is dropped),
    // and its coordinator may end it
    if (this.ended) return;
    const participant = this.peers.includes(m.from);
    if (!participant && !(m.from === this.opts.coordinator && m.kind === KIND_CONTROL)) return;
    if (m.kind === KIND_TSS) {
      const msg: Message = { sessionId: m.sessionId, round: m.round, from: m.from, to: m.to, payload: m.payload };
      this.step(() => this.party.receive(msg, m.from));
      return;
    }
    if (m.kind !== KIND_CONTROL) return;
    let reason: string;
    try {
      const c = decodeControl(m.payload);
      if (c.type !== 'abort') return;
      reason = c.reason;
    } catch {
      return;
    }
    // A peer's notice ends the session here without blame: the notice itself proves nothing.
    this.party.abort(`${m.from} aborted the session: ${reason}`);
    this.fail(this.party.abortError ?? new ProtocolAbortedError(reason), false);
  }

  private step(call: () => Message[]): void {
    let out: Message[];
    try {
      out = call();
    } catch (e) {
      const err =
        e instanceof ProtocolAbortedError ? e : new ProtocolAbortedError('the party failed', [], { cause: e });
      this.send(err.outbound);
      this.fail(err, true);
      return;
    }
    this.send(out);
    if (this.party.status === 'done') this.succeed();
  }

  private send(msgs: readonly Message[]): void {
    for (const m of msgs) {
      const recipients = m.to === null ? this.peers : [m.to];
      this.opts.sender
        .send({ sessionId: m.sessionId, kind: KIND_TSS, round: m.round, to: m.to, payload: m.payload }, recipients)
        .catch((e: unknown) => this.abort(`sending to ${recipients.join(', ')} failed: ${(e as Error).message}`));
    }
  }

  private succeed(): void {
    if (this.ended) return;
    let r: R;
    try {
      r = this.party.result();
    } catch (e) {
      this.fail(new ProtocolAbortedError('the party has no result', [], { cause: e }), true);
      return;
    }
    this.finish();
    this.resolve(r);
  }

  private fail(e: RunnerFailure, notify: boolean): void {
    if (this.ended) return;
    if (this.party.status !== 'done' && this.party.status !== 'aborted') this.party.abort(e.message);
    this.finish();
    if (notify && this.peers.length > 0) {
      const blame = e instanceof ProtocolAbortedError ? e.blame : [];
      const reason = e instanceof ProtocolAbortedError ? e.reason : e.message;
      const payload = encodeControl({ type: 'abort', reason, blame });
      this.opts.sender
        .send({ sessionId: this.sessionId, kind: KIND_CONTROL, round: 0, to: null, payload }, this.peers)
        .catch(() => {});
    }
    this.log.warn({ session: this.sessionId, reason: e.message }, 'session ended without a result');
    this.reject(e);
  }

  private finish(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.opts.router.unregister(this.sessionId);
  }
}
