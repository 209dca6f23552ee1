import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { FrostKeyShare, keyPublicDigest, shareFromComputed } from '../../../src/tss/frost/key-share.js';
import { FrostSignParty } from '../../../src/tss/frost/sign.js';
import { getGroup } from '../../../src/tss/group/index.js';
import * as tss from '../../../src/tss/index.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import * as testing from '../../../src/tss/testing.js';
import { frostDkg } from '../../helpers/protocol-runs.js';

const P = ['n1', 'n2', 'n3'];

describe('public surface and key package caches (review notes c, d, e)', () => {
  it('test-only and unvalidated helpers are not part of the public tss surface', () => {
    for (const name of ['seededRng', 'shareFromComputed', 'runParties', 'MemorySigningLog', 'getGroup']) {
      expect(name in tss, name).toBe(false);
      expect(name in tss.frost, name).toBe(false);
      expect(name in tss.ecdsa, name).toBe(false);
    }
    expect('fromComputed' in FrostKeyShare).toBe(false);
    expect(typeof tss.systemRng).toBe('function');
    // the test tooling lives in its own module
    expect(Object.keys(testing).sort()).toEqual(['MemorySigningLog', 'runParties', 'seededRng']);
  });

  it('the public tss surface is exactly the pinned names, and both protocol namespaces offer the same core under the same names', () => {
    expect(Object.keys(tss).sort()).toEqual([
      'HARDENED_OFFSET',
      'MAX_PATH_LENGTH',
      'MAX_PAYLOAD_BYTES',
      'ProtocolAbortedError',
      'SetupContextReusedError',
      'SetupStepReplayedError',
      'SigningContextReusedError',
      'SigningStepReplayedError',
      'checkpointed',
      'decodeMessage',
      'ecdsa',
      'encodeMessage',
      'frost',
      'systemRng',
      'validatePath',
    ]);
    const core = [
      'DkgParty',
      'KEY_TYPE',
      'KeyShare',
      'ReshareParty',
      'SignParty',
      'decodeKeyPublic',
      'deriveChildPublicKey',
      'deserializeKeyPublic',
      'keyPublicDigest',
      'serializeKeyPublic',
    ];
    expect(Object.keys(tss.frost).sort()).toEqual([...core].sort());
    expect(Object.keys(tss.ecdsa).sort()).toEqual(
      [
        ...core,
        'BurnNotPersistedError',
        'OT_INDEX_WINDOW',
        'OtEvidenceAbortError',
        'OtResetupParty',
        'OtWindowExceededError',
        'isOtEvidence',
        'publicKeyXY',
        'shareCheckpoint',
      ].sort(),
    );
    for (const ns of [tss.frost, tss.ecdsa] as Record<string, unknown>[]) {
      for (const name of ['DkgParty', 'SignParty', 'ReshareParty', 'KeyShare', 'deriveChildPublicKey'])
        expect(typeof ns[name], name).toBe('function');
    }
    expect([tss.frost.KEY_TYPE, tss.ecdsa.KEY_TYPE]).toEqual(['ed25519', 'secp256k1']);
  });

  it('shareFromComputed refuses points that are not the decoding of the package (it would seed the validated-point cache)', () => {
    const g = getGroup('ed25519', 'fast');
    const a = frostDkg(P, 1, { seed: 'surface-a' }).get('n1')!;
    const b = frostDkg(P, 1, { seed: 'surface-b' }).get('n1')!;
    const pointsOf = (k: FrostKeyShare) => ({
      groupPublicKey: g.decodePoint(k.public.groupPublicKey),
      verifyingShares: new Map(P.map((p) => [p, g.decodePoint(k.public.verifyingShares.get(p)!)])),
    });
    const secret = g.encodeScalar(a.secretScalar(g));
    expect(() => shareFromComputed(a.public, pointsOf(b), 'n1', secret, g)).toThrow(InvalidArgumentError);
    const ok = shareFromComputed(a.public, pointsOf(a), 'n1', secret, g);
    expect(ok.sameSecretAs(a)).toBe(true);
  });

  it('the signing context binds the current content of the key package, not a digest cached by object identity', () => {
    const a = frostDkg(P, 1, { seed: 'content-a' }).get('n1')!;
    const b = frostDkg(P, 1, { seed: 'content-b' }).get('n1')!;
    const mk = () =>
      new FrostSignParty({
        signingLog: new MemorySigningLog(),
        sessionId: 'ctx',
        self: 'n1',
        signers: ['n1', 'n2'],
        keyShare: a,
        message: Uint8Array.of(1),
        rng: seededRng('ctx'),
      });
    const before = mk().context;
    // The package is frozen only shallowly: its byte arrays can be overwritten in place.
    for (const p of P) (a.public.verifyingShares.get(p) as Uint8Array).set(b.public.verifyingShares.get(p)!);
    (a.public.groupPublicKey as Uint8Array).set(b.public.groupPublicKey);
    expect(Buffer.from(keyPublicDigest(a.public)).equals(Buffer.from(keyPublicDigest(b.public)))).toBe(true);
    const after = mk().context;
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(false);
    const expected = new FrostSignParty({
      signingLog: new MemorySigningLog(),
      sessionId: 'ctx',
      self: 'n1',
      signers: ['n1', 'n2'],
      keyShare: b,
      message: Uint8Array.of(1),
      rng: seededRng('ctx'),
    }).context;
    expect(Buffer.from(after).equals(Buffer.from(expected))).toBe(true);
  });
});
