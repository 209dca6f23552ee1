/**
 * Pins the encodings of the byte codecs the refactor will merge — common/bytes.ts (vault, keyring,
 * backup), tss/session/codec.ts (key shares, protocol messages), the OT layer's wire.ts, the
 * tagged hashes — and of the small deterministic encoders built on them: scalar codecs, the test
 * randomness every other fixture depends on, the vault's record identity (AEAD associated data),
 * keyring body and key derivation, the audit log's entry, chain hash and head AAD, and the backup
 * frame / manifest / trailer / record encoders.
 * Fixture: test/fixtures/formats/codecs/encodings.json (name → hex); a few are also spelled out
 * literally below so a reader sees the layout.
 */
import { describe, expect, it } from 'vitest';
import {
  type BackupRecord,
  backupFileName,
  decodeManifest,
  decodeRecord,
  decodeTrailer,
  encodeManifest,
  encodeRecord,
  encodeTrailer,
  FORMAT_VERSION,
  FRAME_MANIFEST,
  FRAME_RECORD,
  FRAME_TRAILER,
  MAGIC,
  type Manifest,
  writeFrame,
} from '../../src/backup/format.js';
import { ByteReader as CommonReader, ByteWriter as CommonWriter } from '../../src/common/bytes.js';
import { getGroup } from '../../src/tss/group/index.js';
import { taggedHash } from '../../src/tss/math/hash.js';
import { hedgedRng, seededRng, setupRng } from '../../src/tss/math/rng.js';
import { encodeScalar as otEncodeScalar } from '../../src/tss/ot/scalar.js';
import { encodeU32, messageWriter, pairContext, readMessage } from '../../src/tss/ot/wire.js';
import { auditChainHash, decodeAuditEntry, encodeAuditEntry } from '../../src/vault/audit-log.js';
import { deriveKeys, KDF_ARGON2ID, KDF_RAW_KEY } from '../../src/vault/kdf.js';
import { decodeBody, encodeBody, type KeyringBody } from '../../src/vault/keyring-format.js';
import {
  ENVELOPE_FORMAT,
  ENVELOPE_OVERHEAD,
  encodeAad,
  encodeAuditHeadAad,
  KEY_TYPE_CODE,
  RECORD_KIND,
} from '../../src/vault/record-seal.js';
import { FAST_ARGON2 } from '../helpers/vault.js';
import { hex, pinJson, readFixture, unhex } from './pin.js';

const bytes = (...xs: number[]) => Uint8Array.from(xs);
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const enc = (s: string) => new TextEncoder().encode(s);
const common = (f: (w: CommonWriter) => unknown) => {
  const w = new CommonWriter(4);
  f(w);
  return w.finish();
};
// tss/session/codec.ts was merged into common/bytes.ts: its pinned encodings must come out of the one codec unchanged
const session = (f: (w: CommonWriter) => unknown) => {
  const w = new CommonWriter();
  f(w);
  return w.finish();
};

const KEYRING_BODY: KeyringBody = {
  pageKeys: [
    { id: 1, role: 'current', key: Buffer.alloc(32, 0xa1) },
    { id: 2, role: 'next', key: Buffer.alloc(32, 0xa2) },
  ],
  dataKeys: [
    { id: 1, status: 'decrypt-only', createdAt: 1_700_000_000_000, key: Buffer.alloc(32, 0xd1) },
    { id: 7, status: 'primary', createdAt: 1_735_689_600_123, key: Buffer.alloc(32, 0xd7) },
  ],
};

const MANIFEST_FULL: Manifest = {
  formatVersion: 2,
  nodeId: 'node-1',
  vaultId: '00112233445566778899aabbccddeeff',
  kind: 'full',
  chain: 3,
  fromSeq: 0,
  prevDigest: new Uint8Array(32),
  createdAt: 1_735_689_600_000,
};
const MANIFEST_INCR: Manifest = {
  ...MANIFEST_FULL,
  kind: 'incremental',
  fromSeq: 41,
  prevDigest: fill(32, 0x5c),
  createdAt: 1_735_693_200_000,
};
const INFO = {
  keyType: 'ecdsa' as const,
  walletId: 'wallet-é',
  version: 4,
  threshold: 1,
  participants: ['node-1', 'node-2', 'node-3'],
  dataKeyId: 0,
  createdAt: 1_735_689_600_001,
  updatedAt: 1_735_689_600_002,
  seq: 17,
};
const RECORDS: [string, BackupRecord][] = [
  [
    'wallet',
    {
      kind: 'wallet',
      seq: 16,
      wallet: {
        keyType: 'eddsa',
        walletId: 'w1',
        threshold: 2,
        participants: ['a', 'b', 'c'],
        currentVersion: 3,
        publicKey: fill(32, 0x07),
        createdAt: 1000,
        updatedAt: 2000,
        seq: 16,
      },
    },
  ],
  [
    'wallet-no-current',
    {
      kind: 'wallet',
      seq: 18,
      wallet: {
        keyType: 'ecdsa',
        walletId: 'w2',
        threshold: 1,
        participants: ['a', 'b'],
        currentVersion: null,
        publicKey: fill(33, 0x02),
        createdAt: 1000,
        updatedAt: 3000,
        seq: 18,
      },
    },
  ],
  ['share', { kind: 'share', seq: 17, info: { ...INFO, status: 'active' }, share: bytes(1, 2, 3, 4, 5) }],
  [
    'share-pending',
    { kind: 'share', seq: 19, info: { ...INFO, version: 5, status: 'pending', seq: 19 }, share: fill(3, 0xee) },
  ],
  [
    'share-retired',
    { kind: 'share-retired', seq: 20, info: { ...INFO, version: 3, status: 'retired', seq: 20 }, retiredBy: 4 },
  ],
  [
    'share-retired-no-successor',
    { kind: 'share-retired', seq: 21, info: { ...INFO, version: 2, status: 'retired', seq: 21 }, retiredBy: null },
  ],
  ['wallet-deleted', { kind: 'wallet-deleted', seq: 22, keyType: 'eddsa', walletId: 'gone', at: 5000 }],
  ['share-deleted', { kind: 'share-deleted', seq: 23, keyType: 'ecdsa', walletId: 'w2', version: 1, at: 6000 }],
];
const record = (r: BackupRecord) => common((w) => encodeRecord(w, r));
const AUDIT_ENTRY = {
  time: 1_735_689_600_123,
  actor: 'initiator-é',
  action: 'sign',
  walletId: 'wallet-1',
  sessionId: 'session-9',
  outcome: 'error',
  errorCode: 'ERROR_MSG_VALIDATION',
  details: { parties: 3, retry: false, delta: -2, note: 'nonce reused?' },
};

async function encodings(): Promise<Record<string, string>> {
  const e: Record<string, string> = {};
  const put = (k: string, b: Uint8Array) => {
    e[k] = hex(b);
  };
  // common/bytes.ts
  put(
    'common/u8 0,1,255',
    common((w) => w.u8(0).u8(1).u8(255)),
  );
  put(
    'common/u16 0x1234,65535',
    common((w) => w.u16(0x1234).u16(65535)),
  );
  put(
    'common/u32 0xdeadbeef',
    common((w) => w.u32(0xdeadbeef)),
  );
  put(
    'common/u64 number 2^53-1',
    common((w) => w.u64(Number.MAX_SAFE_INTEGER)),
  );
  put(
    'common/u64 number 0x1_0000_0001',
    common((w) => w.u64(0x1_0000_0001)),
  );
  put(
    'common/u64 bigint 2^64-1',
    common((w) => w.u64(0xffff_ffff_ffff_ffffn)),
  );
  put(
    'common/raw',
    common((w) => w.raw(bytes(9, 8, 7))),
  );
  put(
    'common/bytes',
    common((w) => w.bytes(bytes(9, 8, 7))),
  );
  put(
    'common/bytes empty',
    common((w) => w.bytes(new Uint8Array(0))),
  );
  put(
    'common/string ascii',
    common((w) => w.str('node-1')),
  );
  put(
    'common/string unicode',
    common((w) => w.str('wallet-é€😀')),
  );
  put(
    'common/string empty',
    common((w) => w.str('')),
  );
  put(
    'common/beginLength..endLength',
    common((w) => {
      const at = w.beginLength();
      w.u8(1).str('ab');
      w.endLength(at).u16(2);
    }),
  );
  // tss/session/codec.ts
  put(
    'session/u8 0,1,255',
    session((w) => w.u8(0).u8(1).u8(255)),
  );
  put(
    'session/u16 0x1234,65535',
    session((w) => w.u16(0x1234).u16(65535)),
  );
  put(
    'session/u32 0xdeadbeef',
    session((w) => w.u32(0xdeadbeef)),
  );
  put(
    'session/raw',
    session((w) => w.raw(bytes(9, 8, 7))),
  );
  put(
    'session/bytes',
    session((w) => w.bytes(bytes(9, 8, 7))),
  );
  put(
    'session/bytes empty',
    session((w) => w.bytes(new Uint8Array(0))),
  );
  put(
    'session/str ascii',
    session((w) => w.str('node-1')),
  );
  put(
    'session/str unicode',
    session((w) => w.str('wallet-é€😀')),
  );
  put(
    'session/str leading BOM',
    session((w) => w.str('\uFEFFn1')),
  );
  put(
    'session/tag',
    session((w) => w.tag('tessera/frost/key-share')),
  );
  // tss/ot/wire.ts
  put('wire/encodeU32 0,1,2^32-1', Buffer.concat([encodeU32(0), encodeU32(1), encodeU32(0xffffffff)]));
  put(
    'wire/MessageWriter type 0x42',
    messageWriter(0x42)
      .raw(bytes(1, 2))
      .u32(7)
      .bytes(bytes(3, 4, 5))
      .bytes(new Uint8Array(0))
      .finish(),
  );
  put('wire/taggedHash', taggedHash('sha256', 'tessera/pin', bytes(1), new Uint8Array(0), enc('x')));
  put('wire/taggedHash no parts', taggedHash('sha256', 'tessera/pin'));
  put('wire/taggedHash512', taggedHash('sha512', 'tessera/pin', bytes(1), enc('x')));
  put('wire/pairContext', pairContext(enc('setup'), 'alice', 'bob'));
  // tss/math/hash.ts
  put('hash/taggedDigest', taggedHash('sha256', 'tessera/pin', bytes(1), new Uint8Array(0), enc('x')));
  // scalar codecs
  const ed = getGroup('ed25519', 'fast');
  const ec = getGroup('secp256k1', 'fast');
  put('scalar/ed25519 encode 0x0102 (little-endian)', ed.encodeScalar(0x0102n));
  put('scalar/ed25519 encode order-1', ed.encodeScalar(ed.order - 1n));
  put('scalar/secp256k1 encode 0x0102 (big-endian)', ec.encodeScalar(0x0102n));
  put('scalar/secp256k1 encode order-1', ec.encodeScalar(ec.order - 1n));
  put('scalar/ot encodeScalar 0x0102', otEncodeScalar(0x0102n));
  // test randomness every seeded fixture depends on
  put('rng/seededRng("pins") 100 bytes', seededRng('pins')(100));
  const s = seededRng('pins');
  put('rng/seededRng("pins") 3+70 bytes', Buffer.concat([s(3), s(70)]));
  put(
    'rng/hedgedRng(seededRng, ctx) 2 calls',
    (() => {
      const h = hedgedRng(seededRng('pins'), bytes(1, 2, 3));
      return Buffer.concat([h(10), h(80)]);
    })(),
  );
  put(
    'rng/setupRng 48 bytes',
    setupRng(seededRng('pins'), 'tessera/pin', fill(32, 1), 'node-1', { peer: 'node-2', secret: fill(32, 2) })(48),
  );
  // vault: record identity (AEAD associated data)
  const vaultId = Uint8Array.from({ length: 16 }, (_, i) => i);
  put(
    'vault/aad share ecdsa',
    encodeAad({ vaultId, kind: 'share', keyType: 'ecdsa', walletId: 'wallet-1', version: 1, dataKeyId: 1 }),
  );
  put(
    'vault/aad share eddsa unicode big version',
    encodeAad({
      vaultId,
      kind: 'share',
      keyType: 'eddsa',
      walletId: 'wallet-é',
      version: 2 ** 40 + 5,
      dataKeyId: 0xfffffffe,
    }),
  );
  // vault: the audit log's entry encoding, chain hash and sealed head's associated data
  put('vault/audit entry', encodeAuditEntry(AUDIT_ENTRY));
  put('vault/audit entry minimal', encodeAuditEntry({ time: 0, actor: 'node-1', action: 'backup', outcome: 'ok' }));
  put('vault/audit chain hash', auditChainHash(vaultId, 7, fill(32, 0x6b), encodeAuditEntry(AUDIT_ENTRY)));
  put('vault/aad audit head', encodeAuditHeadAad(vaultId, 3));
  // vault: keyring body and key derivation
  put('vault/keyring body', encodeBody(KEYRING_BODY));
  const salt = fill(16, 0x5a);
  const pw = await deriveKeys(
    { kind: 'password', password: enc('format-pins') },
    KDF_ARGON2ID,
    FAST_ARGON2,
    salt,
    vaultId,
  );
  put('vault/kdf argon2id kek', pw.kek);
  put('vault/kdf argon2id verifier', pw.verifier);
  const raw = await deriveKeys(
    { kind: 'key', key: fill(32, 0x33) },
    KDF_RAW_KEY,
    { opsLimit: 0, memLimit: 0 },
    salt,
    vaultId,
  );
  put('vault/kdf raw kek', raw.kek);
  put('vault/kdf raw verifier', raw.verifier);
  // backup format
  put('backup/MAGIC', MAGIC);
  put('backup/manifest full', encodeManifest(MANIFEST_FULL));
  put('backup/manifest incremental', encodeManifest(MANIFEST_INCR));
  put('backup/trailer', encodeTrailer({ toSeq: 99, recordCount: 12, payloadDigest: fill(32, 0xab) }));
  for (const [name, r] of RECORDS) put(`backup/record ${name}`, record(r));
  put(
    'backup/frames',
    common((w) => {
      writeFrame(w, FRAME_MANIFEST, bytes(1, 2));
      writeFrame(w, FRAME_RECORD, new Uint8Array(0));
      writeFrame(w, FRAME_TRAILER, bytes(3));
    }),
  );
  return e;
}

const pinned = () => JSON.parse(readFixture('codecs/encodings.json')) as Record<string, string>;

describe('canonical encodings (the codecs the refactor merges, and the encoders built on them)', () => {
  it("every encoding written by today's codecs equals the pinned bytes", async () => {
    pinJson('codecs', 'codecs/encodings.json', await encodings());
  });

  it('the shared integer, length-prefixed and string fields of common/bytes and session/codec encode identically', () => {
    const p = pinned();
    for (const k of [
      'u8 0,1,255',
      'u16 0x1234,65535',
      'u32 0xdeadbeef',
      'raw',
      'bytes',
      'bytes empty',
      'string ascii',
      'string unicode',
    ]) {
      expect(p[`session/${k.replace('string', 'str')}`], k).toBe(p[`common/${k}`]);
    }
    // the OT wire codec's u32 and length prefixes are the same big-endian u32
    expect(p['wire/encodeU32 0,1,2^32-1']).toBe('0000000000000001ffffffff');
    expect(p['wire/MessageWriter type 0x42']).toBe('0142' + '0102' + '00000007' + '00000003030405' + '00000000');
  });

  it('the pinned encodings have the documented layouts (big-endian, u32 length prefixes, tags as length-prefixed strings)', () => {
    const p = pinned();
    expect(p['common/u64 number 2^53-1']).toBe('001fffffffffffff');
    expect(p['common/u64 number 0x1_0000_0001']).toBe('0000000100000001');
    expect(p['common/string unicode']).toBe(`00000010${Buffer.from('wallet-é€😀').toString('hex')}`);
    expect(p['common/beginLength..endLength']).toBe('00000007' + '01' + '000000026162' + '0002');
    expect(p['session/tag']).toBe(`00000017${Buffer.from('tessera/frost/key-share').toString('hex')}`);
    expect(p['session/str leading BOM']).toBe('00000005efbbbf6e31');
    expect(p['scalar/ed25519 encode 0x0102 (little-endian)']).toBe(`0201${'00'.repeat(30)}`);
    expect(p['scalar/secp256k1 encode 0x0102 (big-endian)']).toBe(`${'00'.repeat(30)}0102`);
    // AAD = "tessera/record/v1" ‖ vault id ‖ u8 kind ‖ u8 key type ‖ u32 len ‖ wallet ‖ u64 version ‖ u32 data key id
    expect(p['vault/aad share ecdsa']).toBe(
      `${Buffer.from('tessera/record/v1').toString('hex')}000102030405060708090a0b0c0d0e0f010100000008${Buffer.from('wallet-1').toString('hex')}000000000000000100000001`,
    );
    // the audit head's AAD = "tessera/record/v1" ‖ vault id ‖ u8 kind 2 ‖ u32 data key id (kind where a share's is)
    expect(p['vault/aad audit head']).toBe(
      `${Buffer.from('tessera/record/v1').toString('hex')}000102030405060708090a0b0c0d0e0f0200000003`,
    );
    // audit entry = u8 format ‖ u64 time ‖ str actor ‖ str action ‖ opt wallet ‖ opt session ‖ str outcome
    //               ‖ opt error code ‖ opt details
    const str = (s: string) => `${Buffer.byteLength(s).toString(16).padStart(8, '0')}${Buffer.from(s).toString('hex')}`;
    expect(p['vault/audit entry minimal']).toBe(
      `01${'00'.repeat(8)}${str('node-1')}${str('backup')}0000${str('ok')}0000`,
    );
    expect(p['backup/MAGIC']).toBe(`${Buffer.from('TESSERA-BACKUP').toString('hex')}0001`);
    expect(p['backup/trailer']).toBe(`0000000000000063000000000000000c${'ab'.repeat(32)}`);
    expect(p['backup/frames']).toBe('01' + '00000002' + '0102' + '02' + '00000000' + '7f' + '00000001' + '03');
    expect(p['backup/record share-deleted']).toBe(
      '0000000000000017' + '04' + '01' + '00000002' + '7732' + '0000000000000001' + '0000000000001770',
    );
  });

  it('the vault and backup code tables keep their numeric values', () => {
    expect(KEY_TYPE_CODE).toEqual({ ecdsa: 1, eddsa: 2 });
    expect(RECORD_KIND).toEqual({ share: 1, auditHead: 2 });
    expect([ENVELOPE_FORMAT, ENVELOPE_OVERHEAD]).toEqual([1, 29]);
    expect([FRAME_MANIFEST, FRAME_RECORD, FRAME_TRAILER, FORMAT_VERSION]).toEqual([0x01, 0x02, 0x7f, 2]);
    expect([KDF_ARGON2ID, KDF_RAW_KEY]).toEqual([1, 2]);
    const p = pinned();
    // backup record kind byte (after the u64 seq) and key type / status bytes
    const kindOf = (name: string) => p[`backup/record ${name}`]!.slice(16, 18);
    expect(RECORDS.map(([n]) => [n, kindOf(n)])).toEqual([
      ['wallet', '01'],
      ['wallet-no-current', '01'],
      ['share', '02'],
      ['share-pending', '02'],
      ['share-retired', '05'],
      ['share-retired-no-successor', '05'],
      ['wallet-deleted', '03'],
      ['share-deleted', '04'],
    ]);
    // manifest kind byte: 1 full, 2 incremental (after u16 version, node id, vault id)
    const kindAt = 4 + 8 + 6 * 2 + 8 + 16 * 2;
    expect(p['backup/manifest full']!.slice(0, 4)).toBe('0002');
    expect(p['backup/manifest full']!.slice(kindAt, kindAt + 2)).toBe('01');
    expect(p['backup/manifest incremental']!.slice(kindAt, kindAt + 2)).toBe('02');
    // share status bytes in kind-2 records: after seq, kind, key type, wallet id, version
    const statusAt = 16 + 2 + 2 + 8 + Buffer.byteLength('wallet-é') * 2 + 16;
    expect(p['backup/record share']!.slice(statusAt, statusAt + 2)).toBe('02');
    expect(p['backup/record share-pending']!.slice(statusAt, statusAt + 2)).toBe('01');
  });

  it('the pinned encodings decode back to their inputs (keyring body, backup manifest, trailer and every record kind)', () => {
    const p = pinned();
    const body = decodeBody(unhex(p['vault/keyring body']!));
    expect(encodeBody(body)).toEqual(unhex(p['vault/keyring body']!));
    expect(body.dataKeys.map((k) => [k.id, k.status, k.createdAt])).toEqual([
      [1, 'decrypt-only', 1_700_000_000_000],
      [7, 'primary', 1_735_689_600_123],
    ]);
    expect(decodeAuditEntry(unhex(p['vault/audit entry']!))).toEqual(AUDIT_ENTRY);
    expect(decodeManifest(unhex(p['backup/manifest full']!))).toEqual(MANIFEST_FULL);
    expect(decodeManifest(unhex(p['backup/manifest incremental']!))).toEqual(MANIFEST_INCR);
    expect(decodeTrailer(unhex(p['backup/trailer']!))).toEqual({
      toSeq: 99,
      recordCount: 12,
      payloadDigest: fill(32, 0xab),
    });
    for (const [name] of RECORDS) {
      const b = unhex(p[`backup/record ${name}`]!);
      const back = decodeRecord(b, 2);
      expect(record(back), name).toEqual(b);
    }
    expect(backupFileName('00112233445566778899aabbccddeeff', 3, 41, 99, 'incremental')).toBe(
      'tessera-0011223344556677-c000003-0000000000000041-0000000000000099-incr.age',
    );
    // readers of the three codecs accept the pinned bytes
    const cr = new CommonReader(unhex(p['common/string unicode']!));
    expect(cr.str(64)).toBe('wallet-é€😀');
    const sr = new CommonReader(unhex(p['session/tag']!));
    sr.expectTag('tessera/frost/key-share');
    sr.end();
    const fields = readMessage(unhex(p['wire/MessageWriter type 0x42']!), 0x42, 'peer', 'pin', (mr) => {
      const out = [hex(mr.raw(2)), mr.u32(), hex(mr.bytes(8)), hex(mr.bytes(8))];
      mr.end();
      return out;
    });
    expect(fields).toEqual(['0102', 7, '030405', '']);
  });
});
