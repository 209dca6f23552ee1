/**
 * JSON exactly as Go's `encoding/json` marshals it — the bytes mpcium's initiators sign (reference
 * §2.1). Go differs from `JSON.stringify` in what it escapes inside strings: `<`, `>` and `&` as
 * `\u003c`, `\u003e`, `\u0026`; U+2028 and U+2029 as `\u2028`, `\u2029`; `\b` and `\f` as `\b`, `\f`
 * (Go ≥ 1.22); other control characters as `\u00XX` with lower-case hex; a lone UTF-16 surrogate as
 * U+FFFD (what a Go node holds after decoding the request's `\udXXX` escape). Objects keep the field order the caller gives (Go's struct order).
 */
import { InvalidArgumentError } from '../common/errors.js';

/** A value Go would marshal: string, finite integer, boolean, null, array, or ordered fields. */
export type GoJsonValue = string | number | boolean | null | readonly GoJsonValue[] | GoJsonObject;

/** Fields in Go's struct order. */
export interface GoJsonObject {
  readonly [field: string]: GoJsonValue;
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** A JSON string literal as Go writes it. Does not throw. */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = ESCAPES[ch];
    const code = ch.charCodeAt(0);
    if (esc !== undefined) out += esc;
    // a lone surrogate: a Go node decoded the request's \udXXX escape to U+FFFD and writes it as is
    else if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) out += '\ufffd';
    else if (ch < ' ') out += `\\u00${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Go's `json.Marshal` of `v` (no spaces, fields in the given order). Throws `InvalidArgumentError`
 * for a number that is not a safe integer (the protocol's numbers are all integers).
 */
export function goJson(v: GoJsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new InvalidArgumentError('only integers are marshalled in the mpcium protocol');
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const fields = Object.entries(v as GoJsonObject);
  return `{${fields.map(([k, x]) => `${goJsonString(k)}:${goJson(x)}`).join(',')}}`;
}

/** Go's encoding of a `[]byte`: standard base64 with padding, or null for a nil slice. Does not throw. */
export function goBytes(b: Uint8Array | null | undefined): string | null {
  return b === null || b === undefined ? null : Buffer.from(b).toString('base64');
}
