import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { EcdsaKeyShare } from '../../../src/tss/ecdsa/key-share.js';
import { EcdsaReshareParty } from '../../../src/tss/ecdsa/reshare.js';
import { decodeMessage, encodeMessage } from '../../../src/tss/session/message.js';
import type { FaultInjector } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import {
  ecdsaDkg,
  ecdsaReshare,
  ecdsaReshareRun,
  ecdsaSign,
  ecdsaSignRun,
  names,
  subsets,
} from '../../helpers/protocol-runs.js';
import { nobleVerifies, sha256 } from './protocol-helpers.js';

const digest = sha256(new TextEncoder().encode('reshare'));
const A = names(3, 'a');
const keysA = ecdsaDkg(A, 1, { seed: 'rs' });
const pk = keysA.get('a-1')!.groupPublicKey;

describe('ECDSA resharing and refresh', () => {
  it('2-of-3 → 3-of-5 (overlapping) → 2-of-2 (disjoint) → refresh keeps the key, bumps the version and signs at every step; old and new shares cannot be mixed', () => {
    const B = ['a-2', 'a-3', 'b-1', 'b-2', 'b-3'];
    const keysB = ecdsaReshare(keysA, ['a-1', 'a-3'], B, 2, { seed: 'ab' });
    for (const k of keysB.values()) {
      expect(k.groupPublicKey).toEqual(pk);
      expect(k.version).toBe(2);
      expect(k.threshold).toBe(2);
    }
    for (const set of subsets(B, 3).slice(0, 3))
      expect(nobleVerifies(ecdsaSign(keysB, set, digest, { seed: set.join() }).signature, digest, pk)).toBe(true);

    const C = ['c-1', 'c-2'];
    const keysC = ecdsaReshare(keysB, ['b-3', 'a-2', 'b-1'], C, 1, { seed: 'bc' });
    expect(keysC.get('c-1')!.version).toBe(3);
    expect(nobleVerifies(ecdsaSign(keysC, C, digest, { seed: 'c' }).signature, digest, pk)).toBe(true);

    const keysD = ecdsaReshare(keysC, C, C, 1, { seed: 'refresh' });
    expect(keysD.get('c-2')!.version).toBe(4);
    expect(keysD.get('c-2')!.secretScalar()).not.toBe(keysC.get('c-2')!.secretScalar());
    const persisted = new Map([...keysD].map(([k, v]) => [k, EcdsaKeyShare.deserialize(v.serialize())]));
    expect(nobleVerifies(ecdsaSign(persisted, ['c-2', 'c-1'], digest, { seed: 'd' }).signature, digest, pk)).toBe(true);

    // Old (v3) and refreshed (v4) shares of the same committee cannot sign together.
    const mixed = new Map([
      ['c-1', keysC.get('c-1')!],
      ['c-2', keysD.get('c-2')!],
    ]);
    const rep = ecdsaSignRun(mixed, C, digest, { seed: 'mixed' });
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    for (const e of rep.aborts.values()) expect(e.reason).toMatch(/signing context differs/);
  });

  it('a dealer that re-deals something other than its own share (wrong constant term) is named', () => {
    // a-2 deals a polynomial with another constant: replace its commitment's first point by another dealer's.
    let a1Commit: Uint8Array | undefined;
    const fault: FaultInjector = (d) => {
      if (d.message.round !== 1 || d.message.to !== null) return { kind: 'deliver' };
      if (d.from === 'a-1') a1Commit = d.message.payload;
      return { kind: 'deliver' };
    };
    ecdsaReshareRun(keysA, ['a-1', 'a-2'], A, 1, { seed: 'peek', fault });
    const rep = ecdsaReshareRun(keysA, ['a-1', 'a-2'], A, 1, {
      seed: 'peek',
      fault: (d) => {
        if (d.from !== 'a-2' || d.message.round !== 1 || d.message.to !== null) return { kind: 'deliver' };
        const m = decodeMessage(d.bytes);
        const p = Uint8Array.from(m.payload);
        const off = p.length - 2 * 33; // first commitment point (t′ = 1: two points)
        p.set(a1Commit!.subarray(off, off + 33), off);
        return { kind: 'replace', bytes: encodeMessage({ ...m, payload: p }) };
      },
    });
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    for (const p of ['a-1', 'a-3']) {
      expect(rep.aborts.get(p)?.blame).toEqual(['a-2']);
      expect(rep.aborts.get(p)?.reason).toMatch(/wrong constant term/);
    }
  });

  it('a tampered share names its dealer; a package from another session is refused', () => {
    const rep = ecdsaReshareRun(keysA, ['a-1', 'a-2'], A, 1, {
      seed: 'bad-share',
      fault: (d) => {
        if (d.from !== 'a-1' || d.to !== 'a-3' || d.message.round !== 1 || d.message.to === null)
          return { kind: 'deliver' };
        const m = decodeMessage(d.bytes);
        const p = Uint8Array.from(m.payload);
        const off = 4 + 'tessera/ecdsa/reshare/r1d/v1'.length + 32 + 1;
        p[off + 31] = p[off + 31]! ^ 1;
        return { kind: 'replace', bytes: encodeMessage({ ...m, payload: p }) };
      },
    });
    expect(rep.aborts.get('a-3')?.blame).toEqual(['a-1']);
    expect(rep.aborts.get('a-3')?.reason).toMatch(/does not match the dealer commitment/);

    let stale: Uint8Array | undefined;
    ecdsaReshareRun(keysA, ['a-1', 'a-2'], A, 1, {
      seed: 'old',
      sessionId: 'old-session',
      fault: (d) => {
        if (d.from === 'a-2' && d.message.round === 1 && d.message.to === null) stale = d.message.payload;
        return { kind: 'deliver' };
      },
    });
    const rep2 = ecdsaReshareRun(keysA, ['a-1', 'a-2'], A, 1, {
      seed: 'new',
      fault: (d) => {
        if (d.from !== 'a-2' || d.message.round !== 1 || d.message.to !== null) return { kind: 'deliver' };
        return { kind: 'replace', bytes: encodeMessage({ ...decodeMessage(d.bytes), payload: stale! }) };
      },
    });
    for (const p of ['a-1', 'a-3']) expect(rep2.aborts.get(p)?.blame).toEqual(['a-2']);
  });

  it('inputs are validated: too few dealers, a dealer without its share, a share of another version', () => {
    const oldPublic = keysA.get('a-1')!.public;
    const base = {
      sessionId: 's',
      self: 'a-1',
      dealers: ['a-1', 'a-2'],
      newParticipants: A,
      newThreshold: 1,
      oldPublic,
      keyShare: keysA.get('a-1'),
    };
    expect(() => new EcdsaReshareParty({ setupLog: new MemorySigningLog(), ...base, dealers: ['a-1'] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new EcdsaReshareParty({ setupLog: new MemorySigningLog(), ...base, keyShare: undefined })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new EcdsaReshareParty({ setupLog: new MemorySigningLog(), ...base, newThreshold: 3 })).toThrow(
      InvalidArgumentError,
    );
    expect(
      () =>
        new EcdsaReshareParty({ setupLog: new MemorySigningLog(), ...base, oldPublic: { ...oldPublic, version: 2 } }),
    ).toThrow(InvalidArgumentError);
  });
});
