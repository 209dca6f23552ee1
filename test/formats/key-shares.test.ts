/**
 * Pins the key-share formats byte for byte: FROST (`FrostKeyShare.serialize`, `serializeKeyPublic`)
 * and ECDSA (`EcdsaKeyShare.serialize` with its pairwise OT state, `serializeEcdsaKeyPublic`), as
 * written by today's code for seeded runs (test/formats/runs.ts). For each: today's run reproduces
 * the fixture exactly, and `deserialize(fixture).serialize()` is the fixture.
 */
import { describe, expect, it } from 'vitest';
import { EcdsaKeyShare, serializeEcdsaKeyPublic } from '../../src/tss/ecdsa/key-share.js';
import { PairwiseOt } from '../../src/tss/ecdsa/pairwise.js';
import { deserializeKeyPublic, FrostKeyShare, serializeKeyPublic } from '../../src/tss/frost/key-share.js';
import { OtExtReceiver, OtExtSender } from '../../src/tss/ot/kos.js';
import { pinHex, readHexFixture } from './pin.js';
import { cloneEcdsa, ecdsaDkg, ecdsaOtResetup, ecdsaReshare, ecdsaSign, frostDkg, frostReshare, P } from './runs.js';

const frostV1 = frostDkg();
const frostV2 = frostReshare(frostV1);
const ecdsaV1 = ecdsaDkg();
const ecdsaV2 = ecdsaReshare(cloneEcdsa(ecdsaV1));
const signed = cloneEcdsa(ecdsaV1);
ecdsaSign(signed);
const burnt = cloneEcdsa(ecdsaV1);
burnt.get('node-1')!.burnPair('node-3');
const resetup = cloneEcdsa(ecdsaV1);
resetup.get('node-1')!.burnPair('node-3');
ecdsaOtResetup(resetup);

const frost = (rel: string) => `shares/frost/${rel}.hex`;
const ecdsa = (rel: string) => `shares/ecdsa/${rel}.hex`;

describe('FROST key share format (tessera/frost/key-share, format 1)', () => {
  it("the FROST key shares written by today's DKG and reshare reproduce the pinned bytes exactly", () => {
    for (const p of P) pinHex('shares', frost(`dkg-v1-${p}`), frostV1.get(p)!.serialize());
    for (const p of P) pinHex('shares', frost(`reshare-v2-${p}`), frostV2.get(p)!.serialize());
  });

  it("the FROST key share written by today's code round-trips byte for byte (deserialize(fixture).serialize() = fixture)", () => {
    for (const name of [...P.map((p) => `dkg-v1-${p}`), ...P.map((p) => `reshare-v2-${p}`)]) {
      const bytes = readHexFixture(frost(name));
      const share = FrostKeyShare.deserialize(bytes);
      expect(Buffer.from(share.serialize())).toEqual(Buffer.from(bytes));
    }
    const s = FrostKeyShare.deserialize(readHexFixture(frost('reshare-v2-node-2')));
    expect([s.self, s.version, s.threshold, [...s.participants]]).toEqual(['node-2', 2, 1, P]);
  });

  it('the FROST public key package (tessera/frost/key-public) is pinned and round-trips byte for byte', () => {
    pinHex('shares', frost('public-v1'), serializeKeyPublic(frostV1.get('node-1')!.public));
    pinHex('shares', frost('public-v2'), serializeKeyPublic(frostV2.get('node-1')!.public));
    for (const v of ['public-v1', 'public-v2']) {
      const bytes = readHexFixture(frost(v));
      expect(Buffer.from(serializeKeyPublic(deserializeKeyPublic(bytes)))).toEqual(Buffer.from(bytes));
    }
    // every member holds the same public package
    for (const p of P) expect(serializeKeyPublic(frostV1.get(p)!.public)).toEqual(readHexFixture(frost('public-v1')));
  });
});

describe('ECDSA key share format (tessera/ecdsa key share with pairwise OT state)', () => {
  it("the ECDSA key shares written by today's DKG and reshare reproduce the pinned bytes exactly", () => {
    for (const p of P) pinHex('shares', ecdsa(`dkg-v1-${p}`), ecdsaV1.get(p)!.serialize());
    for (const p of P) pinHex('shares', ecdsa(`reshare-v2-${p}`), ecdsaV2.get(p)!.serialize());
  });

  it('the ECDSA key share after one signing (OT counters moved) reproduces the pinned bytes exactly', () => {
    pinHex('shares', ecdsa('after-sign-node-1'), signed.get('node-1')!.serialize());
    pinHex('shares', ecdsa('after-sign-node-2'), signed.get('node-2')!.serialize());
    // the signing moved the state: the stored bytes differ from the DKG's
    expect(signed.get('node-1')!.serialize()).not.toEqual(ecdsaV1.get('node-1')!.serialize());
    expect(signed.get('node-2')!.serialize()).not.toEqual(ecdsaV1.get('node-2')!.serialize());
    expect(
      EcdsaKeyShare.deserialize(readHexFixture(ecdsa('after-sign-node-1'))).peers.get('node-2')!.ot!.in_.nextIndex,
    ).toBeGreaterThan(0);
  });

  it('the ECDSA key share with a burnt pair (burntPeers non-empty) reproduces the pinned bytes exactly', () => {
    pinHex('shares', ecdsa('burnt-node-3-node-1'), burnt.get('node-1')!.serialize());
    expect(EcdsaKeyShare.deserialize(readHexFixture(ecdsa('burnt-node-3-node-1'))).burntPeers()).toEqual(['node-3']);
  });

  it('the ECDSA key share after an OT re-setup of the burnt pair reproduces the pinned bytes exactly', () => {
    pinHex('shares', ecdsa('after-resetup-node-1'), resetup.get('node-1')!.serialize());
    pinHex('shares', ecdsa('after-resetup-node-3'), resetup.get('node-3')!.serialize());
    expect(EcdsaKeyShare.deserialize(readHexFixture(ecdsa('after-resetup-node-1'))).burntPeers()).toEqual([]);
  });

  it("the ECDSA key share written by today's code round-trips byte for byte (deserialize(fixture).serialize() = fixture)", () => {
    const names = [
      ...P.map((p) => `dkg-v1-${p}`),
      ...P.map((p) => `reshare-v2-${p}`),
      'after-sign-node-1',
      'after-sign-node-2',
      'burnt-node-3-node-1',
      'after-resetup-node-1',
      'after-resetup-node-3',
    ];
    for (const name of names) {
      const bytes = readHexFixture(ecdsa(name));
      expect(Buffer.from(EcdsaKeyShare.deserialize(bytes).serialize()), name).toEqual(Buffer.from(bytes));
    }
    const s = EcdsaKeyShare.deserialize(readHexFixture(ecdsa('reshare-v2-node-3')));
    expect([s.self, s.version, s.threshold, [...s.participants]]).toEqual(['node-3', 2, 1, P]);
  });

  it('the ECDSA public key package is pinned, and every member of a version holds the same one', () => {
    pinHex('shares', ecdsa('public-v1'), serializeEcdsaKeyPublic(ecdsaV1.get('node-1')!.public));
    pinHex('shares', ecdsa('public-v2'), serializeEcdsaKeyPublic(ecdsaV2.get('node-1')!.public));
    for (const p of P) {
      expect(serializeEcdsaKeyPublic(EcdsaKeyShare.deserialize(readHexFixture(ecdsa(`dkg-v1-${p}`))).public)).toEqual(
        readHexFixture(ecdsa('public-v1')),
      );
      expect(
        serializeEcdsaKeyPublic(EcdsaKeyShare.deserialize(readHexFixture(ecdsa(`reshare-v2-${p}`))).public),
      ).toEqual(readHexFixture(ecdsa('public-v2')));
    }
  });

  it('the pairwise OT state (PairwiseOt, KOS sender and receiver states) is pinned and round-trips byte for byte', () => {
    const pair = ecdsaV1.get('node-1')!.peers.get('node-2')!.ot!;
    pinHex('shares', ecdsa('pair-dkg-node-1-node-2'), pair.serialize());
    pinHex('shares', ecdsa('kos-sender-dkg-node-1-to-node-2'), pair.out.serialize());
    pinHex('shares', ecdsa('kos-receiver-dkg-node-2-to-node-1'), pair.in_.serialize());
    const movedPair = signed.get('node-1')!.peers.get('node-2')!.ot!;
    pinHex('shares', ecdsa('pair-after-sign-node-1-node-2'), movedPair.serialize());
    const movedPeer = signed.get('node-2')!.peers.get('node-1')!.ot!;
    pinHex('shares', ecdsa('pair-after-sign-node-2-node-1'), movedPeer.serialize());
    for (const name of ['pair-dkg-node-1-node-2', 'pair-after-sign-node-1-node-2', 'pair-after-sign-node-2-node-1']) {
      const bytes = readHexFixture(ecdsa(name));
      expect(Buffer.from(PairwiseOt.deserialize(bytes).serialize()), name).toEqual(Buffer.from(bytes));
    }
    const s = readHexFixture(ecdsa('kos-sender-dkg-node-1-to-node-2'));
    expect(Buffer.from(OtExtSender.deserialize(s).serialize())).toEqual(Buffer.from(s));
    const r = readHexFixture(ecdsa('kos-receiver-dkg-node-2-to-node-1'));
    expect(Buffer.from(OtExtReceiver.deserialize(r).serialize())).toEqual(Buffer.from(r));
  });
});
