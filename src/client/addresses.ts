/**
 * Chain addresses of wallet public keys, for display: an Ethereum address (EIP-55 checksummed)
 * of a secp256k1 key and a Solana address (base58) of an Ed25519 key.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { InvalidArgumentError } from '../common/errors.js';

/**
 * The EIP-55 checksummed Ethereum address (`0x` + 40 hex digits) of a secp256k1 public key: 64
 * bytes X‖Y (as a keygen result carries it), 65 bytes uncompressed or 33 compressed. Throws
 * `InvalidArgumentError` for another length or a point not on the curve.
 */
export function ethereumAddress(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || ![33, 64, 65].includes(publicKey.length))
    throw new InvalidArgumentError('a secp256k1 public key is 64 bytes X‖Y, 65 bytes uncompressed or 33 compressed');
  let xy: Uint8Array;
  try {
    const sec1 = publicKey.length === 64 ? Uint8Array.of(4, ...publicKey) : publicKey;
    xy = secp256k1.Point.fromBytes(sec1).toBytes(false).subarray(1);
  } catch {
    throw new InvalidArgumentError('the secp256k1 public key is not a point on the curve');
  }
  const lower = Buffer.from(keccak_256(xy).subarray(12)).toString('hex');
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(lower))).toString('hex');
  let out = '0x';
  for (let i = 0; i < 40; i++) out += Number.parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  return out;
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Bitcoin-alphabet base58 of `bytes` (each leading zero byte is a `1`). Does not throw. */
export function base58(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = BASE58[Number(n % 58n)]! + out;
    n /= 58n;
  }
  return '1'.repeat(zeros) + out;
}

/** The Solana address of a 32-byte Ed25519 public key: its base58. Throws `InvalidArgumentError` for another length. */
export function solanaAddress(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new InvalidArgumentError('an Ed25519 public key is 32 bytes');
  return base58(publicKey);
}
