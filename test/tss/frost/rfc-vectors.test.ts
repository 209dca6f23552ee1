import { readFileSync } from 'node:fs';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { secp256k1_FROST } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  aggregate,
  bindingFactorPrefix,
  commit,
  prepareSigning,
  type SignerCommitment,
  signShare,
  verifyShare,
  verifySignature,
} from '../../../src/tss/frost/signing-core.js';
import { ed25519Suite, type Suite, secp256k1Suite } from '../../../src/tss/frost/suite.js';
import type { Group } from '../../../src/tss/group/index.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { lagrangeCoefficient } from '../../../src/tss/math/polynomial.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

interface Vectors {
  inputs: {
    participant_list: number[];
    group_secret_key: string;
    group_public_key: string;
    message: string;
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: { outputs: Record<string, string | number>[] };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
}
const load = (f: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/frost/${f}`, import.meta.url), 'utf8')) as Vectors;
const cases: [string, 'noble' | 'fast', Suite, Vectors][] = [];
for (const backend of ['noble', 'fast'] as const) {
  cases.push([
    'FROST(Ed25519, SHA-512)',
    backend,
    ed25519Suite(getGroup('ed25519', backend)),
    load('rfc-ed25519-sha512.json'),
  ]);
  cases.push([
    'FROST(secp256k1, SHA-256)',
    backend,
    secp256k1Suite(getGroup('secp256k1', backend)),
    load('rfc-secp256k1-sha256.json'),
  ]);
}

describe.each(cases)('RFC 9591 %s vectors on the %s backend', (_name, _backend, suite, v) => {
  const g: Group = suite.group;

  it('reproduces nonces, commitments, binding factors, signature shares and the signature', () => {
    const pk = g.decodePoint(unhex(v.inputs.group_public_key));
    expect(hex(g.encodePoint(g.baseMul(g.decodeScalar(unhex(v.inputs.group_secret_key)))))).toBe(
      v.inputs.group_public_key,
    );
    const msg = unhex(v.inputs.message);
    const share = (id: number) =>
      g.decodeScalar(unhex(v.inputs.participant_shares.find((s) => s.identifier === id)!.participant_share));
    const r1 = v.round_one_outputs.outputs;
    const commits = r1.map((o) => {
      const id = Number(o.identifier);
      const queue = [unhex(String(o.hiding_nonce_randomness)), unhex(String(o.binding_nonce_randomness))];
      const c = commit(suite, share(id), () => queue.shift()!);
      expect(hex(g.encodePoint(c.hiding))).toBe(o.hiding_nonce_commitment);
      expect(hex(g.encodePoint(c.binding))).toBe(o.binding_nonce_commitment);
      return { id, ...c };
    });
    const list: SignerCommitment[] = commits.map((c) => ({
      identifier: BigInt(c.id),
      hiding: c.hiding,
      binding: c.binding,
    }));
    const pkg = prepareSigning(suite, pk, list, msg);
    for (const o of r1) {
      const id = BigInt(Number(o.identifier));
      expect(hex(g.encodeScalar(pkg.bindingFactors.get(id)!))).toBe(o.binding_factor);
      const prefix = bindingFactorPrefix(suite, g.encodePoint(pk), pkg.commitments, msg);
      expect(hex(prefix) + hex(g.encodeScalar(id))).toBe(o.binding_factor_input);
    }
    const shares = commits.map((c) => {
      const z = signShare(suite, pkg, BigInt(c.id), share(c.id), c.nonces);
      const expected = v.round_two_outputs.outputs.find((o) => o.identifier === c.id)!.sig_share;
      expect(hex(g.encodeScalar(z))).toBe(expected);
      expect(verifyShare(suite, pkg, BigInt(c.id), g.baseMul(share(c.id)), z)).toBe(true);
      return z;
    });
    const sig = aggregate(suite, pkg, shares);
    expect(hex(sig)).toBe(v.final_output.sig);
    expect(verifySignature(suite, pk, msg, sig)).toBe(true);
    if (g.curve === 'ed25519') expect(ed25519_FROST.verify(sig, msg, unhex(v.inputs.group_public_key))).toBe(true);
    else expect(secp256k1_FROST.verify(sig, msg, unhex(v.inputs.group_public_key))).toBe(true);
  });

  it('interpolating the vector shares at zero gives the group secret (Lagrange over any two of three)', () => {
    const s = (id: bigint) => g.decodeScalar(unhex(v.inputs.participant_shares[Number(id) - 1]!.participant_share));
    for (const pair of [
      [1n, 2n],
      [1n, 3n],
      [2n, 3n],
    ]) {
      let acc = 0n;
      for (const i of pair) acc = (acc + lagrangeCoefficient(g, pair, i) * s(i)) % g.order;
      expect(hex(g.encodeScalar(acc))).toBe(v.inputs.group_secret_key);
    }
  });

  it('a nonce pair is single-use: a second signShare with the same nonces throws', () => {
    const x = g.decodeScalar(unhex(v.inputs.participant_shares[0]!.participant_share));
    const c = commit(suite, x, (n) => new Uint8Array(n).fill(7));
    const pkg = prepareSigning(
      suite,
      g.decodePoint(unhex(v.inputs.group_public_key)),
      [
        { identifier: 1n, hiding: c.hiding, binding: c.binding },
        { identifier: 3n, hiding: g.baseMul(5n), binding: g.baseMul(6n) },
      ],
      unhex('74657374'),
    );
    signShare(suite, pkg, 1n, x, c.nonces);
    expect(() => signShare(suite, pkg, 1n, x, c.nonces)).toThrow(/already used/);
  });
});
