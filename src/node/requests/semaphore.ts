/** A counting semaphore with a FIFO queue: at most `limit` tasks run at once (mpcium's `max_concurrent_*`). */
import { InvalidArgumentError } from '../../common/errors.js';

export class Semaphore {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  /** Throws `InvalidArgumentError` unless `limit` is a positive integer. */
  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new InvalidArgumentError('a semaphore limit is a positive integer');
  }

  /** Tasks waiting for a slot. Does not throw. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Tasks running now. Does not throw. */
  get active(): number {
    return this.running;
  }

  /** Runs `task` once a slot is free; settles as the task does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((res) => this.queue.push(res));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}
