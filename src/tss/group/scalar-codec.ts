import { InvalidArgumentError } from '../../common/errors.js';
import { bigToBytesBE, bigToBytesLE, bytesToBigBE, bytesToBigLE, mod } from './group.js';

/** Scalar encode/decode/reduce for one curve's byte order. */
export interface ScalarCodec {
  encodeScalar(s: bigint): Uint8Array;
  decodeScalar(bytes: Uint8Array): bigint;
  reduceBytes(bytes: Uint8Array): bigint;
}

/** Builds the scalar codec of a group of prime order `order` with `len`-byte scalars. */
export function scalarCodec(order: bigint, len: number, littleEndian: boolean): ScalarCodec {
  const toBig = littleEndian ? bytesToBigLE : bytesToBigBE;
  const toBytes = littleEndian ? bigToBytesLE : bigToBytesBE;
  return {
    encodeScalar(s: bigint): Uint8Array {
      if (s < 0n || s >= order) throw new InvalidArgumentError('scalar out of range');
      return toBytes(s, len);
    },
    decodeScalar(bytes: Uint8Array): bigint {
      if (!(bytes instanceof Uint8Array) || bytes.length !== len) {
        throw new InvalidArgumentError(`scalar must be ${len} bytes`);
      }
      const s = toBig(bytes);
      if (s >= order) throw new InvalidArgumentError('scalar is not reduced modulo the group order');
      return s;
    },
    reduceBytes(bytes: Uint8Array): bigint {
      return mod(toBig(bytes), order);
    },
  };
}
