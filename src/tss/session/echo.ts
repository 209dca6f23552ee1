/**
 * Echo broadcast: after a broadcast round every party sends the digests of the broadcasts it
 * received; every party compares them with its own. A sender who showed different payloads to
 * different peers (equivocation) is detected and blamed.
 *
 * See {@link EchoCollector} for how disagreements are attributed.
 */
import { concat, taggedHash, utf8 } from '../math/hash.js';
import { ProtocolAbortedError } from './errors.js';

/** Bytes of one digest in an echo vector. */
export const ECHO_DIGEST_BYTES = 32;

/** Digest of one broadcast payload, bound to session, round and sender. Does not throw. */
export function broadcastDigest(sessionId: string, round: number, sender: string, payload: Uint8Array): Uint8Array {
  const r = new Uint8Array(2);
  new DataView(r.buffer).setUint16(0, round);
  return taggedHash('sha256', 'tessera/tss/echo/v1', utf8(sessionId), r, utf8(sender), payload);
}

/**
 * The echo vector: digests of the broadcasts of `senders` (in that order). Throws
 * ProtocolAbortedError if one is missing.
 */
export function echoVector(
  sessionId: string,
  round: number,
  senders: readonly string[],
  payloads: ReadonlyMap<string, Uint8Array>,
): Uint8Array {
  return concat(
    ...senders.map((s) => {
      const p = payloads.get(s);
      if (!p) throw new ProtocolAbortedError('missing broadcast for echo', [s]);
      return broadcastDigest(sessionId, round, s, p);
    }),
  );
}

/**
 * The echo verdict: an inconsistent broadcast. Its blame is a suspicion that may name honest
 * parties together with the culprit (see {@link EchoCollector}), so protocols must not punish on
 * it alone — e.g. DKLs23 signing does not burn OT pairs for it.
 */
export class EchoInconsistencyError extends ProtocolAbortedError {
  constructor(blame: readonly string[]) {
    super('inconsistent broadcast detected by echo (equivocation or a false echo)', blame);
  }
}

/**
 * Collects the echo vectors of one round and judges them together.
 *
 * A digest that differs from this party's own view for sender j, reported by echoer k, means
 * "j equivocated or k misreported": over point-to-point authenticated (unsigned) channels nobody
 * can tell which. The verdict is a **suspicion**, never proof:
 * - an echoer that misreports this party's own broadcast, or its own, is blamed alone (this party
 *   knows what it sent; k's echo of its own broadcast contradicts k's message);
 * - otherwise j is blamed together with every echoer that disagreed with this party about j — even
 *   when all of them report the same digest and nobody agrees with this party. (Blaming j alone in
 *   that case would let colluding echoers — all n−2 others, within the dishonest-majority model —
 *   frame an honest sender by misreporting its digest [3/R-3]; blaming a common echoer alone would
 *   let two colluding senders that equivocated towards one honest echoer frame it.) The blame thus
 *   always contains a culprit, at the price of naming honest echoers with it.
 * With signed broadcasts (node layer) the conflicting payloads are transferable evidence that
 * settles the question.
 */
export class EchoCollector {
  /** Both ends (sender and echoer) of every disagreement with this party's view about a third party's broadcast. */
  private readonly suspects = new Set<string>();
  /** Echoers that misreported this party's own broadcast or their own. */
  private readonly sure = new Set<string>();

  constructor(
    private readonly self: string,
    private readonly senders: readonly string[],
    private readonly mine: Uint8Array,
  ) {}

  /** Records `echoer`'s vector; a wrongly sized vector throws ProtocolAbortedError blaming the echoer. */
  add(echoer: string, theirs: Uint8Array): void {
    if (theirs.length !== this.mine.length) throw new ProtocolAbortedError('malformed echo', [echoer]);
    this.senders.forEach((s, i) => {
      const a = this.mine.subarray(i * ECHO_DIGEST_BYTES, (i + 1) * ECHO_DIGEST_BYTES);
      const b = theirs.subarray(i * ECHO_DIGEST_BYTES, (i + 1) * ECHO_DIGEST_BYTES);
      let same = true;
      for (let k = 0; k < ECHO_DIGEST_BYTES; k++) if (a[k] !== b[k]) same = false;
      if (same) return;
      if (s === this.self || s === echoer) this.sure.add(echoer);
      else {
        this.suspects.add(s);
        this.suspects.add(echoer);
      }
    });
  }

  /** Throws ProtocolAbortedError if any echo disagreed. */
  verdict(): void {
    if (this.suspects.size === 0 && this.sure.size === 0) return;
    const blame = this.sure.size > 0 ? this.sure : this.suspects;
    const order = (p: string) => this.senders.indexOf(p);
    const sorted = [...blame].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
    throw new EchoInconsistencyError(sorted);
  }
}
