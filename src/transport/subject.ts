/**
 * NATS subject syntax: dot-separated tokens; in a subscription `*` matches one token and `>` the
 * rest (one or more tokens). The memory transports match subjects exactly as NATS does.
 */
import { InvalidArgumentError } from '../common/errors.js';

/** Checks a subject to publish on (no wildcards, no empty token, no whitespace). Throws `InvalidArgumentError`. */
export function checkPublishSubject(subject: string): void {
  if (typeof subject !== 'string' || subject.length === 0 || /\s/.test(subject))
    throw new InvalidArgumentError('a subject is a non-empty string without whitespace');
  for (const t of subject.split('.')) {
    if (t.length === 0 || t === '*' || t === '>')
      throw new InvalidArgumentError(`cannot publish to '${subject}': empty or wildcard token`);
  }
}

/** Checks a subscription pattern (`>` only as the last token). Throws `InvalidArgumentError`. */
export function checkPattern(pattern: string): void {
  if (typeof pattern !== 'string' || pattern.length === 0 || /\s/.test(pattern))
    throw new InvalidArgumentError('a subject pattern is a non-empty string without whitespace');
  const tokens = pattern.split('.');
  tokens.forEach((t, i) => {
    if (t.length === 0) throw new InvalidArgumentError(`subject pattern '${pattern}' has an empty token`);
    if (t === '>' && i !== tokens.length - 1)
      throw new InvalidArgumentError(`'>' must be the last token of '${pattern}'`);
  });
}

/** True if `subject` matches the subscription `pattern`. Does not throw. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
