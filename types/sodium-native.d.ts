// The subset of sodium-native's API that Tessera uses (the package ships no type declarations).
declare module 'sodium-native' {
  export const crypto_pwhash_ALG_ARGON2ID13: number;
  export const crypto_pwhash_SALTBYTES: number;
  export const crypto_pwhash_OPSLIMIT_MIN: number;
  export const crypto_pwhash_OPSLIMIT_MAX: number;
  export const crypto_pwhash_MEMLIMIT_MIN: number;
  export const crypto_pwhash_MEMLIMIT_MAX: number;
  export function crypto_pwhash(out: Uint8Array, passwd: Uint8Array, salt: Uint8Array, opslimit: number, memlimit: number, alg: number): void;
  export function crypto_pwhash_async(
    out: Uint8Array,
    passwd: Uint8Array,
    salt: Uint8Array,
    opslimit: number,
    memlimit: number,
    alg: number,
  ): Promise<void>;
  export function sodium_malloc(size: number): Buffer & { secure: boolean };
  export function sodium_memzero(buf: Uint8Array): void;
  export function sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
  export function randombytes_buf(buf: Uint8Array): void;
  export const crypto_core_ed25519_BYTES: number;
  export const crypto_core_ed25519_SCALARBYTES: number;
  export const crypto_core_ed25519_NONREDUCEDSCALARBYTES: number;
  export function crypto_core_ed25519_is_valid_point(p: Uint8Array): boolean;
  export function crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  export function crypto_core_ed25519_sub(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  export function crypto_core_ed25519_scalar_reduce(r: Uint8Array, s: Uint8Array): void;
  export function crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  export function crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  const sodium: {
    [K in keyof typeof import('sodium-native')]: (typeof import('sodium-native'))[K];
  };
  export default sodium;
}
