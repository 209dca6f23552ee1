import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../../src/common/bytes.js';
import { InvalidStateError } from '../../../src/common/errors.js';
import { generateNonce, SigningNonces } from '../../../src/tss/frost/signing-core.js';
import { ed25519Suite } from '../../../src/tss/frost/suite.js';
import { type Group, getGroup } from '../../../src/tss/group/index.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { frostDkg } from '../../helpers/protocol-runs.js';

const allZero = (b: Uint8Array) => b.every((x) => x === 0);
// the writer's internal buffer (grown buffers are zeroed as they are replaced)
const partsOf = (w: ByteWriter) => [(w as unknown as { buf: Uint8Array }).buf];

describe('secret temporaries are zeroed (L4)', () => {
  it('a ByteWriter zeroes its internal copies when it finishes, and is single-use', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const w = new ByteWriter().tag('t').u32(7).raw(secret).bytes(secret);
    const held = [...partsOf(w)];
    const out = w.finish();
    expect(out.length).toBe(4 + 1 + 4 + 32 + 4 + 32);
    expect(held.every(allZero)).toBe(true);
    expect(w.length).toBe(0);
    expect(Buffer.from(out.subarray(9, 41)).equals(Buffer.from(secret))).toBe(true); // the caller's copy is intact
    expect(() => w.finish()).toThrow(InvalidStateError);
    expect(() => w.u8(1)).toThrow(InvalidStateError);
  });

  it('FrostKeyShare.serialize leaves no copy of the secret share in the writer', () => {
    const share = frostDkg(['a', 'b', 'c'], 1, { seed: 'zeroize' }).get('a')!;
    const held: Uint8Array[] = [];
    const orig = ByteWriter.prototype.finish;
    ByteWriter.prototype.finish = function (this: ByteWriter) {
      held.push(...partsOf(this));
      return orig.call(this);
    };
    try {
      const bytes = share.serialize();
      expect(bytes.length).toBeGreaterThan(0);
    } finally {
      ByteWriter.prototype.finish = orig;
    }
    expect(held.length).toBeGreaterThan(0);
    expect(held.every(allZero)).toBe(true);
  });

  it('nonce generation zeroes its H3 input (random bytes ‖ secret share) and the nonce encodings', () => {
    const group = getGroup('ed25519', 'fast');
    const base = ed25519Suite(group);
    const inputs: Uint8Array[] = [];
    const suite = {
      ...base,
      H3: (m: Uint8Array) => {
        inputs.push(m);
        return base.H3(m);
      },
    };
    const n = generateNonce(suite, 123456789n, seededRng('nonce'));
    expect(n).toBeGreaterThan(0n);
    expect(inputs).toHaveLength(1);
    expect(allZero(inputs[0]!)).toBe(true);

    const encoded: Uint8Array[] = [];
    const spyGroup: Group = Object.create(group, {
      encodeScalar: {
        value: (s: bigint) => {
          const b = group.encodeScalar(s);
          encoded.push(b);
          return b;
        },
      },
    });
    const nonces = new SigningNonces({ ...base, group: spyGroup }, 5n, 7n);
    expect(encoded).toHaveLength(2);
    expect(encoded.every(allZero)).toBe(true);
    expect(nonces.consume()).toEqual({ hiding: 5n, binding: 7n });
  });
});
