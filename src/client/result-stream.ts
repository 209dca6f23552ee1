/**
 * One `results()` iterator: a bounded FIFO between the result consumers and the caller. When it
 * is full, `offer` returns a promise that settles once the caller has read enough to make room —
 * the client acks a result only then, so an unread iterator holds results in the stream (up to the
 * consumers' max ack pending) instead of in memory.
 */
import type { ResultEvent } from './outcomes.js';

export class ResultStream implements AsyncIterableIterator<ResultEvent> {
  private readonly items: ResultEvent[] = [];
  private readonly blocked: { event: ResultEvent; resume: () => void }[] = [];
  private readonly readers: ((r: IteratorResult<ResultEvent>) => void)[] = [];
  private ended = false;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: (s: ResultStream) => void,
    backlog: readonly ResultEvent[] = [],
  ) {
    this.items.push(...backlog);
  }

  /** Queues `event`; a promise if the buffer is full (it settles when there is room or the stream ends). Does not throw. */
  offer(event: ResultEvent): Promise<void> | undefined {
    if (this.ended) return undefined;
    const reader = this.readers.shift();
    if (reader) {
      reader({ value: event, done: false });
      return undefined;
    }
    if (this.blocked.length === 0 && this.items.length < this.capacity) {
      this.items.push(event);
      return undefined;
    }
    return new Promise((resume) => this.blocked.push({ event, resume }));
  }

  /** The next result, waiting for one; `done` once the iterator or the client is closed. Does not throw. */
  next(): Promise<IteratorResult<ResultEvent>> {
    const value = this.items.shift();
    if (value !== undefined) {
      while (this.blocked.length > 0 && this.items.length < this.capacity) {
        const b = this.blocked.shift()!;
        this.items.push(b.event);
        b.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.readers.push(resolve));
  }

  /** Ends the iterator (a `break` out of `for await` calls it): buffered results are dropped. Does not throw. */
  return(): Promise<IteratorResult<ResultEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the iterator: waiting readers get `done`, blocked offers resume. Does not throw. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.items.length = 0;
    for (const b of this.blocked.splice(0)) b.resume();
    for (const r of this.readers.splice(0)) r({ value: undefined, done: true });
    this.onEnd(this);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ResultEvent> {
    return this;
  }
}
