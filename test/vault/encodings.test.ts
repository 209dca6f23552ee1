import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBody,
  encodeBody,
  type KeyringBody,
  KeyringFormatError,
  type KeyringHeader,
  openKeyring,
  parseKeyring,
  sealKeyring,
} from '../../src/vault/keyring-format.js';
import { encodeAad, openRecord, type RecordIdentity, sealRecord } from '../../src/vault/record-seal.js';
import { checkWal } from '../../src/vault/wal-check.js';

const identity: fc.Arbitrary<RecordIdentity> = fc.record({
  vaultId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  kind: fc.constant('share' as const),
  keyType: fc.constantFrom('ecdsa' as const, 'eddsa' as const),
  walletId: fc.string({ minLength: 1, maxLength: 40 }),
  version: fc.nat({ max: 2 ** 40 }),
  dataKeyId: fc.nat({ max: 2 ** 32 - 1 }),
});

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));

const body: fc.Arbitrary<KeyringBody> = fc
  .record({
    page: key32,
    next: fc.option(key32, { nil: undefined }),
    data: fc.array(key32, { minLength: 1, maxLength: 4 }),
    t: fc.nat({ max: 2 ** 45 }),
  })
  .map(({ page, next, data, t }) => ({
    pageKeys: [
      { id: 1, role: 'current' as const, key: page },
      ...(next ? [{ id: 2, role: 'next' as const, key: next }] : []),
    ],
    dataKeys: data.map((key, i) => ({
      id: i + 1,
      status: i === data.length - 1 ? ('primary' as const) : ('decrypt-only' as const),
      createdAt: t,
      key,
    })),
  }));

function header(): KeyringHeader {
  return {
    vaultId: randomBytes(16),
    kdf: 1,
    argon2: { opsLimit: 3, memLimit: 65536 * 1024 },
    salt: randomBytes(16),
    generation: 7,
    verifier: randomBytes(32),
  };
}

const plain = (b: KeyringBody) =>
  JSON.stringify({
    p: b.pageKeys.map((k) => [k.id, k.role, k.key.toString('hex')]),
    d: b.dataKeys.map((k) => [k.id, k.status, k.createdAt, k.key.toString('hex')]),
  });

describe('record envelope and AAD encodings', () => {
  it('the AAD encoding is injective: distinct identities never encode alike', () => {
    fc.assert(
      fc.property(identity, identity, (a, b) => {
        const same =
          JSON.stringify({ ...a, vaultId: [...a.vaultId] }) === JSON.stringify({ ...b, vaultId: [...b.vaultId] });
        expect(Buffer.from(encodeAad(a)).equals(Buffer.from(encodeAad(b)))).toBe(same);
      }),
    );
  });

  it('a record opens under its own identity and under no other (moved to another wallet, version, type or key id)', () => {
    fc.assert(
      fc.property(identity, identity, fc.uint8Array({ minLength: 1, maxLength: 300 }), (a, b, data) => {
        const key = randomBytes(32);
        const sealed = sealRecord(key, a, data);
        expect(Buffer.from(openRecord(key, a, sealed)!).equals(Buffer.from(data))).toBe(true);
        if (!Buffer.from(encodeAad(a)).equals(Buffer.from(encodeAad(b)))) expect(openRecord(key, b, sealed)).toBeNull();
      }),
    );
  });

  it('a record with any byte flipped fails to open', () => {
    fc.assert(
      fc.property(
        identity,
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (id, data, pos, x) => {
          const key = randomBytes(32);
          const sealed = Buffer.from(sealRecord(key, id, data));
          sealed[pos % sealed.length]! ^= x;
          expect(openRecord(key, id, sealed)).toBeNull();
        },
      ),
    );
  });

  it('the same plaintext sealed twice gives different envelopes (fresh nonce)', () => {
    const key = randomBytes(32);
    const id: RecordIdentity = {
      vaultId: randomBytes(16),
      kind: 'share',
      keyType: 'ecdsa',
      walletId: 'w',
      version: 1,
      dataKeyId: 1,
    };
    expect(
      Buffer.from(sealRecord(key, id, Buffer.alloc(32))).equals(Buffer.from(sealRecord(key, id, Buffer.alloc(32)))),
    ).toBe(false);
  });
});

describe('keyring file encoding', () => {
  it('body encoding round-trips', () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(plain(decodeBody(encodeBody(b)))).toBe(plain(b));
      }),
    );
  });

  it('a sealed keyring round-trips through parse and open', () => {
    fc.assert(
      fc.property(body, (b) => {
        const kek = randomBytes(32);
        const h = header();
        const parsed = parseKeyring(sealKeyring(h, b, kek));
        expect(parsed.header.generation).toBe(7);
        expect(Buffer.from(parsed.header.vaultId).equals(Buffer.from(h.vaultId))).toBe(true);
        expect(plain(openKeyring(parsed, kek))).toBe(plain(b));
      }),
      { numRuns: 50 },
    );
  });

  it('any flipped byte or truncation of a keyring file is detected before a key is tried', () => {
    const kek = randomBytes(32);
    const file = sealKeyring(header(), fc.sample(body, 1)[0]!, kek);
    fc.assert(
      fc.property(fc.nat({ max: file.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const bad = Buffer.from(file);
        bad[pos]! ^= x;
        expect(() => parseKeyring(bad)).toThrow(KeyringFormatError);
      }),
    );
    fc.assert(
      fc.property(fc.nat({ max: file.length - 1 }), (len) => {
        expect(() => parseKeyring(file.subarray(0, len))).toThrow(KeyringFormatError);
      }),
    );
  });

  it('a keyring body breaking its invariants is refused', () => {
    const k = randomBytes(32);
    expect(() =>
      decodeBody(encodeBody({ pageKeys: [], dataKeys: [{ id: 1, status: 'primary', createdAt: 0, key: k }] })),
    ).toThrow(KeyringFormatError);
    expect(() =>
      decodeBody(
        encodeBody({
          pageKeys: [{ id: 1, role: 'current', key: k }],
          dataKeys: [
            { id: 1, status: 'primary', createdAt: 0, key: k },
            { id: 2, status: 'primary', createdAt: 0, key: k },
          ],
        }),
      ),
    ).toThrow(KeyringFormatError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        try {
          decodeBody(junk);
        } catch (e) {
          expect(e).toBeInstanceOf(KeyringFormatError);
        }
      }),
    );
  });
});

describe('WAL checker', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }),
        (wal, shm) => {
          const v = checkWal(wal, shm);
          expect(typeof v.ok).toBe('boolean');
        },
      ),
    );
  });
});
