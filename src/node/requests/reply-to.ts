/**
 * Synchronous results (mpcium PR #142, reference §11): a request whose headers carry
 * `Mpc-Reply-To: <subject>` gets its result on that core-NATS subject too, besides the result
 * stream — the same bytes, with the result's `Nats-Msg-Id` as a header so that a client applies the
 * same matching rules as to the stream copy. The header is not covered by any signature: whoever
 * can publish a request chooses it, so a node answers only on subjects that pass
 * `validateReplySubject` (no wildcard, ≤ 256 bytes, none of NATS's `$…` service subjects, nothing
 * in mpcium's `mpc` namespace, nothing under the node's own channel and inbox subjects) and start
 * with an allowed prefix (`tessera.reply_subject_prefixes`, default `_INBOX.`). An invalid subject
 * is logged and ignored; the result still goes to the stream.
 */
import { type Operation, REPLY_TO_HEADER, validateReplySubject } from '../../api/index.js';
import type { Logger } from '../../common/log.js';
import type { Bus } from '../../transport/index.js';

/** Prefix of the request inboxes of a node on NATS (mpcium uses `_INBOX_mpcium`); never a reply subject. */
export const NODE_INBOX_PREFIX = '_INBOX_tessera';

/**
 * Where replies may go by default: client inboxes (nats.js and Go clients' `_INBOX.`). An allow-list,
 * not only the deny-list of `validateReplySubject`: a node publishes wherever a client names, and
 * the node's NATS user may publish widely (review 16/F6).
 */
export const DEFAULT_REPLY_PREFIXES: readonly string[] = ['_INBOX.'];

/** The most of a refused header value a log line shows. */
const LOGGED_CHARS = 80;

/**
 * The reply subject a request asks for, or undefined when it asks for none or for one the node
 * refuses (logged at warn, with the start of the value). `reserved`: the node's own subject
 * prefixes. Does not throw.
 */
export function replySubjectOf(
  headers: ReadonlyMap<string, string>,
  reserved: readonly string[],
  log: Logger,
  op: Operation,
  allowed: readonly string[] = DEFAULT_REPLY_PREFIXES,
): string | undefined {
  const value = headers.get(REPLY_TO_HEADER);
  if (value === undefined || value === '') return undefined;
  try {
    const subject = validateReplySubject(value, reserved);
    if (!allowed.some((p) => subject.startsWith(p)))
      throw new Error(`not under an allowed reply prefix (${allowed.join(', ')}; tessera.reply_subject_prefixes)`);
    return subject;
  } catch (e) {
    log.warn(
      {
        op,
        header: REPLY_TO_HEADER,
        value: String(value).slice(0, LOGGED_CHARS),
        length: String(value).length,
        reason: (e as Error).message,
      },
      'ignored a reply subject the node does not answer on; the result goes to the result stream only',
    );
    return undefined;
  }
}

/**
 * Publishes a result on its request's reply subject (core NATS, at most once): `data` are the
 * bytes published to the result stream, `msgId` their `Nats-Msg-Id`. Does not throw (a failure is
 * logged; the stream copy stands).
 */
export function sendReply(
  bus: Bus,
  log: Logger,
  op: Operation,
  subject: string,
  data: Uint8Array,
  msgId: string,
): void {
  try {
    bus.publish(subject, data, { headers: { 'Nats-Msg-Id': msgId } });
    log.debug({ op, subject, msgId }, 'result sent to the reply subject');
  } catch (e) {
    log.warn({ op, subject, err: (e as Error).message }, 'sending a result to its reply subject failed');
  }
}
