/**
 * Group commit for the node's signing path (docs/node.md, "Durability rules"): the writes that must
 * be durable before the node's next message leaves — signing-log claims, request bindings, share
 * write-backs, audit entries — are committed without their own fsync (`durability: 'deferred'`),
 * and every message the node publishes (channel frames and hello answers on the bus, results on
 * the work queue) is held until every commit made before it was published is durable. One fsync of
 * the vault's log, on libuv's thread pool, covers every commit made since the previous one, and the
 * event loop goes on computing while it runs.
 *
 * Messages leave in the order they were published. A message published while nothing waits goes
 * out at once. A deferred write that no message follows (an observer's request binding) is flushed
 * as soon as the current turn of the event loop ends. If the vault cannot sync its log, nothing
 * held is ever published and the gate refuses every later message (the node must be restarted):
 * after a failed fsync nobody can tell which commits are on disk.
 */
import { InvalidStateError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { Bus, WorkQueue } from '../transport/index.js';
import type { Durability, Vault } from '../vault/index.js';

interface Held {
  /** The count of deferred commits written when the message was published. */
  readonly written: number;
  readonly run: () => void;
  readonly fail: (e: Error) => void;
}

export class OutboundGate {
  private readonly held: Held[] = [];
  private flushing = false;
  private failed: Error | undefined;

  constructor(
    private readonly vault: Vault,
    private readonly log: Logger,
    /** Called once when a sync failed (the node then stops serving). Must not throw. */
    private readonly onFailure: (e: Error) => void = () => {},
  ) {}

  /**
   * Runs a write of the signing path as deferred (`fn` gets the durability to pass to the vault),
   * then makes sure a flush follows. Returns and throws what `fn` does.
   */
  deferred<T>(fn: (durability: Durability) => T): T {
    try {
      return fn('deferred');
    } finally {
      this.kick();
    }
  }

  /** The bus with `publish` held behind the vault's deferred commits; the rest passes through. */
  bus(inner: Bus): Bus {
    return {
      publish: (subject, data, opts) =>
        this.submit(
          () => inner.publish(subject, data, opts),
          () => {},
        ),
      subscribe: (pattern, handler, opts) => inner.subscribe(pattern, handler, opts),
      request: (subject, data, opts) => inner.request(subject, data, opts),
      close: () => inner.close(),
    };
  }

  /** The work queue with `publish` held behind the vault's deferred commits; the rest passes through. */
  workQueue(inner: WorkQueue): WorkQueue {
    return {
      ensureStream: (cfg) => inner.ensureStream(cfg),
      publish: (subject, data, opts) =>
        new Promise((resolve, reject) =>
          this.submit(() => {
            inner.publish(subject, data, opts).then(resolve, reject);
          }, reject),
        ),
      consume: (cfg, handler, opts) => inner.consume(cfg, handler, opts),
      close: () => inner.close(),
    };
  }

  /**
   * Runs `run` now if no deferred commit waits and nothing is held (what `run` throws then goes to
   * the caller, as an unheld publish would), else once every commit made so far is durable, after
   * every message held before it. `fail` hears why a held message will never go.
   */
  private submit(run: () => void, fail: (e: Error) => void): void {
    if (this.failed) throw this.failed;
    const { written, durable } = this.vault.unflushed;
    if (this.held.length === 0 && durable >= written) {
      run();
      return;
    }
    this.held.push({ written, run, fail });
    this.kick();
  }

  /** Starts a flush at the end of this turn of the event loop if a deferred commit or a message waits. Does not throw. */
  private kick(): void {
    if (this.flushing || this.failed) return;
    const { written, durable } = this.vault.unflushed;
    if (durable >= written && this.held.length === 0) return;
    this.flushing = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    try {
      await this.vault.flush();
    } catch (e) {
      const closed = e instanceof InvalidStateError;
      this.failed = closed
        ? new InvalidStateError('the vault is closed: held messages were dropped')
        : new InvalidStateError(
            `the vault could not make its writes durable (${(e as Error).message}); nothing that depends on them is sent: restart the node`,
          );
      if (!closed)
        this.log.error(
          { err: (e as Error).message },
          'ALERT: syncing the vault failed; the node sends nothing more and stops: check the disk (or reboot the host) before restarting it',
        );
      for (const h of this.held.splice(0)) h.fail(this.failed);
      if (!closed) this.onFailure(this.failed);
      return;
    } finally {
      this.flushing = false;
    }
    const { durable } = this.vault.unflushed;
    while (this.held.length > 0 && this.held[0]!.written <= durable) {
      const h = this.held.shift()!;
      try {
        h.run();
      } catch (e) {
        // a held frame is lost like any frame on an at-most-once bus (the session times out)
        h.fail(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.kick();
  }
}
