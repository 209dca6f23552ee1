import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { proveKnowledge, samplePolynomial } from '../../../src/tss/frost/dkg.js';
import { partyIdentifier } from '../../../src/tss/frost/identifiers.js';
import { decodeKeyPublic } from '../../../src/tss/frost/key-share.js';
import { FrostSignParty } from '../../../src/tss/frost/sign.js';
import { ed25519Suite } from '../../../src/tss/frost/suite.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { commitPolynomial } from '../../../src/tss/math/polynomial.js';
import { hedgedRng, seededRng as ourRng } from '../../../src/tss/math/rng.js';

// noble's RNG type takes an optional length and returns an ArrayBuffer-backed array.
const seededRng = (seed: string) => {
  const r = ourRng(seed);
  return (n?: number) => Uint8Array.from(r(n ?? 32));
};

import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { frostDkg, frostSign, names, subsets } from '../../helpers/protocol-runs.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const msg = new TextEncoder().encode('oracle');

describe('noble ed25519_FROST is the oracle: both backends match it byte for byte', () => {
  it('party identifiers equal noble Identifier.derive of the party id', () => {
    for (const backend of ['noble', 'fast'] as const) {
      const g = getGroup('ed25519', backend);
      for (const id of ['node-1', 'b3f1c0de-uuid', 'ü-ñ', 'x'.repeat(200)]) {
        expect(hex(g.encodeScalar(partyIdentifier(ed25519Suite(g), id)))).toBe(ed25519_FROST.Identifier.derive(id));
      }
    }
  });

  it('a DKG round-1 package with an empty session context equals noble DKG.round1 from the same randomness', () => {
    for (const backend of ['noble', 'fast'] as const) {
      const g = getGroup('ed25519', backend);
      const suite = ed25519Suite(g);
      for (const t of [1, 2]) {
        const id = ed25519_FROST.Identifier.derive('node-1');
        const ref = ed25519_FROST.DKG.round1(id, { min: t + 1, max: t + 2 }, undefined, seededRng(`pok${t}`));
        const rng = seededRng(`pok${t}`);
        const coeffs = samplePolynomial(g, t, rng);
        const C = commitPolynomial(g, coeffs);
        const proof = proveKnowledge(
          suite,
          new Uint8Array(0),
          partyIdentifier(suite, 'node-1'),
          coeffs[0]!,
          C[0]!,
          rng,
        );
        expect(C.map((c) => hex(g.encodePoint(c)))).toEqual(ref.public.commitment.map(hex));
        expect(hex(proof)).toBe(hex(ref.public.proofOfKnowledge));
      }
    }
  });

  it('threshold signatures equal noble commit/signShare/aggregate on the same shares and randomness', () => {
    const parts = names(5);
    const shares = frostDkg(parts, 2, { seed: 'oracle' });
    const first = shares.get(parts[0]!)!;
    const g = getGroup('ed25519', 'noble');
    const dec = decodeKeyPublic(first.public, g);
    const idHex = (p: string) => hex(g.encodeScalar(dec.identifiers.get(p)!));
    const pub = {
      signers: { min: 3, max: 5 },
      commitments: [first.public.groupPublicKey],
      verifyingShares: Object.fromEntries(parts.map((p) => [idHex(p), first.public.verifyingShares.get(p)!])),
    };
    for (const signers of subsets(parts, 3).slice(0, 3)) {
      const seed = `o-${signers.join()}`;
      const ours = frostSign(shares, signers, msg, { seed, backend: 'fast' });
      const secrets = signers.map((p) => ({
        identifier: idHex(p),
        signingShare: g.encodeScalar(shares.get(p)!.secretScalar(g)),
      }));
      // The session hedges its RNG bytes with its signing context before RFC 9591 nonce_generate; feed noble the same bytes.
      const hedged = (p: string) => {
        const ctx = new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: `sign-${seed}`,
          self: p,
          signers,
          keyShare: shares.get(p)!,
          message: msg,
        }).context;
        const r = hedgedRng(ourRng(`${seed}/${p}`), ctx);
        return (n?: number) => Uint8Array.from(r(n ?? 32));
      };
      const commits = secrets.map((s, i) => ed25519_FROST.commit(s, hedged(signers[i]!)));
      const list = commits.map((c) => c.commitments);
      const zs = Object.fromEntries(
        secrets.map((s, i) => [s.identifier, ed25519_FROST.signShare(s, pub, commits[i]!.nonces, list, msg)]),
      );
      const ref = ed25519_FROST.aggregate(pub, list, msg, zs);
      expect(hex(ours.signature)).toBe(hex(ref));
    }
  });

  it('DKG and signing on the noble and fast backends give identical bytes from the same seeds', () => {
    const parts = names(3);
    const a = frostDkg(parts, 1, { seed: 'same', backend: 'noble' });
    const b = frostDkg(parts, 1, { seed: 'same', backend: 'fast' });
    for (const p of parts) expect(hex(a.get(p)!.serialize())).toBe(hex(b.get(p)!.serialize()));
    const sa = frostSign(a, parts.slice(1), msg, { seed: 's', backend: 'noble' });
    const sb = frostSign(b, parts.slice(1), msg, { seed: 's', backend: 'fast' });
    expect(hex(sa.signature)).toBe(hex(sb.signature));
    const chainCode = new Uint8Array(32).fill(9);
    const da = frostSign(a, parts.slice(0, 2), msg, {
      seed: 'd',
      backend: 'noble',
      derivation: { chainCode, path: [0, 7, 2 ** 31 - 1] },
    });
    const db = frostSign(b, parts.slice(0, 2), msg, {
      seed: 'd',
      backend: 'fast',
      derivation: { chainCode, path: [0, 7, 2 ** 31 - 1] },
    });
    expect(hex(da.signature)).toBe(hex(db.signature));
    expect(hex(da.publicKey)).toBe(hex(db.publicKey));
  });
});
