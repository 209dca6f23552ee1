/**
 * A protocol party whose state is written to durable storage before any of its messages can be
 * sent — the rule for DKLs23 key shares, whose OT counters move on with every signing
 * (docs/ecdsa.md, "What the node must do").
 */
import { InvalidStateError, TesseraError } from '../../common/errors.js';
import { errorCode, ProtocolAbortedError } from './errors.js';
import type { Message } from './message.js';
import type { PartyStatus, ProtocolParty } from './party.js';

/**
 * Wraps `party` so that `checkpoint()` runs after every `start()`, `receive()` and
 * `receiveBytes()` — also when the call throws (an abort may have burnt OT pairs) — and before the
 * caller gets the messages. If `checkpoint` throws, the messages are withheld, the inner party is
 * aborted (its secrets wiped) and the wrapper throws a `ProtocolAbortedError` (no blame) that
 * carries no outbound messages: what was not persisted is never sent; a `TesseraError` thrown by
 * the checkpoint is its `cause` (for a DKLs23 share: `BurnNotPersistedError` means a burnt OT pair
 * is not durable yet — docs/ecdsa.md, "What the node must do"). Does not throw itself.
 */
export function checkpointed<R>(party: ProtocolParty<R>, checkpoint: () => void): ProtocolParty<R> {
  return new CheckpointedParty(party, checkpoint);
}

class CheckpointedParty<R> implements ProtocolParty<R> {
  private failed: ProtocolAbortedError | undefined;

  constructor(
    private readonly inner: ProtocolParty<R>,
    private readonly checkpoint: () => void,
  ) {}

  get sessionId(): string {
    return this.inner.sessionId;
  }
  get self(): string {
    return this.inner.self;
  }
  get participants(): readonly string[] {
    return this.inner.participants;
  }
  get status(): PartyStatus {
    return this.failed ? 'aborted' : this.inner.status;
  }
  get abortError(): ProtocolAbortedError | undefined {
    return this.failed ?? this.inner.abortError;
  }

  start(): Message[] {
    return this.step(() => this.inner.start());
  }
  receive(msg: Message, authenticatedSender?: string): Message[] {
    return this.step(() => this.inner.receive(msg, authenticatedSender));
  }
  receiveBytes(authenticatedSender: string, bytes: Uint8Array): Message[] {
    return this.step(() => this.inner.receiveBytes(authenticatedSender, bytes));
  }
  abort(reason: string): void {
    this.inner.abort(reason);
  }

  /** The inner party's result. Throws `InvalidStateError` unless it is done and its last step was persisted. */
  result(): R {
    if (this.failed) throw new InvalidStateError('the session did not complete: its state could not be persisted');
    return this.inner.result();
  }

  private step(f: () => Message[]): Message[] {
    if (this.failed) throw this.failed;
    let out: Message[];
    try {
      out = f();
    } catch (e) {
      this.persist();
      throw e;
    }
    this.persist();
    return out;
  }

  private persist(): void {
    try {
      this.checkpoint();
    } catch (e) {
      // Tessera's own errors (e.g. a share checkpoint's BurnNotPersistedError, which the node must
      // act on) travel as the cause; a foreign error only by its code (its message may name paths).
      const cause = e instanceof TesseraError ? { cause: e } : undefined;
      this.failed = new ProtocolAbortedError(
        `the party's state could not be persisted (${errorCode(e)}); nothing of this step was sent`,
        [],
        cause,
      );
      this.inner.abort(this.failed.reason);
      throw this.failed;
    }
  }
}
