/**
 * Non-interactive proof of knowledge of a discrete logarithm (B = b·G on secp256k1) with
 * Fischlin's transform (M. Fischlin, "Communication-Efficient Non-Interactive Proofs of Knowledge
 * with Online Extractors", CRYPTO 2005), in the stricter form where every repetition's hash must
 * vanish on its first BITS bits (instead of Fischlin's bound on the sum of the hash values). Unlike
 * Fiat–Shamir, the knowledge extractor is straight-line (no rewinding), which is what the UC
 * analysis of VSOT (DKLs18, with an ideal zero-knowledge functionality) needs.
 *
 * Parameters: REPS = 16 repetitions × BITS = 8 zero bits: a prover that does not know b can answer
 * only one challenge per commitment, so each hash query succeeds with probability 2^-128 for the
 * whole proof (soundness ≈ Q·2^-128 for Q queries); an extractor that watches the prover's hash
 * queries sees two answers for one commitment and computes b. Challenges range
 * over 2^CHALLENGE_BITS = 2^16 values (the prover needs ~2^8 tries per repetition; running out is
 * a 2^-369 event per repetition, handled by restarting with fresh commitments).
 *
 * Hash per try: SHA-256(prefix ‖ i ‖ e ‖ z_i) with prefix = H(ctx, B, R_1 … R_REPS).
 * Proof encoding: REPS × (R_i (33) ‖ e_i (2, big-endian) ‖ z_i (32)).
 *
 * NOT CONSTANT-TIME: the responses z_i = k_i + e·b are computed with BigInt (b is secret) and the
 * prover's running time depends on the hash outputs (not on b).
 */

import { constantTimeEqual } from '../../common/bytes.js';
import { InvalidStateError } from '../../common/errors.js';
import { concat, taggedHash } from '../math/hash.js';
import type { Rng } from '../math/rng.js';
import { OtCheckFailedError } from './errors.js';
import { baseMul, decodePoint, POINT_LEN, pointAdd, pointMul, randomSecretScalar } from './point.js';
import { decodeScalar, encodeScalar, mod } from './scalar.js';
import { sha256Raw } from './wire.js';

export const REPS = 16;
export const BITS = 8;
export const CHALLENGE_BITS = 16;
const REP_LEN = POINT_LEN + 2 + 32;
/** Length of an encoded proof. */
export const DLOG_PROOF_LEN = REPS * REP_LEN;

function prefixOf(ctx: Uint8Array, B: Uint8Array, Rs: Uint8Array[]): Uint8Array {
  return taggedHash('sha256', 'tessera/dlog-fischlin/v1', ctx, B, ...Rs);
}

/** True iff the first BITS bits of SHA-256(prefix ‖ i ‖ e ‖ z) are zero (BITS = 8: the first byte). */
function hashOk(buf: Uint8Array, i: number, e: number, z: Uint8Array): boolean {
  buf[32] = i;
  buf[33] = e >>> 8;
  buf[34] = e & 0xff;
  buf.set(z, 35);
  return sha256Raw(buf)[0] === 0;
}

/** Proves knowledge of b (32-byte secret scalar in [1, q)) for B = b·G, bound to `ctx`. */
export function proveDlog(ctx: Uint8Array, b: Uint8Array, B: Uint8Array, random: Rng): Uint8Array {
  const bi = decodeScalar(b);
  if (bi === undefined || bi === 0n) throw new InvalidStateError('secret scalar out of range');
  for (;;) {
    const ks = Array.from({ length: REPS }, () => randomSecretScalar(random));
    const Rs = ks.map(baseMul);
    const buf = new Uint8Array(67);
    buf.set(prefixOf(ctx, B, Rs), 0);
    const reps: Uint8Array[] = [];
    let exhausted = false;
    for (let i = 0; i < REPS && !exhausted; i++) {
      let z = decodeScalar(ks[i]!)!;
      let found = -1;
      let zBytes: Uint8Array = new Uint8Array(32);
      for (let e = 0; e < 1 << CHALLENGE_BITS; e++) {
        zBytes = encodeScalar(z);
        if (z !== 0n && hashOk(buf, i, e, zBytes)) {
          found = e;
          break;
        }
        z = mod(z + bi);
      }
      if (found < 0) exhausted = true;
      else reps.push(concat(Rs[i]!, Uint8Array.of(found >>> 8, found & 0xff), zBytes));
    }
    for (const k of ks) k.fill(0);
    buf.fill(0);
    if (!exhausted) return concat(...reps);
  }
}

/**
 * Verifies a proof for B (already validated) bound to `ctx`. Throws `MalformedMessageError`
 * (invalid point) or `OtCheckFailedError` blaming `from` if the proof is invalid.
 */
export function verifyDlog(ctx: Uint8Array, B: Uint8Array, proof: Uint8Array, from: string): void {
  if (proof.length !== DLOG_PROOF_LEN) throw new OtCheckFailedError(from, 'proof of knowledge has the wrong length');
  const Rs: Uint8Array[] = [];
  for (let i = 0; i < REPS; i++)
    Rs.push(decodePoint(proof.subarray(i * REP_LEN, i * REP_LEN + POINT_LEN), from, `proof commitment ${i}`));
  const buf = new Uint8Array(67);
  buf.set(prefixOf(ctx, B, Rs), 0);
  for (let i = 0; i < REPS; i++) {
    const off = i * REP_LEN + POINT_LEN;
    const e = (proof[off]! << 8) | proof[off + 1]!;
    const zBytes = proof.subarray(off + 2, off + 34);
    const z = decodeScalar(zBytes);
    if (z === undefined || z === 0n) throw new OtCheckFailedError(from, 'proof response out of range');
    if (!hashOk(buf, i, e, zBytes)) throw new OtCheckFailedError(from, 'proof of knowledge fails the work check');
    const lhs = baseMul(zBytes);
    const rhs = e === 0 ? Rs[i]! : pointAdd(Rs[i]!, pointMul(B, encodeScalar(BigInt(e)))!);
    if (rhs === null || !constantTimeEqual(lhs, rhs))
      throw new OtCheckFailedError(from, 'proof of knowledge of the base-OT key does not verify');
  }
}
