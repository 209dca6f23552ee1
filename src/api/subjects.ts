/**
 * mpcium's NATS names (reference §1.1, §1.4): request streams and subjects, the result stream,
 * result subjects scoped by client id, consumer names, and the id rules that keep subjects intact.
 */
import { InvalidArgumentError } from '../common/errors.js';

export const KEYGEN_STREAM = 'mpc-keygen';
export const KEYGEN_REQUEST_SUBJECTS = ['mpc.keygen_request.*'] as const;
export const SIGNING_STREAM = 'mpc-signing';
export const SIGNING_REQUEST_SUBJECTS = ['mpc.signing_request.*'] as const;
/** Reshare requests travel on core NATS (no stream) in mpcium. */
export const RESHARE_REQUEST_SUBJECT = 'mpc:reshare';
export const RESULT_STREAM = 'mpc';
export const RESULT_SUBJECTS = [
  'mpc.mpc_keygen_result.>',
  'mpc.mpc_signing_result.>',
  'mpc.mpc_reshare_result.>',
] as const;
/** The durable names of the request consumers every node shares (one node takes each request). */
export const KEYGEN_CONSUMER = 'mpc_keygen_consumer';
export const SIGNING_CONSUMER = 'mpc_signing_consumer';
/** Request header a client sets to have its results scoped to it. */
export const CLIENT_ID_HEADER = 'ClientID';
/**
 * Request header a client sets to also get its result on core NATS, on this subject (mpcium PR
 * #142: synchronous results). See {@link validateReplySubject}.
 */
export const REPLY_TO_HEADER = 'Mpc-Reply-To';
/** The longest `Mpc-Reply-To` subject a node answers on (bytes). */
export const MAX_REPLY_SUBJECT_BYTES = 256;

export type Operation = 'keygen' | 'signing' | 'reshare';

const RESULT_PREFIX: Record<Operation, string> = {
  keygen: 'mpc.mpc_keygen_result',
  signing: 'mpc.mpc_signing_result',
  reshare: 'mpc.mpc_reshare_result',
};

/**
 * Checks an id that becomes a subject token (wallet id, tx id, session id, client id): 1 to 256
 * bytes, no whitespace or control character, none of `.`, `*`, `>` (a `.` adds a token and the
 * result would sit unconsumed; `*` and `>` are wildcards) and none of `"{}[]\` (see below). Throws
 * `InvalidArgumentError` naming `what`.
 */
export function validateSubjectToken(what: string, id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > 256) {
    throw new InvalidArgumentError(`${what} must be a string of 1 to 256 bytes`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (/[\s\u0000-\u001f\u007f.*>]/u.test(id)) {
    throw new InvalidArgumentError(`${what} must not contain whitespace, control characters, '.', '*' or '>'`);
  }
  // A keygen signs the bare wallet id and a signing or reshare request signs JSON: an id holding
  // JSON's structure characters could be the signed bytes of another request type, and reuse its
  // signature (the same holds for mpcium). Ids never need them.
  if (/["{}[\]\\]/.test(id)) throw new InvalidArgumentError(`${what} must not contain '"', '{', '}', '[', ']' or '\\'`);
  return id;
}

/**
 * Checks an `Mpc-Reply-To` subject, which a node publishes a result to on behalf of whoever sent
 * the request (the header is not signed): a publish subject of 1 to {@link MAX_REPLY_SUBJECT_BYTES}
 * bytes of visible ASCII (no whitespace, control or non-ASCII character), no empty token, no
 * wildcard (`*` or `>` anywhere in a token); not a NATS service subject (a first token starting
 * with `$`: `$JS.`, `$KV.`, `$SYS.`, …), not in mpcium's namespace (first token `mpc` or starting
 * with `mpc:`: request and result streams would store the reply, `mpc:reshare` would take it as a
 * request), and not under any of `reservedPrefixes` (whole tokens: the node's own channel and
 * inbox subjects). Use an inbox (`_INBOX.<random>`). Throws `InvalidArgumentError` (its message
 * does not repeat the subject).
 */
export function validateReplySubject(subject: unknown, reservedPrefixes: readonly string[] = []): string {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_REPLY_SUBJECT_BYTES) {
    throw new InvalidArgumentError(`a reply subject is a string of 1 to ${MAX_REPLY_SUBJECT_BYTES} bytes`);
  }
  if (!/^[\x21-\x7e]+$/.test(subject)) {
    throw new InvalidArgumentError('a reply subject holds visible ASCII only (no whitespace or control character)');
  }
  const tokens = subject.split('.');
  if (tokens.some((t) => t.length === 0 || t.includes('*') || t.includes('>'))) {
    throw new InvalidArgumentError('a reply subject has no empty token and no wildcard');
  }
  const first = tokens[0]!;
  if (first.startsWith('$')) throw new InvalidArgumentError('a reply subject is not a NATS service subject ($…)');
  if (first === 'mpc' || first.startsWith('mpc:')) {
    throw new InvalidArgumentError("a reply subject is not in mpcium's namespace (mpc.…, mpc:…)");
  }
  for (const prefix of reservedPrefixes) {
    const p = prefix.split('.');
    if (p.length <= tokens.length && p.every((t, i) => t === tokens[i])) {
      throw new InvalidArgumentError("a reply subject is not under the node's own subjects");
    }
  }
  return subject;
}

/** The subject a client publishes a keygen or signing request to (any single token after the prefix works). Throws `InvalidArgumentError` on a bad id. */
export function requestSubject(op: 'keygen' | 'signing', id: string): string {
  validateSubjectToken(op === 'keygen' ? 'wallet_id' : 'tx_id', id);
  return `${op === 'keygen' ? 'mpc.keygen_request' : 'mpc.signing_request'}.${id}`;
}

/**
 * Where a result is published: `prefix[.<clientId>].<tail>`, the tail being the wallet id
 * (keygen), `complete` (signing) or the session id (reshare). Throws `InvalidArgumentError` on a
 * bad id.
 */
export function resultSubject(op: Operation, id: string, clientId?: string): string {
  if (clientId !== undefined && clientId !== '') validateSubjectToken('client id', clientId);
  const tail = op === 'signing' ? 'complete' : validateSubjectToken(op === 'keygen' ? 'wallet_id' : 'session_id', id);
  const scope = clientId ? `.${clientId}` : '';
  return `${RESULT_PREFIX[op]}${scope}.${tail}`;
}

/**
 * The `Nats-Msg-Id` of a result: the result prefix and the scoped operation id
 * (`<clientId>:<id>`, or `<id>`), so every node's copy of one result deduplicates to one, and a
 * success and an error of one operation share it (the first wins). Does not throw.
 */
export function resultMessageId(op: Operation, id: string, clientId?: string): string {
  return `${RESULT_PREFIX[op]}.${clientId ? `${clientId}:` : ''}${id}`;
}

/**
 * The `Nats-Msg-Id` of an error result for a request that failed *before* it was authenticated
 * (malformed, bad signature) or that no node answered (`ERROR_MAX_DELIVERY_ATTEMPTS`): derived from
 * the request bytes, never from the ids the request claims — otherwise anyone could publish a bogus
 * request with a victim's tx id and have JetStream drop the real result as a duplicate.
 * `requestDigestHex` is the SHA-256 of the request bytes; a request's client id scopes it
 * (`…unauthenticated:<clientId>:<digest>`), as it scopes every other result id: JetStream deduplicates
 * across the whole stream, so the same bytes sent under another client id must not take this one's
 * place. Every form starts with `unauthenticatedResultMessageId(op, '')`. Does not throw.
 */
export function unauthenticatedResultMessageId(op: Operation, requestDigestHex: string, clientId?: string): string {
  return `${RESULT_PREFIX[op]}.unauthenticated:${clientId ? `${clientId}:` : ''}${requestDigestHex}`;
}

/** mpcium's consumer-name sanitising: `. : space -` → `_`, `>` → `all`, `*` → `any`, a leading non-letter gets `_`. Does not throw. */
export function sanitizeConsumerName(name: string): string {
  let s = name
    .replace(/[.: -]/g, '_')
    .replace(/>/g, 'all')
    .replace(/\*/g, 'any');
  if (!/^[A-Za-z_]/.test(s)) s = `_${s}`;
  return s;
}

/** The durable name and filter subject of a client's result consumer. Throws `InvalidArgumentError` on a bad client id. */
export function resultConsumer(op: Operation, clientId?: string): { durable: string; filter: string } {
  if (clientId !== undefined && clientId !== '') validateSubjectToken('client id', clientId);
  const base = RESULT_PREFIX[op].replace(/^mpc\./, '');
  const scope = clientId ? `.${clientId}` : '';
  const tail = op === 'signing' ? 'complete' : '*';
  return {
    durable: sanitizeConsumerName(clientId ? `${base}.${clientId}` : base),
    filter: `${RESULT_PREFIX[op]}${scope}.${tail}`,
  };
}
