import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goBytes, goJson, goJsonString } from '../../src/api/index.js';

describe("Go's encoding/json, byte for byte", () => {
  it('escapes what Go escapes: <, > and & as \\u003c \\u003e \\u0026, U+2028/9, \\b \\f \\n \\r \\t, other controls as \\u00xx', () => {
    expect(goJsonString('<a&b>')).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(goJsonString('line\nbreak\ttab\r')).toBe('"line\\nbreak\\ttab\\r"');
    expect(goJsonString('\b\f')).toBe('"\\b\\f"');
    expect(goJsonString('\u0001\u001f')).toBe('"\\u0001\\u001f"');
    expect(goJsonString('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(goJsonString('quote " and back \\ slash')).toBe('"quote \\" and back \\\\ slash"');
  });

  it('keeps DEL, non-ASCII and U+FFFD as they are, and writes a lone surrogate as U+FFFD (what a Go node decoded it to)', () => {
    expect(goJsonString('\u007fé€😀\ufffd')).toBe('"\u007fé€😀\ufffd"');
    expect(goJsonString('a\ud800b')).toBe('"a\ufffdb"');
  });

  it('keeps the field order given (Go struct order), writes integers, null, booleans and arrays without spaces', () => {
    expect(goJson({ z: 1, a: [1, 2], m: null, t: true, s: 'x' })).toBe('{"z":1,"a":[1,2],"m":null,"t":true,"s":"x"}');
    expect(() => goJson({ x: 1.5 })).toThrow(/integers/);
  });

  it('writes []byte as standard base64 with padding and a nil slice as null', () => {
    expect(goBytes(Uint8Array.of(0, 1, 2, 3))).toBe('AAECAw==');
    expect(goBytes(null)).toBe(null);
  });

  it('every string round-trips through JSON.parse to its well-formed form (fast-check)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(JSON.parse(goJsonString(s))).toBe(s.toWellFormed());
      }),
    );
  });
});
