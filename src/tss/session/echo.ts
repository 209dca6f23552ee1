/**
 * Echo broadcast: after a broadcast round every party sends the digests of the broadcasts it
 * received; every party compares them with its own. A sender who showed different payloads to
 * different peers (equivocation) is detected and blamed.
 *
 * Limitation: without signatures on broadcasts a malicious echoer could report a wrong digest for
 * an honest sender and get that sender blamed. The node layer signs broadcasts (DESIGN.md, Node),
 * which makes every conflicting echo checkable evidence. A wrong digest about this party's own
 * broadcast is blamed on the echoer.
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

/** The echo vector: digests of the broadcasts of `senders` (in that order). */
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
 * Compares an echo vector received from `echoer` with this party's own. Throws
 * ProtocolAbortedError naming the equivocating senders.
 */
export function checkEcho(self: string, echoer: string, senders: readonly string[], mine: Uint8Array, theirs: Uint8Array): void {
  if (theirs.length !== mine.length) throw new ProtocolAbortedError('malformed echo', [echoer]);
  const blame = new Set<string>();
  senders.forEach((s, i) => {
    const a = mine.subarray(i * ECHO_DIGEST_BYTES, (i + 1) * ECHO_DIGEST_BYTES);
    const b = theirs.subarray(i * ECHO_DIGEST_BYTES, (i + 1) * ECHO_DIGEST_BYTES);
    let same = true;
    for (let k = 0; k < ECHO_DIGEST_BYTES; k++) if (a[k] !== b[k]) same = false;
    if (!same) blame.add(s === self ? echoer : s);
  });
  if (blame.size > 0) throw new ProtocolAbortedError('inconsistent broadcast (equivocation) detected by echo', [...blame]);
}
