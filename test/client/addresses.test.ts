/** Display addresses: EIP-55 Ethereum addresses of secp256k1 keys, base58 (Solana) of Ed25519 keys. */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { base58, ethereumAddress, solanaAddress } from '../../src/client/index.js';

const pubOf = (d: bigint) => secp256k1.Point.BASE.multiply(d);

describe('ethereumAddress', () => {
  it('matches the well-known addresses of private keys 1 and 2 (EIP-55 checksummed) in every key encoding', () => {
    for (const [d, address] of [
      [1n, '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf'],
      [2n, '0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF'],
    ] as const) {
      const p = pubOf(d);
      expect(ethereumAddress(p.toBytes(false))).toBe(address);
      expect(ethereumAddress(p.toBytes(false).subarray(1))).toBe(address); // 64 bytes X‖Y, as keygen results carry it
      expect(ethereumAddress(p.toBytes(true))).toBe(address);
    }
  });

  it('refuses another length and a point off the curve', () => {
    expect(() => ethereumAddress(new Uint8Array(32))).toThrow(/64 bytes/);
    expect(() => ethereumAddress(new Uint8Array(64))).toThrow(/not a point/);
  });
});

describe('base58 and solanaAddress', () => {
  it("encodes Bitcoin's base58 vectors", () => {
    for (const [h, b] of [
      ['', ''],
      ['61', '2g'],
      ['626262', 'a3gV'],
      ['73696d706c792061206c6f6e6720737472696e67', '2cFupjhnEsSn59qHXstmK2ffpLv2'],
      ['00eb15231dfceb60925886b67d065299925915aeb172c06647', '1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L'],
      ['ecac89cad93923c02321', 'EJDM8drfXA6uyA'],
      ['00000000000000000000', '1111111111'],
    ])
      expect(base58(Buffer.from(h!, 'hex'))).toBe(b);
  });

  it("a Solana address is the key's base58: the all-zero key is the system program", () => {
    expect(solanaAddress(new Uint8Array(32))).toBe('11111111111111111111111111111111');
    expect(() => solanaAddress(new Uint8Array(33))).toThrow(/32 bytes/);
  });
});
