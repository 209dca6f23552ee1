import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveChild, deriveChildPublicKey, HARDENED_OFFSET } from '../../../src/tss/frost/hd.js';
import { FrostSignParty } from '../../../src/tss/frost/sign.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { frostDkg, frostSign, names } from '../../helpers/protocol-runs.js';
import { verifiesEverywhere } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
interface Case {
  masterPublicKey: string;
  chainCode: string;
  path: number[];
  child: string;
  tweak: string;
  childChainCode: string;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/frost/hd-ed25519.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

describe('mpcium-compatible HD derivation', () => {
  it.each(['noble', 'fast'] as const)(
    'reproduces the formula fixtures (child key, tweak, chain code) on the %s backend',
    (backend) => {
      expect(fixture.cases.length).toBeGreaterThan(5);
      for (const c of fixture.cases) {
        const r = deriveChild(unhex(c.masterPublicKey), unhex(c.chainCode), c.path, getGroup('ed25519', backend));
        expect(hex(r.publicKey)).toBe(c.child);
        expect(r.tweak.toString(16).padStart(64, '0')).toBe(c.tweak);
        expect(hex(r.chainCode)).toBe(c.childChainCode);
      }
    },
  );

  it.each(['noble', 'fast'] as const)(
    "reproduces mpcium's own golden vectors (pkg/ckdutil/golden_compat_test.go: master G, chain code 00..1f) on the %s backend",
    (backend) => {
      const golden = JSON.parse(
        readFileSync(new URL('../../fixtures/frost/hd-ed25519-mpcium-golden.json', import.meta.url), 'utf8'),
      ) as {
        masterPublicKey: string;
        chainCode: string;
        cases: { path: number[]; child: string; tweak: string; childChainCode: string }[];
      };
      expect(golden.cases).toHaveLength(2);
      for (const c of golden.cases) {
        const r = deriveChild(
          unhex(golden.masterPublicKey),
          unhex(golden.chainCode),
          c.path,
          getGroup('ed25519', backend),
        );
        expect(hex(r.publicKey)).toBe(c.child);
        expect(r.tweak.toString(16).padStart(64, '0')).toBe(c.tweak);
        expect(hex(r.chainCode)).toBe(c.childChainCode);
        expect(hex(deriveChildPublicKey(unhex(golden.masterPublicKey), unhex(golden.chainCode), c.path))).toBe(c.child);
      }
    },
  );

  it('indices at or above 2^31 (hardened) and malformed paths are refused', () => {
    const pk = unhex(fixture.cases[0]!.masterPublicKey);
    const cc = new Uint8Array(32);
    for (const bad of [[HARDENED_OFFSET], [0, 2 ** 32], [-1], [1.5], [Number.NaN]]) {
      expect(() => deriveChildPublicKey(pk, cc, bad)).toThrow(/\[0, 2\^31\)/);
    }
    expect(() => deriveChildPublicKey(pk, new Uint8Array(31), [0])).toThrow(/chain code/);
    expect(() => deriveChildPublicKey(new Uint8Array(32), cc, [0])).toThrow();
    expect(deriveChildPublicKey(pk, cc, [HARDENED_OFFSET - 1])).toHaveLength(32);
  });

  it('a signing session refuses a hardened index', () => {
    const parts = names(3);
    const shares = frostDkg(parts, 1, { seed: 'hd-hard' });
    expect(
      () =>
        new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 's',
          self: parts[0]!,
          signers: parts.slice(0, 2),
          keyShare: shares.get(parts[0]!)!,
          message: new Uint8Array(1),
          derivation: { chainCode: new Uint8Array(32), path: [HARDENED_OFFSET] },
        }),
    ).toThrow(/2\^31/);
  });

  it('node side (tweaked key package) and client side (public derivation) agree on random paths, and the signatures verify under the child key', () => {
    const parts = names(3);
    const shares = frostDkg(parts, 1, { seed: 'hd' });
    const master = shares.get(parts[0]!)!.groupPublicKey;
    const msg = new TextEncoder().encode('derived');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.integer({ min: 0, max: HARDENED_OFFSET - 1 }), { minLength: 0, maxLength: 5 }),
        (chainCode, path) => {
          const client = deriveChildPublicKey(master, chainCode, path);
          const res = frostSign(shares, [parts[2]!, parts[0]!], msg, {
            derivation: { chainCode, path },
            seed: `hd-${path.join('/')}`,
          });
          expect(hex(res.publicKey)).toBe(hex(client));
          expect(verifiesEverywhere(res.signature, msg, client)).toBe(true);
          if (path.length > 0) expect(verifiesEverywhere(res.signature, msg, master)).toBe(false);
        },
      ),
      { numRuns: 12 },
    );
  });
});
