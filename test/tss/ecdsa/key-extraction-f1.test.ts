import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from '../../../src/common/bytes.js';
import { ecdsaKeyPublicDigest, ecdsaLagrange } from '../../../src/tss/ecdsa/key-share.js';
import { XI } from '../../../src/tss/ecdsa/multiply.js';
import { ecdsaSignContext } from '../../../src/tss/ecdsa/sign.js';
import { zeroShare } from '../../../src/tss/ecdsa/zero-share.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { decodeMessage, encodeMessage } from '../../../src/tss/session/message.js';
import type { Delivery } from '../../../src/tss/session/runner.js';
import { ecdsaDkg, ecdsaSignRun, names } from '../../helpers/protocol-runs.js';
import { clone, sha256 } from './protocol-helpers.js';

const Q = secp256k1.Point.CURVE().n;
const mod = (a: bigint) => ((a % Q) + Q) % Q;
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const inv2 = (Q + 1n) / 2n;

function r2(payload: Uint8Array) {
  const r = new ByteReader(payload);
  r.expectTag('tessera/ecdsa/sign/r2/v1');
  r.raw(32);
  r.bytes(1 << 20);
  const R = r.raw(33);
  r.raw(32);
  const pk = r.raw(33);
  r.raw(33);
  r.raw(33);
  r.raw(32);
  const m2 = r.bytes(1 << 20);
  // m2: tag/header then σ | τ (XI*4*32) | H(r) | u(64) | γ(64); locate from the end
  const tauStart = m2.length - 64 - 64 - 32 - XI * 4 * 32;
  const sigma = m2.subarray(tauStart - 32, tauStart);
  const tau = (j: number, k: number) => big(m2.subarray(tauStart + (j * 4 + k) * 32, tauStart + (j * 4 + k + 1) * 32));
  const gamma = [big(m2.subarray(m2.length - 64, m2.length - 32)), big(m2.subarray(m2.length - 32))];
  return { R, pk, sigma: Buffer.from(sigma).toString('hex'), tau, gamma };
}

// Regression test for review finding F1 (second ECDSA review): with a replayed RNG stream and a
// stale share, a co-signer replaying its extension with flipped choice bits made Alice's pads
// swap under the same σ, so τ + τ′ = 2ã revealed her nonce and key share. The answer's
// randomness is now bound to the message it answers.
describe('snapshot + stale share + flipped-choice replay (F1)', () => {
  it('a co-signer replaying its extension with flipped choice bits against a snapshot-restored signer learns neither σ reuse nor the key', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'snap' });
    const vault = clone(shares);
    const [A, B] = [ps[0]!, ps[1]!];
    const digest = sha256(new TextEncoder().encode('pay 1 BTC'));
    const answers: ReturnType<typeof r2>[] = [];
    const bits = Uint8Array.from({ length: XI }, (_, i) => ((i * 7 + 3) % 5 < 2 ? 1 : 0));
    for (const flip of [0, 1]) {
      const bShare = clone(vault).get(B)!; // B's receiver state at the same index (B is malicious; it can always do this)
      const fault = (d: Delivery) => {
        if (d.from === B && d.message.to === A && d.message.round === 1) {
          const rd = new ByteReader(d.message.payload);
          rd.expectTag('tessera/ecdsa/sign/r1d/v1');
          const ctx = rd.raw(32);
          const setupId = rd.raw(32);
          const ch = bits.map((b) => b ^ flip);
          const { message } = bShare.peers.get(A)!.ot!.in_.extend(ctx, XI, (n) => new Uint8Array(n), ch, 32);
          const m = decodeMessage(d.bytes);
          return {
            kind: 'replace',
            bytes: encodeMessage({
              ...m,
              payload: new ByteWriter().tag('tessera/ecdsa/sign/r1d/v1').raw(ctx).raw(setupId).bytes(message).finish(),
            }),
          } as const;
        }
        if (d.from === A && d.message.to === B && d.message.round === 2) answers.push(r2(d.message.payload));
        return { kind: 'deliver' } as const;
      };
      // same session id; A restored from the same VM snapshot: same share copy and same RNG stream (seed)
      ecdsaSignRun(clone(vault), [A, B], digest, { sessionId: 'sess-7', seed: 'snapshot', fault });
    }
    expect(answers.length).toBe(2);
    const [a1, a2] = answers as [ReturnType<typeof r2>, ReturnType<typeof r2>];
    expect(a1.sigma).not.toBe(a2.sigma); // σ is bound to the message answered
    const alpha0 = mod((a1.tau(0, 0) + a2.tau(0, 0)) * inv2);
    const alpha1 = mod((a1.tau(0, 1) + a2.tau(0, 1)) * inv2);
    const rA = mod(a1.gamma[0]! + alpha0);
    const skA = mod(a1.gamma[1]! + alpha1);
    const g = secp256k1.Point;
    expect(Buffer.from(g.BASE.multiply(rA).toBytes(true)).equals(Buffer.from(a1.R))).toBe(false);
    expect(Buffer.from(g.BASE.multiply(skA).toBytes(true)).equals(Buffer.from(a1.pk))).toBe(false);
    // B's own additive share in that session; sk_A + sk_B = x (two signers)
    const grp = getGroup('secp256k1');
    const sB = vault.get(B)!;
    const seeds = new Map([[A, sB.peers.get(A)!.zeroSeed]]);
    const lambdaB = ecdsaLagrange(grp, [A, B], B);
    // ctx is needed for ζ_B; recompute from the sign context
    const ctx = ecdsaSignContext('sess-7', ecdsaKeyPublicDigest(sB.public), digest, new Uint8Array(0), [A, B]);
    const zB = big(zeroShare(B, seeds, [A, B], ctx));
    const skB = mod(lambdaB * sB.secretScalar() + zB);
    const x = mod(skA + skB);
    expect(Buffer.from(g.BASE.multiply(x).toBytes(true)).equals(Buffer.from(sB.public.groupPublicKey))).toBe(false);
  });
});
