import { describe, expect, it } from 'vitest';
import { DLOG_PROOF_LEN, proveDlog, REPS, verifyDlog } from '../../../src/tss/ot/dlog-proof.js';
import { MalformedMessageError, OtCheckFailedError } from '../../../src/tss/ot/errors.js';
import { baseMul, randomSecretScalar } from '../../../src/tss/ot/point.js';
import { decodeScalar, encodeScalar, mod } from '../../../src/tss/ot/scalar.js';
import { seededRandom } from './helpers.js';

const ctx = new Uint8Array(32).fill(9);
const b = randomSecretScalar(seededRandom('b'));
const B = baseMul(b);
const proof = proveDlog(ctx, b, B, seededRandom('k'));
const REP = 67;

describe('Fischlin proof of knowledge of a discrete log', () => {
  it('an honest proof verifies and has the documented length', () => {
    expect(proof).toHaveLength(DLOG_PROOF_LEN);
    expect(() => verifyDlog(ctx, B, proof, 'S')).not.toThrow();
  });

  it('is bound to the context and to the statement', () => {
    expect(() => verifyDlog(new Uint8Array(32), B, proof, 'S')).toThrow(OtCheckFailedError);
    expect(() => verifyDlog(ctx, baseMul(randomSecretScalar(seededRandom('other'))), proof, 'S')).toThrow(
      OtCheckFailedError,
    );
  });

  it('an answer to another challenge that satisfies the group equation still fails the work check', () => {
    // (e+1, z+b) satisfies z·G = R + e·B, as a prover knowing b could produce for any e; only the
    // hash condition makes the prover commit to a challenge it cannot choose.
    const bi = decodeScalar(b)!;
    for (let i = 0; i < REPS; i++) {
      const forged = proof.slice();
      const off = i * REP + 33;
      const e = (forged[off]! << 8) | forged[off + 1]!;
      forged[off] = (e + 1) >>> 8;
      forged[off + 1] = (e + 1) & 0xff;
      forged.set(encodeScalar(mod(decodeScalar(forged.subarray(off + 2, off + 34))! + bi)), off + 2);
      expect(() => verifyDlog(ctx, B, forged, 'S')).toThrow(/work check/);
    }
  });

  it('rejects invalid commitments, out-of-range responses and wrong lengths, blaming the prover', () => {
    const badR = proof.slice();
    badR.fill(0xff, 1, 33);
    expect(() => verifyDlog(ctx, B, badR, 'S')).toThrow(MalformedMessageError);
    const badZ = proof.slice();
    badZ.fill(0xff, 35, 67);
    const e = (() => {
      try {
        verifyDlog(ctx, B, badZ, 'S');
      } catch (err) {
        return err;
      }
    })() as OtCheckFailedError;
    expect(e).toBeInstanceOf(OtCheckFailedError);
    expect(e.blame).toBe('S');
    expect(() => verifyDlog(ctx, B, proof.subarray(1), 'S')).toThrow(OtCheckFailedError);
  });
});
