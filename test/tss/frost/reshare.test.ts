import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { decodeKeyPublic, type FrostKeyShare } from '../../../src/tss/frost/key-share.js';
import { FrostReshareParty } from '../../../src/tss/frost/reshare.js';
import { getGroup } from '../../../src/tss/group/index.js';
import {
  frostDkg,
  frostReshare,
  frostReshareRun,
  frostSign,
  frostSignRun,
  names,
  tamper,
} from '../../helpers/protocol-runs.js';
import { verifiesEverywhere } from './helpers.js';

const msg = new TextEncoder().encode('reshare keeps the key');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('FROST resharing and refresh', () => {
  it('the chain 2-of-3 → 3-of-5 → 2-of-2 on a disjoint committee → refresh keeps the public key and signs at every step', () => {
    const a = names(3, 'a');
    const v1 = frostDkg(a, 1, { seed: 'chain' });
    const pk = hex(v1.get(a[0]!)!.groupPublicKey);
    const check = (
      shares: Map<string, ReturnType<typeof frostDkg> extends Map<string, infer S> ? S : never>,
      signers: string[],
      version: number,
    ) => {
      for (const s of shares.values()) {
        expect(hex(s.groupPublicKey)).toBe(pk);
        expect(s.version).toBe(version);
      }
      const res = frostSign(shares, signers, msg, { seed: `chain-v${version}` });
      expect(verifiesEverywhere(res.signature, msg, Buffer.from(pk, 'hex'))).toBe(true);
    };
    check(v1, [a[0]!, a[2]!], 1);
    // 2-of-3 → 3-of-5, overlapping committee (a-2, a-3 stay; three new members)
    const b = [a[1]!, a[2]!, 'b-1', 'b-2', 'b-3'];
    const v2 = frostReshare(v1, [a[0]!, a[1]!], b, 2, { seed: 'chain-2' });
    check(v2, ['b-1', a[2]!, 'b-3'], 2);
    // 3-of-5 → 2-of-2 on a disjoint committee
    const c = ['c-1', 'c-2'];
    const v3 = frostReshare(v2, ['b-1', 'b-2', a[1]!], c, 1, { seed: 'chain-3' });
    check(v3, c, 3);
    // refresh: same committee, same threshold
    const v4 = frostReshare(v3, c, c, 1, { seed: 'chain-4' });
    check(v4, c, 4);
    for (const p of c) expect(v4.get(p)!.sameSecretAs(v3.get(p)!)).toBe(false);
  });

  it('noble combineSecret (the oracle) recovers the same secret from any t+1 old shares and any t′+1 reshared shares', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'comb' });
    const b = [a[2]!, 'x-1', 'x-2', 'x-3'];
    const v2 = frostReshare(v1, [a[0]!, a[1]!], b, 2, { seed: 'comb-2' });
    const g = getGroup('ed25519', 'noble');
    const combine = (shares: Map<string, FrostKeyShare>, set: string[], t: number) => {
      const dec = decodeKeyPublic(shares.get(set[0]!)!.public, g);
      return hex(
        ed25519_FROST.combineSecret(
          set.map((p) => ({
            identifier: hex(g.encodeScalar(dec.identifiers.get(p)!)),
            signingShare: g.encodeScalar(shares.get(p)!.secretScalar(g)),
          })),
          { min: t + 1, max: set.length },
        ),
      );
    };
    const secret = combine(v1, [a[0]!, a[1]!], 1);
    expect(combine(v1, [a[1]!, a[2]!], 1)).toBe(secret);
    expect(combine(v2, ['x-1', 'x-2', 'x-3'], 2)).toBe(secret);
    expect(combine(v2, [a[2]!, 'x-1', 'x-3'], 2)).toBe(secret);
    expect(combine(v2, [a[2]!, 'x-1'], 1)).not.toBe(secret);
    expect(hex(g.encodePoint(g.baseMul(g.decodeScalar(Buffer.from(secret, 'hex')))))).toBe(
      hex(v1.get(a[0]!)!.groupPublicKey),
    );
  });

  it('old-version shares on their own still sign after a reshare (so the node must retire them)', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'old' });
    const v2 = frostReshare(v1, a.slice(0, 2), a, 1, { seed: 'old-2' });
    const pk = v1.get(a[0]!)!.groupPublicKey;
    expect(verifiesEverywhere(frostSign(v1, a.slice(1), msg, { seed: 'o1' }).signature, msg, pk)).toBe(true);
    expect(verifiesEverywhere(frostSign(v2, a.slice(1), msg, { seed: 'o2' }).signature, msg, pk)).toBe(true);
  });

  it('shares of the old and the new version mixed in one signing set cannot sign', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'mix' });
    const v2 = frostReshare(v1, a.slice(0, 2), a, 1, { seed: 'mix-2' });
    const mixed = new Map([
      [a[0]!, v1.get(a[0]!)!],
      [a[1]!, v2.get(a[1]!)!],
    ]);
    const rep = frostSignRun(mixed, a.slice(0, 2), msg);
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    for (const e of rep.aborts.values()) expect(e.reason).toMatch(/context mismatch/);
  });

  it('a dealer whose commitment is tampered with is named by every receiver', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'tc' });
    const rep = frostReshareRun(v1, a.slice(0, 2), a, 1, {
      seed: 'tc-2',
      fault: tamper(
        (d) => d.from === a[1] && d.message.round === 1 && d.message.to === null,
        (p) => {
          // replace the last commitment point (a_t'·G) with another valid point: the base point's encoding
          p.set(Buffer.from('5866666666666666666666666666666666666666666666666666666666666666', 'hex'), p.length - 32);
          return p;
        },
      ),
    });
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    for (const p of [a[0]!, a[2]!]) expect(rep.aborts.get(p)?.blame).toEqual([a[1]]);
  });

  it('a dealer whose share to one member is tampered with is named by that member, and nobody completes without that member’s confirmation', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'ts' });
    const rep = frostReshareRun(v1, a.slice(0, 2), a, 1, {
      seed: 'ts-2',
      fault: tamper(
        (d) => d.from === a[0] && d.to === a[2] && d.message.to !== null,
        (p) => {
          p[p.length - 32] = p[p.length - 32]! ^ 1;
          return p;
        },
      ),
    });
    expect(rep.aborts.get(a[2]!)?.blame).toEqual([a[0]]);
    expect(rep.aborts.get(a[2]!)?.reason).toMatch(/dealer contribution/);
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
  });

  it('a dealer that re-deals something other than its own share (wrong f(0)) is named even if its shares are consistent', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'w0' });
    // node-1's commitment claims C_0 = Y_3 (node-3's verifying share) instead of λ_1·Y_1.
    const rep = frostReshareRun(v1, [a[0]!, a[1]!], a, 1, {
      seed: 'w0b',
      fault: tamper(
        (d) => d.from === a[0] && d.message.round === 1 && d.message.to === null,
        (p) => {
          const ctxEnd = 4 + 'tessera/frost/reshare/commit/v1'.length + 32 + 2;
          p.set(v1.get(a[2]!)!.public.verifyingShares.get(a[2]!)!, ctxEnd);
          return p;
        },
      ),
    });
    expect(rep.aborts.get(a[1]!)?.blame).toEqual([a[0]]);
    expect(rep.aborts.get(a[2]!)?.blame).toEqual([a[0]]);
  });

  it('a reshare package replayed from another session is refused and its sender blamed', () => {
    const a = names(3);
    const v1 = frostDkg(a, 1, { seed: 'rp' });
    let captured: Uint8Array | undefined;
    frostReshareRun(v1, a.slice(0, 2), a, 1, {
      sessionId: 'first',
      fault: (d) => {
        if (d.from === a[0] && d.message.to === null && d.message.round === 1) captured = d.message.payload;
        return { kind: 'deliver' };
      },
    });
    expect(captured).toBeDefined();
    const rep = frostReshareRun(v1, a.slice(0, 2), a, 1, {
      sessionId: 'second',
      fault: tamper(
        (d) => d.from === a[0] && d.message.to === null && d.message.round === 1,
        () => Uint8Array.from(captured!),
      ),
    });
    for (const p of [a[1]!, a[2]!]) {
      expect(rep.aborts.get(p)?.blame).toEqual([a[0]]);
      expect(rep.aborts.get(p)?.reason).toMatch(/context mismatch/);
    }
  });

  it('resharing on the noble and fast backends gives identical bytes from the same seeds', () => {
    const a = names(3);
    const n = frostDkg(a, 1, { seed: 'xb', backend: 'noble' });
    const f = frostDkg(a, 1, { seed: 'xb', backend: 'fast' });
    const nb = frostReshare(n, a.slice(1), [...a, 'extra'], 2, { seed: 'xb2', backend: 'noble' });
    const fb = frostReshare(f, a.slice(1), [...a, 'extra'], 2, { seed: 'xb2', backend: 'fast' });
    for (const p of [...a, 'extra']) expect(hex(nb.get(p)!.serialize())).toBe(hex(fb.get(p)!.serialize()));
  });

  it('fewer than t+1 dealers, or a dealer without its share, are refused up front', () => {
    const a = names(5);
    const v1 = frostDkg(a, 2, { seed: 'few' });
    const base = { sessionId: 's', newParticipants: a, newThreshold: 2, oldPublic: v1.get(a[0]!)!.public };
    expect(
      () => new FrostReshareParty({ ...base, self: a[0]!, dealers: a.slice(0, 2), keyShare: v1.get(a[0]!) }),
    ).toThrow(/t\+1 dealers/);
    expect(() => new FrostReshareParty({ ...base, self: a[0]!, dealers: a.slice(0, 3) })).toThrow(
      /needs its live key share/,
    );
    expect(
      () => new FrostReshareParty({ ...base, self: a[0]!, dealers: a.slice(0, 3), keyShare: v1.get(a[1]!) }),
    ).toThrow(/does not belong/);
  });
});
