/**
 * Echo broadcast: after a broadcast round every party sends the digests of the broadcasts it
 * received; every party compares them with its own. A sender who showed different payloads to
 * different peers (equivocation) is detected and blamed.
 *
 * See {@link EchoCollector} for how disagreements are attributed.
 */
import { concat, taggedDigest, utf8 } from '../math/hash.js';
import { ProtocolAbortedError } from './errors.js';

/** Bytes of one digest in an echo vector. */
export const ECHO_DIGEST_BYTES = 32;

/** Digest of one broadcast payload, bound to session, round and sender. */
export function broadcastDigest(sessionId: string, round: number, sender: string, payload: Uint8Array): Uint8Array {
  const r = new Uint8Array(2);
  new DataView(r.buffer).setUint16(0, round);
  return taggedDigest('tessera/tss/echo/v1', utf8(sessionId), r, utf8(sender), payload);
}

/** The echo vector: digests of the broadcasts of `senders` (in that order). Throws ProtocolAbortedError if one is missing. */
export function echoVector(sessionId: string, round: number, senders: readonly string[], payloads: ReadonlyMap<string, Uint8Array>): Uint8Array {
  return concat(
    ...senders.map((s) => {
      const p = payloads.get(s);
      if (!p) throw new ProtocolAbortedError('missing broadcast for echo', [s]);
      return broadcastDigest(sessionId, round, s, p);
    }),
  );
}

/**
 * Collects the echo vectors of one round and judges them together.
 *
 * A digest that differs from this party's own view for sender j, reported by echoer k, means
 * "j equivocated or k misreported": over point-to-point authenticated channels nobody can tell
 * which. The verdict blames the smallest explanation: a party present in every disagreement
 * (e.g. j when several echoers disagree about j, or k when k disagrees about several senders)
 * alone; otherwise both ends of every disagreement. A wrong digest about this party's own
 * broadcast is blamed on the echoer alone. With signed broadcasts (node layer) the conflicting
 * payloads are transferable evidence that settles the question.
 */
export class EchoCollector {
  private readonly pairs: [string, string][] = [];
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
      else this.pairs.push([s, echoer]);
    });
  }

  /** Throws ProtocolAbortedError if any echo disagreed. */
  verdict(): void {
    if (this.pairs.length === 0 && this.sure.size === 0) return;
    let blame: string[];
    if (this.sure.size > 0) blame = [...this.sure];
    else {
      const common = [...new Set(this.pairs.flat())].filter((p) => this.pairs.every((pair) => pair.includes(p)));
      blame = common.length === 1 ? common : [...new Set(this.pairs.flat())];
    }
    const order = (p: string) => this.senders.indexOf(p);
    blame.sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
    throw new ProtocolAbortedError('inconsistent broadcast detected by echo (equivocation or a false echo)', blame);
  }
}
