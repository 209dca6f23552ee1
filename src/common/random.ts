/**
 * Random bytes for keys, nonces and protocol secrets: the kernel's CSPRNG, read on every call
 * (libsodium's `randombytes_buf`, which is one `getrandom(2)` per call on Linux and keeps no
 * generator state in the process).
 *
 * Why not `node:crypto.randomBytes`: OpenSSL's DRBG keeps its state in process memory, so a process
 * or VM resumed from a memory snapshot replays its output until the next reseed — repeating an
 * AES-GCM nonce under a vault data key, or a signing nonce [2/F2]. A kernel with VM generation-ID
 * support (Linux ≥ 5.18 on Hyper-V, QEMU/KVM with a vmgenid device, Firecracker) reseeds itself
 * when a snapshot is resumed.
 */
import sodium from 'sodium-native';

/** Returns `n` fresh random bytes from the kernel. Throws `RangeError` for a negative or non-integer `n`. */
export function secureRandomBytes(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('byte count must be a non-negative integer');
  const out = Buffer.alloc(n);
  if (n > 0) sodium.randombytes_buf(out);
  return out;
}
