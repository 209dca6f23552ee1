/**
 * A schema-3 vault directory and a format-2 backup chain (full + incremental), committed under
 * test/fixtures/formats/{vault,backup}/ (written by the code of schema 3; schema 4 added the audit
 * log, which a backup does not carry), and the tests that today's code still opens (upgrading a
 * copy), reads, verifies and restores them exactly. Also a sealed keyring file that must still
 * parse and open with its known KEK.
 * Regenerating writes a schema-4 vault: keep the schema-3 directory next to the reader's tests then
 * (test/fixtures/formats/README.md).
 *
 * Regenerate (new random keys and ids; only when a format changes on purpose):
 *   TESSERA_WRITE_FIXTURES=vault,backup npx vitest run test/formats/vault-backup-fixture.test.ts
 *
 * Content (clock faked to 2025-01-01T00:00:00Z + 1 s per step; password 'format-pins'):
 *   eddsa/frost-wallet v1 = FROST share of node-1 (shares/frost/dkg-v1-node-1), activated;
 *   ecdsa/ecdsa-wallet v1 = ECDSA share of node-1 (shares/ecdsa/dkg-v1-node-1), activated;
 *   → full backup;
 *   eddsa/frost-wallet v2 = reshared FROST share (reshare-v2-node-1) written pending, then
 *   activated (v1 retired, its secret destroyed); ecdsa v1 updated in place to the share after one
 *   signing (after-sign-node-1); one signing-log entry (ecdsa v1) and one setup-log entry;
 *   → incremental backup; close.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeManifest, decodeRecord, decodeTrailer, MAGIC } from '../../src/backup/format.js';
import { restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import { ByteReader } from '../../src/common/bytes.js';
import { ShareDestroyedError } from '../../src/common/errors.js';
import { EcdsaKeyShare } from '../../src/tss/ecdsa/key-share.js';
import { FrostKeyShare } from '../../src/tss/frost/key-share.js';
import { SCHEMA_VERSION } from '../../src/vault/database.js';
import { deriveKeys } from '../../src/vault/kdf.js';
import {
  encodeBody,
  type KeyringBody,
  openKeyring,
  parseKeyring,
  sealKeyring,
} from '../../src/vault/keyring-format.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, rawSql, tempDir } from '../helpers/vault.js';
import { fixturePath, hex, pinJson, readHexFixture, sha256hex, writing } from './pin.js';
import { P } from './runs.js';

const PW = 'format-pins';
const T0 = Date.UTC(2025, 0, 1);
const VAULT_DIR = fixturePath('vault/schema3-vault');
const CHAIN_DIR = fixturePath('backup/chain');
const IDENTITY_FILE = fixturePath('backup/chain.identity.txt');
const VAULT_FILES = ['keyring', 'keyring.bak', 'vault.db'];
const SIGNING_CTX = new Uint8Array(32).fill(0x51);
const SETUP_CTX = new Uint8Array(32).fill(0x52);
/** A fixed KEK for the standalone sealed keyring fixture (test-only). */
const KEYRING_KEK = new Uint8Array(32).fill(0x4b);
const KEYRING_BODY: KeyringBody = {
  pageKeys: [{ id: 3, role: 'current', key: Buffer.alloc(32, 0x31) }],
  dataKeys: [
    { id: 1, status: 'decrypt-only', createdAt: T0, key: Buffer.alloc(32, 0x41) },
    { id: 2, status: 'primary', createdAt: T0 + 1000, key: Buffer.alloc(32, 0x42) },
  ],
};
const KEYRING_HEADER = {
  vaultId: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i),
  kdf: 2,
  argon2: { opsLimit: 0, memLimit: 0 },
  salt: new Uint8Array(16).fill(0x53),
  generation: 9,
  verifier: new Uint8Array(32).fill(0x56),
};

const share = (rel: string) => readHexFixture(`shares/${rel}.hex`);
const frostKey = () => share('frost/public-v1').subarray(-32); // the FROST public package ends with the 32-byte group key
const FROST_V1 = () => share('frost/dkg-v1-node-1');
const FROST_V2 = () => share('frost/reshare-v2-node-1');
const ECDSA_V1 = () => share('ecdsa/dkg-v1-node-1');
const ECDSA_SIGNED = () => share('ecdsa/after-sign-node-1');
const ecdsaKey = () => share('ecdsa/public-v1').subarray(-33);

afterEach(() => {
  vi.useRealTimers();
});

async function payloadOf(file: string, identity: string): Promise<Uint8Array> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d.decrypt(readFileSync(file));
}

/** Splits a backup payload into its decoded frames. */
function framesOf(payload: Uint8Array, formatVersion = 2) {
  expect(hex(payload.subarray(0, 16))).toBe(hex(MAGIC));
  const r = new ByteReader(payload.subarray(16));
  const out: { type: number; body: Uint8Array }[] = [];
  while (r.remaining > 0) {
    const type = r.u8();
    out.push({ type, body: r.bytes(1 << 24) });
  }
  const manifest = decodeManifest(out[0]!.body);
  const trailer = decodeTrailer(out[out.length - 1]!.body);
  const records = out.slice(1, -1).map((f) => {
    const rec = decodeRecord(f.body, formatVersion);
    return rec.kind === 'share' ? { ...rec, share: sha256hex(rec.share) } : rec;
  });
  return {
    types: out.map((f) => f.type),
    manifest: { ...manifest, prevDigest: hex(manifest.prevDigest) },
    records,
    trailer: { ...trailer, payloadDigest: hex(trailer.payloadDigest) },
  };
}

/** Everything readable from an open vault, secrets as digests. */
function describeVault(v: Vault) {
  return {
    wallets: v.listWallets().map((w) => ({
      ...w,
      publicKey: hex(w.publicKey),
      versions: v.listVersions(w.keyType, w.walletId).map((s) => ({
        ...s,
        share: s.status === 'retired' ? null : sha256hex(v.getShare(w.keyType, w.walletId, s.version).share),
      })),
    })),
  };
}

function identity(): string {
  return readFileSync(IDENTITY_FILE, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
}

function copyVault(): string {
  const dir = join(tempDir(), 'v');
  mkdirSync(dir, { mode: 0o700 });
  for (const f of VAULT_FILES) cpSync(join(VAULT_DIR, f), join(dir, f));
  return dir;
}

describe.runIf(writing('vault'))('fixture generator (TESSERA_WRITE_FIXTURES=vault,backup)', () => {
  it('writes the schema-3 vault, the format-2 backup chain, its identity and the sealed keyring', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = T0;
    const tick = () => {
      now += 1000;
      vi.setSystemTime(now);
      return now;
    };
    vi.setSystemTime(now);
    const dir = join(tempDir(), 'v');
    const out = join(tempDir(), 'b');
    const id = await generateIdentity();
    const recipient = await identityToRecipient(id);
    const v = await Vault.create(dir, password(PW), { argon2: FAST_ARGON2 });
    const base = { threshold: 1, participants: P };
    tick();
    v.putShare({
      ...base,
      keyType: 'eddsa',
      walletId: 'frost-wallet',
      version: 1,
      publicKey: frostKey(),
      share: FROST_V1(),
      activate: true,
    });
    tick();
    v.putShare({
      ...base,
      keyType: 'ecdsa',
      walletId: 'ecdsa-wallet',
      version: 1,
      publicKey: ecdsaKey(),
      share: ECDSA_V1(),
      activate: true,
    });
    tick();
    await runBackup(v, { outDir: out, nodeId: 'node-1', recipients: [recipient], mode: 'full', now: () => now });
    tick();
    v.putShare({
      ...base,
      keyType: 'eddsa',
      walletId: 'frost-wallet',
      version: 2,
      publicKey: frostKey(),
      share: FROST_V2(),
    });
    tick();
    v.activate('eddsa', 'frost-wallet', 2);
    tick();
    v.updateShare('ecdsa', 'ecdsa-wallet', 1, ECDSA_SIGNED());
    tick();
    expect(v.claimSigningContext('ecdsa', 'ecdsa-wallet', 1, SIGNING_CTX)).toBe(true);
    expect(v.claimSetupContext(SETUP_CTX)).toBe(true);
    tick();
    await runBackup(v, { outDir: out, nodeId: 'node-1', recipients: [recipient], mode: 'incremental', now: () => now });
    v.close();
    vi.useRealTimers();
    expect(readdirSync(dir).filter((f) => !VAULT_FILES.includes(f) && f !== 'LOCK')).toEqual([]);
    if (writing('vault')) {
      rmSync(VAULT_DIR, { recursive: true, force: true });
      mkdirSync(VAULT_DIR, { recursive: true });
      for (const f of VAULT_FILES) cpSync(join(dir, f), join(VAULT_DIR, f));
      // the standalone sealed keyring (random nonce: written once, then only read)
      writeFileSync(
        fixturePath('vault/sealed-keyring.hex'),
        `${hex(sealKeyring(KEYRING_HEADER, KEYRING_BODY, KEYRING_KEK))}\n`,
      );
    }
    if (writing('backup')) {
      rmSync(CHAIN_DIR, { recursive: true, force: true });
      mkdirSync(CHAIN_DIR, { recursive: true });
      for (const f of readdirSync(out).filter((n) => n.endsWith('.age'))) cpSync(join(out, f), join(CHAIN_DIR, f));
      writeFileSync(IDENTITY_FILE, `# test-only age identity of the format-pin chain (no real secret)\n${id}\n`);
    }
  });
});

describe("schema-3 vault directory written by today's code (test/fixtures/formats/vault/schema3-vault)", () => {
  it("today's code opens the fixture vault and reads back exactly the pinned shares, metadata, statuses and log sizes; verify is clean", async () => {
    const dir = copyVault();
    const v = await Vault.open(dir, password(PW));
    try {
      expect(
        v.listWallets().map((w) => [w.keyType, w.walletId, w.currentVersion, w.threshold, w.participants]),
      ).toEqual([
        ['ecdsa', 'ecdsa-wallet', 1, 1, P],
        ['eddsa', 'frost-wallet', 2, 1, P],
      ]);
      // the wallets' public keys are the group keys of the pinned shares
      expect(hex(frostKey())).toBe(hex(FrostKeyShare.deserialize(FROST_V1()).public.groupPublicKey));
      expect(hex(ecdsaKey())).toBe(hex(EcdsaKeyShare.deserialize(ECDSA_V1()).groupPublicKey));
      expect(hex(v.getWallet('eddsa', 'frost-wallet').publicKey)).toBe(hex(frostKey()));
      expect(hex(v.getWallet('ecdsa', 'ecdsa-wallet').publicKey)).toBe(hex(ecdsaKey()));
      expect(v.listVersions('eddsa', 'frost-wallet').map((s) => [s.version, s.status, s.dataKeyId])).toEqual([
        [1, 'retired', 0],
        [2, 'active', 1],
      ]);
      expect(v.listVersions('ecdsa', 'ecdsa-wallet').map((s) => [s.version, s.status])).toEqual([[1, 'active']]);
      expect(Buffer.from(v.getShare('eddsa', 'frost-wallet').share)).toEqual(Buffer.from(FROST_V2()));
      expect(Buffer.from(v.getShare('ecdsa', 'ecdsa-wallet', 1).share)).toEqual(Buffer.from(ECDSA_SIGNED()));
      expect(() => v.getShare('eddsa', 'frost-wallet', 1)).toThrow(ShareDestroyedError);
      expect(v.signingLogSize('ecdsa', 'ecdsa-wallet', 1)).toBe(1);
      expect(v.signingLogSize('eddsa', 'frost-wallet', 2)).toBe(0);
      expect(v.setupLogSize()).toBe(1);
      expect(v.claimSigningContext('ecdsa', 'ecdsa-wallet', 1, SIGNING_CTX)).toBe(false);
      expect(v.claimSetupContext(SETUP_CTX)).toBe(false);
      const st = v.status();
      expect([st.shares, st.wallets, st.kdf, st.argon2, st.keyringGeneration, st.keyringIssues]).toEqual([
        { pending: 0, active: 2, retired: 1 },
        2,
        'argon2id',
        FAST_ARGON2,
        1,
        [],
      ]);
      expect(await v.verify()).toMatchObject({ ok: true, problems: [] });
      pinJson('vault', 'vault/expected.json', { status: { ...st, dir: undefined }, ...describeVault(v) });
    } finally {
      v.close();
    }
  });

  it("the fixture vault's rows keep their stored codes (key type 1 ecdsa / 2 eddsa, status 1 pending / 2 active / 3 retired, participants as JSON, schema 3)", async () => {
    const dir = copyVault();
    const q = (sql: string) => rawSql(dir, PW, sql);
    // written at schema 3, before the audit log; today's code upgrades it when it opens it (to 4:
    // test/vault/audit-log.test.ts, "schema 3 → 4")
    expect(await q("SELECT v FROM meta WHERE k = 'schema_version'")).toEqual([{ v: 3 }]);
    expect(SCHEMA_VERSION).toBe(4);
    expect(
      await q(
        'SELECT key_type, wallet_id, threshold, participants, current_version FROM wallets ORDER BY key_type, wallet_id',
      ),
    ).toEqual([
      { key_type: 1, wallet_id: 'ecdsa-wallet', threshold: 1, participants: JSON.stringify(P), current_version: 1 },
      { key_type: 2, wallet_id: 'frost-wallet', threshold: 1, participants: JSON.stringify(P), current_version: 2 },
    ]);
    expect(
      await q(
        'SELECT s.key_type, s.wallet_id, s.version, s.status, s.retired_by, r.data_key_id, length(r.sealed) AS sealed FROM shares s LEFT JOIN records r ON r.share_id = s.id ORDER BY s.key_type, s.wallet_id, s.version',
      ),
    ).toEqual([
      {
        key_type: 1,
        wallet_id: 'ecdsa-wallet',
        version: 1,
        status: 2,
        retired_by: null,
        data_key_id: 1,
        sealed: ECDSA_SIGNED().length + 29,
      },
      { key_type: 2, wallet_id: 'frost-wallet', version: 1, status: 3, retired_by: 2, data_key_id: null, sealed: null },
      {
        key_type: 2,
        wallet_id: 'frost-wallet',
        version: 2,
        status: 2,
        retired_by: null,
        data_key_id: 1,
        sealed: FROST_V2().length + 29,
      },
    ]);
    expect(await q('SELECT key_type, wallet_id, version, hex(context) AS c FROM signing_log')).toEqual([
      { key_type: 1, wallet_id: 'ecdsa-wallet', version: 1, c: hex(SIGNING_CTX).toUpperCase() },
    ]);
    expect(await q('SELECT hex(context) AS c FROM setup_log')).toEqual([{ c: hex(SETUP_CTX).toUpperCase() }]);
    const sealed = (await q(
      "SELECT hex(r.sealed) AS h FROM records r JOIN shares s ON s.id = r.share_id WHERE s.wallet_id = 'frost-wallet'",
    )) as { h: string }[];
    expect(sealed[0]!.h.slice(0, 2)).toBe('01'); // envelope format 1
  });

  it("the fixture vault's keyring files are the documented layout and open with the password's KEK", async () => {
    const file = readFileSync(join(VAULT_DIR, 'keyring'));
    expect(readFileSync(join(VAULT_DIR, 'keyring.bak')).equals(file)).toBe(true);
    expect(file.subarray(0, 10).toString('hex')).toBe(`${Buffer.from('TESSKRNG').toString('hex')}0001`);
    const sealed = parseKeyring(file);
    expect([sealed.header.kdf, sealed.header.argon2, sealed.header.generation]).toEqual([1, FAST_ARGON2, 1]);
    const { kek, verifier } = await deriveKeys(
      password(PW),
      1,
      sealed.header.argon2,
      sealed.header.salt,
      sealed.header.vaultId,
    );
    expect(hex(verifier)).toBe(hex(sealed.header.verifier));
    const body = openKeyring(sealed, kek);
    expect(body.pageKeys.map((k) => [k.id, k.role])).toEqual([[1, 'current']]);
    expect(body.dataKeys.map((k) => [k.id, k.status, k.createdAt])).toEqual([[1, 'primary', T0]]);
  });

  it("the sealed keyring written by today's code still parses and opens with its known KEK, and today's sealKeyring writes the same header", () => {
    const file = readHexFixture('vault/sealed-keyring.hex');
    const sealed = parseKeyring(file);
    expect({
      ...sealed.header,
      vaultId: hex(sealed.header.vaultId),
      salt: hex(sealed.header.salt),
      verifier: hex(sealed.header.verifier),
    }).toEqual({
      ...KEYRING_HEADER,
      vaultId: hex(KEYRING_HEADER.vaultId),
      salt: hex(KEYRING_HEADER.salt),
      verifier: hex(KEYRING_HEADER.verifier),
    });
    const body = openKeyring(sealed, KEYRING_KEK);
    expect(hex(encodeBody(body))).toBe(hex(encodeBody(KEYRING_BODY)));
    expect(() => openKeyring(sealed, new Uint8Array(32))).toThrow(/authentication failed/);
    const today = sealKeyring(KEYRING_HEADER, KEYRING_BODY, KEYRING_KEK);
    expect(today.length).toBe(file.length);
    expect(hex(today.subarray(0, 91))).toBe(hex(file.subarray(0, 91))); // all but the random nonce, ciphertext and checksum
    expect(hex(today.subarray(103, 107))).toBe(hex(file.subarray(103, 107)));
  });
});

describe("format-2 backup chain written by today's code (test/fixtures/formats/backup/chain)", () => {
  const files = () =>
    readdirSync(CHAIN_DIR)
      .filter((f) => f.endsWith('.age'))
      .sort();

  it("today's code verifies the fixture chain and restores exactly the vault's wallets, versions and shares", async () => {
    const dec = { identities: [identity()] };
    const report = await verifyChain(CHAIN_DIR, dec);
    expect(report.files.map((f) => f.name)).toEqual(files());
    expect(files().map((f) => f.replace(/^tessera-[0-9a-f]{16}-/, ''))).toEqual([
      'c000001-0000000000000000-0000000000000004-full.age',
      'c000001-0000000000000004-0000000000000009-incr.age',
    ]);
    const to = join(tempDir(), 'r');
    await restoreChain(CHAIN_DIR, to, dec, password('restored'), { argon2: FAST_ARGON2 });
    const v = await Vault.open(to, password('restored'));
    const src = await Vault.open(copyVault(), password(PW));
    try {
      const strip = (d: ReturnType<typeof describeVault>) =>
        d.wallets.map((w) => ({ ...w, seq: 0, versions: w.versions.map((s) => ({ ...s, seq: 0, dataKeyId: 0 })) }));
      expect(strip(describeVault(v))).toEqual(strip(describeVault(src)));
      expect(Buffer.from(v.getShare('eddsa', 'frost-wallet').share)).toEqual(Buffer.from(FROST_V2()));
      expect(Buffer.from(v.getShare('ecdsa', 'ecdsa-wallet').share)).toEqual(Buffer.from(ECDSA_SIGNED()));
      expect(() => v.getShare('eddsa', 'frost-wallet', 1)).toThrow(ShareDestroyedError);
      expect(v.setupLogSize()).toBe(0); // logs are not part of backups
      expect((await v.verify()).problems).toEqual([]);
    } finally {
      v.close();
      src.close();
    }
  });

  it("the fixture chain's decrypted payloads have the pinned frames, manifests, records and trailers, and the incremental links to the full", async () => {
    const id = identity();
    const [full, incr] = files();
    const pf = framesOf(await payloadOf(join(CHAIN_DIR, full!), id));
    const pi = framesOf(await payloadOf(join(CHAIN_DIR, incr!), id));
    expect(pf.types).toEqual([1, 2, 2, 2, 2, 0x7f]);
    expect(pf.manifest).toMatchObject({
      formatVersion: 2,
      nodeId: 'node-1',
      kind: 'full',
      chain: 1,
      fromSeq: 0,
      prevDigest: '00'.repeat(32),
    });
    expect(pi.manifest).toMatchObject({
      formatVersion: 2,
      kind: 'incremental',
      chain: 1,
      fromSeq: 4,
      prevDigest: sha256hex(readFileSync(join(CHAIN_DIR, full!))),
    });
    const kinds = (p: ReturnType<typeof framesOf>) =>
      p.records.map((r) => [
        r.kind,
        'info' in r
          ? `${r.info.keyType}/${r.info.walletId} v${r.info.version} ${r.info.status}`
          : 'wallet' in r
            ? `${r.wallet.keyType}/${r.wallet.walletId}`
            : '',
      ]);
    expect(kinds(pf)).toEqual([
      ['wallet', 'eddsa/frost-wallet'],
      ['share', 'eddsa/frost-wallet v1 active'],
      ['wallet', 'ecdsa/ecdsa-wallet'],
      ['share', 'ecdsa/ecdsa-wallet v1 active'],
    ]);
    expect(kinds(pi)).toEqual([
      ['share-retired', 'eddsa/frost-wallet v1 retired'],
      ['share', 'eddsa/frost-wallet v2 active'],
      ['wallet', 'eddsa/frost-wallet'],
      ['share', 'ecdsa/ecdsa-wallet v1 active'],
    ]);
    pinJson('backup', 'backup/chain-payloads.json', { full: pf, incremental: pi });
  });

  it("today's backup writer, run on the fixture vault with a fixed clock, writes the pinned full-backup payload byte for byte", async () => {
    const dir = copyVault();
    const v = await Vault.open(dir, password(PW));
    const out = join(tempDir(), 'b');
    const id = await generateIdentity();
    try {
      await runBackup(v, {
        outDir: out,
        nodeId: 'node-1',
        recipients: [await identityToRecipient(id)],
        mode: 'full',
        now: () => T0 + 60_000,
      });
    } finally {
      v.close();
    }
    const [file] = readdirSync(out).filter((f) => f.endsWith('.age'));
    const payload = await payloadOf(join(out, file!), id);
    const frames = framesOf(payload);
    expect(frames.records.map((r) => r.kind).sort()).toEqual(['share', 'share', 'share-retired', 'wallet', 'wallet']);
    pinJson('backup', 'backup/full-of-fixture-vault.json', {
      payloadSha256: sha256hex(payload),
      payloadBytes: payload.length,
      ...frames,
    });
  });
});
