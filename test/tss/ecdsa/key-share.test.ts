import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import { deserializeEcdsaKeyPublic, EcdsaKeyShare, serializeEcdsaKeyPublic } from '../../../src/tss/ecdsa/key-share.js';
import { EcdsaOtResetupParty } from '../../../src/tss/ecdsa/ot-resetup.js';
import { EcdsaSignParty } from '../../../src/tss/ecdsa/sign.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, ecdsaSignRun, names } from '../../helpers/protocol-runs.js';
import { clone, sha256 } from './protocol-helpers.js';

const P = names(3);
const keys = ecdsaDkg(P, 1, { seed: 'ks' });
const other = ecdsaDkg(P, 1, { seed: 'ks-other' });
const bytes = keys.get('node-1')!.serialize();

describe('ECDSA key share serialization', () => {
  it('round-trips canonically (serialize ∘ deserialize is the identity) for every member', () => {
    for (const k of keys.values()) {
      const b = k.serialize();
      const back = EcdsaKeyShare.deserialize(b);
      expect(back.serialize()).toEqual(b);
      expect(back.groupPublicKey).toEqual(k.groupPublicKey);
      expect(back.secretScalar()).toBe(k.secretScalar());
      expect(back.participants).toEqual(P);
    }
  });

  it('any mutated, truncated or extended encoding is refused with InvalidArgumentError or decodes to exactly itself (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
          fc.record({
            kind: fc.constant('flip-header' as const),
            pos: fc.nat({ max: 400 }),
            xor: fc.integer({ min: 1, max: 255 }),
          }),
          fc.record({ kind: fc.constant('truncate' as const), cut: fc.nat() }),
          fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
        ),
        (mu) => {
          let b = Uint8Array.from(bytes);
          if (mu.kind === 'flip' || mu.kind === 'flip-header') b[mu.pos % b.length] = b[mu.pos % b.length]! ^ mu.xor;
          else if (mu.kind === 'truncate') b = b.subarray(0, mu.cut % b.length);
          else b = Uint8Array.from([...b, ...mu.extra]);
          let decoded: EcdsaKeyShare | undefined;
          try {
            decoded = EcdsaKeyShare.deserialize(b);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidArgumentError);
          }
          // Secret-free random bytes (OT seeds, zero seeds) cannot be authenticated here; the vault's AEAD does that.
          if (decoded) expect(decoded.serialize()).toEqual(b);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a changed secret share, public share or group key is refused', () => {
    const k = keys.get('node-1')!;
    const pub = k.public;
    const s = k.secretScalar();
    const enc = (x: bigint) => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
    const peers = new Map(k.peers);
    expect(() => EcdsaKeyShare.fromParts(pub, 'node-1', enc(s + 1n), peers)).toThrow(InvalidArgumentError);
    const wrongShares = new Map(pub.publicShares);
    wrongShares.set('node-2', pub.publicShares.get('node-3')!);
    expect(() => EcdsaKeyShare.fromParts({ ...pub, publicShares: wrongShares }, 'node-1', enc(s), peers)).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      EcdsaKeyShare.fromParts({ ...pub, groupPublicKey: pub.publicShares.get('node-2')! }, 'node-1', enc(s), peers),
    ).toThrow(InvalidArgumentError);
  });

  it('OT state from another setup (another DKG session or participant set) is refused', () => {
    const mine = keys.get('node-1')!;
    const foreign = other.get('node-1')!.peers.get('node-2')!.ot!;
    expect(() => mine.installPair('node-2', mine.peers.get('node-2')!.otSetupId, foreign)).toThrow(
      InvalidArgumentError,
    );
    const reversed = other.get('node-2')!.peers.get('node-1')!.ot!;
    expect(() => mine.installPair('node-2', other.get('node-1')!.peers.get('node-2')!.otSetupId, reversed)).toThrow(
      InvalidArgumentError,
    );
  });

  it('shares of different key generations (same party ids) cannot sign together: the signing context differs and the sender is blamed', () => {
    const mixed = clone(keys);
    mixed.set('node-2', clone(other).get('node-2')!);
    const rep = ecdsaSignRun(mixed, ['node-1', 'node-2'], sha256(new Uint8Array(1)), { seed: 'mix' });
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    expect(rep.aborts.get('node-1')?.blame).toEqual(['node-2']);
    expect(rep.aborts.get('node-1')?.reason).toMatch(/signing context differs/);
  });

  it('dispose zeroizes: the share can no longer be used, serialized or sign', () => {
    const k = clone(keys).get('node-1')!;
    const seed = k.peers.get('node-2')!.zeroSeed;
    k.dispose();
    expect(seed.every((b) => b === 0)).toBe(true);
    expect(() => k.serialize()).toThrow(InvalidStateError);
    expect(() => k.secretScalar()).toThrow(InvalidStateError);
    expect(
      () =>
        new EcdsaSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: 'node-1',
          signers: P,
          keyShare: k,
          digest: new Uint8Array(32),
        }),
    ).toThrow(InvalidStateError);
  });

  it('after a restore, requireResetup() burns every pair: the share is persisted as such, refuses to sign, and signs again after an OT re-setup [5/R-G]', () => {
    const ks = clone(keys);
    const restored = ks.get('node-1')!;
    expect(restored.requireResetup()).toEqual(['node-2', 'node-3']);
    expect(restored.requireResetup()).toEqual([]);
    expect(restored.burntPeers()).toEqual(['node-2', 'node-3']);
    expect(restored.unpersistedBurns()).toEqual(['node-2', 'node-3']);
    const back = EcdsaKeyShare.deserialize(restored.serialize());
    expect(back.burntPeers()).toEqual(['node-2', 'node-3']);
    expect(back.unpersistedBurns()).toEqual([]); // as loaded: the stored state is the durable one
    restored.markPersisted();
    expect(restored.unpersistedBurns()).toEqual([]);
    expect(
      () =>
        new EcdsaSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: 'node-1',
          signers: ['node-1', 'node-2'],
          keyShare: restored,
          digest: sha256(Uint8Array.of(1)),
        }),
    ).toThrow(InvalidStateError);
    const re = runParties(
      ['node-1', 'node-2'].map(
        (self) =>
          new EcdsaOtResetupParty({
            setupLog: new MemorySigningLog(),
            sessionId: 'after-restore',
            self,
            members: ['node-1', 'node-2'],
            keyShare: ks.get(self)!,
            rng: seededRng(self),
          }),
      ),
      { rng: seededRng('after-restore') },
    );
    expect(re.results.size).toBe(2);
    expect(restored.burntPeers()).toEqual(['node-3']);
    expect(ecdsaSignRun(ks, ['node-1', 'node-2'], sha256(Uint8Array.of(2)), { seed: 'restored' }).results.size).toBe(2);
  });

  it('a burnt pair is persisted as burnt and refuses to sign until it is set up again', () => {
    const k = clone(keys).get('node-1')!;
    k.burnPair('node-3');
    const back = EcdsaKeyShare.deserialize(k.serialize());
    expect(back.burntPeers()).toEqual(['node-3']);
    expect(
      () =>
        new EcdsaSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: 'node-1',
          signers: ['node-1', 'node-3'],
          keyShare: back,
          digest: new Uint8Array(32),
        }),
    ).toThrow(InvalidStateError);
    expect(
      () =>
        new EcdsaSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: 'node-1',
          signers: ['node-1', 'node-2'],
          keyShare: back,
          digest: new Uint8Array(32),
        }),
    ).not.toThrow();
  });
});

describe('ECDSA public package bytes', () => {
  const pub = keys.get('node-1')!.public;
  const pubBytes = serializeEcdsaKeyPublic(pub);

  it('a public package round-trips through its canonical bytes, and every member holds the same bytes', () => {
    const back = deserializeEcdsaKeyPublic(pubBytes);
    expect(serializeEcdsaKeyPublic(back)).toEqual(pubBytes);
    expect(back.participants).toEqual(P);
    for (const k of keys.values()) expect(serializeEcdsaKeyPublic(k.public)).toEqual(pubBytes);
  });

  it('a flipped, truncated or extended package is refused or decodes to exactly itself (fast-check)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (pos, xor, cut) => {
        const flipped = Uint8Array.from(pubBytes);
        flipped[pos % flipped.length]! ^= xor;
        for (const b of [flipped, pubBytes.subarray(0, cut % pubBytes.length), Uint8Array.of(...pubBytes, 0)]) {
          try {
            expect(serializeEcdsaKeyPublic(deserializeEcdsaKeyPublic(b))).toEqual(b);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidArgumentError);
          }
        }
      }),
    );
  });

  it('a package whose public shares are not on one polynomial through the group key is refused', () => {
    const mixed = {
      ...pub,
      publicShares: new Map(pub.publicShares).set('node-2', other.get('node-1')!.public.publicShares.get('node-2')!),
    };
    expect(() => deserializeEcdsaKeyPublic(serializeEcdsaKeyPublic(mixed))).toThrow(InvalidArgumentError);
  });
});
