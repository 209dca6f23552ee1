/** Ordered delivery to a subscription's handler, shared by the bus implementations. */

/**
 * Wraps `handler` so that messages are handled one at a time in arrival order even when it is
 * async; a handler that throws or rejects does not stop the ones after it (as a NATS callback's
 * error does not), and nothing runs once `active()` is false. Does not throw.
 */
export function inOrder<M>(handler: (m: M) => void | Promise<void>, active: () => boolean): (m: M) => void {
  let chain: Promise<void> = Promise.resolve();
  return (m) => {
    chain = chain.then(async () => {
      if (!active()) return;
      try {
        await handler(m);
      } catch {
        // a failing handler must not stop the subscription
      }
    });
  };
}
