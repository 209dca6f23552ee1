/**
 * Arithmetic in GF(2^128) = GF(2)[X] / (X^128 + X^7 + X^2 + X + 1), used by the KOS consistency
 * check. The check MUST multiply in this field: replacing the multiplication by XOR (the typo in
 * DKLs18's description of KOS) makes the check useless.
 *
 * Representation: 16 bytes, little-endian: bit (i mod 8) of byte ⌊i/8⌋ is the coefficient of X^i.
 * Internally four 32-bit words, little-endian. The multiplication is constant-time in its operands:
 * a fixed 128-iteration shift-and-add with masks, no secret-dependent branches or indices.
 */

/** A field element as four little-endian 32-bit words (word 0 holds X^0..X^31). */
export type Gf128 = Uint32Array;

/** Loads 16 bytes at `off` of `bytes` as a field element. */
export function gfFromBytes(bytes: Uint8Array, off = 0): Gf128 {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const o = off + 4 * i;
    w[i] = (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0;
  }
  return w;
}

/** Encodes a field element as 16 bytes. */
export function gfToBytes(a: Gf128): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const v = a[i]!;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

/** acc ^= a (in place). */
export function gfAddInto(acc: Gf128, a: Gf128): void {
  acc[0]! ^= a[0]!;
  acc[1]! ^= a[1]!;
  acc[2]! ^= a[2]!;
  acc[3]! ^= a[3]!;
}

/** acc ^= a·b (in place): multiply-accumulate in GF(2^128). */
export function gfMulAddInto(acc: Gf128, a: Gf128, b: Gf128): void {
  // v runs through b·X^i mod P; for each bit i of a add v when the bit is set (masked, no branch).
  let v0 = b[0]!;
  let v1 = b[1]!;
  let v2 = b[2]!;
  let v3 = b[3]!;
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (let w = 0; w < 4; w++) {
    const aw = a[w]!;
    for (let bit = 0; bit < 32; bit++) {
      const m = -((aw >>> bit) & 1) | 0;
      z0 ^= v0 & m;
      z1 ^= v1 & m;
      z2 ^= v2 & m;
      z3 ^= v3 & m;
      // v <- v·X mod (X^128 + X^7 + X^2 + X + 1)
      const carry = -(v3 >>> 31) | 0;
      v3 = (v3 << 1) | (v2 >>> 31);
      v2 = (v2 << 1) | (v1 >>> 31);
      v1 = (v1 << 1) | (v0 >>> 31);
      v0 = (v0 << 1) ^ (0x87 & carry);
    }
  }
  acc[0] = (acc[0]! ^ z0) >>> 0;
  acc[1] = (acc[1]! ^ z1) >>> 0;
  acc[2] = (acc[2]! ^ z2) >>> 0;
  acc[3] = (acc[3]! ^ z3) >>> 0;
}

/** a·b in GF(2^128). */
export function gfMul(a: Gf128, b: Gf128): Gf128 {
  const out = new Uint32Array(4);
  gfMulAddInto(out, a, b);
  return out;
}
