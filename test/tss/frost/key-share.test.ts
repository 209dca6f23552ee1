import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import {
  decodeKeyPublic,
  deserializeKeyPublic,
  FrostKeyShare,
  serializeKeyPublic,
} from '../../../src/tss/frost/key-share.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { frostDkg, names } from '../../helpers/protocol-runs.js';

const parts = names(3);
const shares = frostDkg(parts, 1, { seed: 'ks' });
const share = shares.get(parts[1]!)!;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('FROST key share object', () => {
  it('carries key type, threshold, participants, own identifier, verifying shares, group key and version', () => {
    expect(share.keyType).toBe('ed25519');
    expect(share.threshold).toBe(1);
    expect(share.participants).toEqual(parts);
    expect(share.self).toBe(parts[1]);
    expect(share.version).toBe(1);
    expect(share.identifier).toBeGreaterThan(0n);
    expect(share.public.verifyingShares.size).toBe(3);
    expect(share.groupPublicKey).toHaveLength(32);
  });

  it('serialization round-trips byte for byte and the same on both backends', () => {
    const bytes = share.serialize();
    for (const backend of ['noble', 'fast'] as const) {
      const back = FrostKeyShare.deserialize(bytes, getGroup('ed25519', backend));
      expect(hex(back.serialize())).toBe(hex(bytes));
      expect(back.sameSecretAs(share)).toBe(true);
    }
    const pub = serializeKeyPublic(share.public);
    expect(hex(serializeKeyPublic(deserializeKeyPublic(pub)))).toBe(hex(pub));
  });

  it('a damaged secret share, verifying share or group key, a truncation or an extension is refused', () => {
    const bytes = share.serialize();
    const tail = 32 + 32 * 3 + 32; // secret, verifying shares, group key
    fc.assert(
      fc.property(
        fc.integer({ min: bytes.length - tail, max: bytes.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (pos, x) => {
          const bad = Uint8Array.from(bytes);
          bad[pos] = bad[pos]! ^ x;
          expect(() => FrostKeyShare.deserialize(bad)).toThrow(InvalidArgumentError);
        },
      ),
      { numRuns: 60 },
    );
    fc.assert(
      fc.property(fc.nat(), (cut) => {
        expect(() => FrostKeyShare.deserialize(bytes.subarray(0, cut % bytes.length))).toThrow(InvalidArgumentError);
      }),
      { numRuns: 60 },
    );
    expect(() => FrostKeyShare.deserialize(Uint8Array.from([...bytes, 0]))).toThrow(InvalidArgumentError);
  });

  it('a share whose secret does not match its verifying share, or whose owner is not a participant, is refused', () => {
    const other = shares.get(parts[0]!)!;
    const g = getGroup('ed25519');
    expect(() => FrostKeyShare.create(share.public, parts[1]!, g.encodeScalar(other.secretScalar(g)))).toThrow(
      /does not match/,
    );
    expect(() => FrostKeyShare.create(share.public, 'stranger', g.encodeScalar(share.secretScalar(g)))).toThrow(
      /not a participant/,
    );
    for (const threshold of [0, 3])
      expect(() =>
        FrostKeyShare.create({ ...share.public, threshold }, parts[1]!, g.encodeScalar(share.secretScalar(g))),
      ).toThrow(/threshold/);
  });

  it('decoded packages are cached by content: a changed package is validated afresh, never served a stale decoding', () => {
    const copy = FrostKeyShare.deserialize(share.serialize());
    const g = getGroup('ed25519');
    expect(decodeKeyPublic(copy.public, g).groupPublicKey).toBeDefined();
    const tampered = { ...copy.public, verifyingShares: new Map(copy.public.verifyingShares) };
    tampered.verifyingShares.set(parts[0]!, copy.public.verifyingShares.get(parts[2]!)!);
    expect(() => decodeKeyPublic(tampered, g)).toThrow(/verifying shares/);
  });

  it('dispose zeroes the secret: the share can no longer be used or serialized', () => {
    const copy = FrostKeyShare.deserialize(share.serialize());
    copy.dispose();
    expect(copy.isDisposed).toBe(true);
    expect(() => copy.serialize()).toThrow(InvalidStateError);
    expect(() => copy.secretScalar(getGroup('ed25519'))).toThrow(InvalidStateError);
    copy.dispose();
  });
});

describe('parsers never crash on arbitrary bytes', () => {
  it('random or mangled bytes make FrostKeyShare.deserialize and deserializeKeyPublic throw InvalidArgumentError, nothing else', () => {
    const good = share.serialize();
    const pub = serializeKeyPublic(share.public);
    const mangled = (b: Uint8Array) =>
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const c = Uint8Array.from(b);
          c[i % c.length] = c[i % c.length]! ^ x;
          return c;
        }),
      );
    fc.assert(
      fc.property(mangled(good), mangled(pub), (a, b) => {
        for (const [fn, bytes] of [
          [() => FrostKeyShare.deserialize(a), a],
          [() => deserializeKeyPublic(b), b],
        ] as const) {
          try {
            fn();
          } catch (e) {
            expect(e, `bytes ${Buffer.from(bytes).toString('hex').slice(0, 40)}`).toBeInstanceOf(InvalidArgumentError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
