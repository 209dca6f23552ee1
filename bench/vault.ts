/**
 * `npm run bench:vault`: one JSON line per case, each with the ratio to a baseline measured in the
 * same run. Baselines: raw better-sqlite3 with the same pragmas and no encryption.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import sodium from 'sodium-native';
import { schemaSql } from '../src/vault/database.js';
import type { PutShareInput } from '../src/vault/types.js';
import { Vault } from '../src/vault/vault.js';
import { emitter, median, round, timeWall } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
let n = 0;
const fresh = () => join(root, `d${n++}`);
const pw = (s: string) => ({ kind: 'password' as const, password: Buffer.from(s) });
const SHARE = 4096;

const emit = emitter('vault');

function rawDb(): Database.Database {
  const dir = fresh();
  mkdtempSync(`${dir}-`);
  const db = new Database(`${dir}.db`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -32768');
  db.exec('CREATE TABLE shares (id INTEGER PRIMARY KEY, wallet_id TEXT NOT NULL UNIQUE, sealed BLOB NOT NULL)');
  return db;
}

/** The vault's own schema written with plain SQL (no records sealed, no JS layer), for the put decomposition. */
function schemaDb(cipher: boolean): (i: number, sealed: Uint8Array) => void {
  const path = `${fresh()}.db`;
  const db = new Database(path);
  if (cipher) {
    db.pragma("cipher = 'chacha20'");
    db.pragma('kdf_iter = 1');
    db.key(randomBytes(32));
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('cache_size = -32768');
  db.exec(schemaSql());
  let seq = 0;
  const s1 = db.prepare(
    'INSERT INTO shares (key_type, wallet_id, version, status, threshold, participants, created_at, updated_at, seq) VALUES (1, ?, 1, 2, 1, ?, 0, 0, ?)',
  );
  const s2 = db.prepare('INSERT INTO records (share_id, data_key_id, sealed) VALUES (?, 1, ?)');
  const s3 = db.prepare(
    'INSERT INTO wallets (key_type, wallet_id, threshold, participants, current_version, public_key, created_at, updated_at, seq) VALUES (1, ?, 1, ?, 1, ?, 0, 0, ?)',
  );
  const pub = Buffer.alloc(33, 2);
  return db.transaction((i: number, sealed: Uint8Array) => {
    const id = `wallet-${i}`;
    const r = s1.run(id, '["node0","node1","node2"]', ++seq);
    s2.run(r.lastInsertRowid, sealed);
    s3.run(id, '["node0","node1","node2"]', pub, ++seq);
  });
}

function share(i: number, extra: Partial<PutShareInput> = {}): PutShareInput {
  return {
    keyType: 'ecdsa',
    walletId: `wallet-${i}`,
    version: 1,
    threshold: 1,
    participants: ['node0', 'node1', 'node2'],
    publicKey: new Uint8Array(33).fill(2),
    share: randomBytes(SHARE),
    ...extra,
  };
}

async function vaultWith(count: number, dir = fresh()): Promise<Vault> {
  const v = await Vault.create(dir, pw('bench password'));
  for (let i = 0; i < count; i += 1000) {
    v.putShares(Array.from({ length: Math.min(1000, count - i) }, (_, j) => share(i + j, { activate: true })));
  }
  return v;
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

/** Cases to run: all by default, or those named on the command line (put, signing, unlock, rotate, open). */
const only = new Set(process.argv.slice(2));
const want = (name: string) => only.size === 0 || only.has(name);

async function main(): Promise<void> {
  // 1. durable put of a 4 KiB share (one transaction + fsync each), with a decomposition of the
  //    gap: the vault's schema written with raw SQL, without and with the page cipher.
  if (want('put')) {
    const PUTS = 1500;
    const ROUNDS = 3;
    const per = PUTS / ROUNDS;
    const db = rawDb();
    const ins = db.prepare('INSERT INTO shares (wallet_id, sealed) VALUES (?, ?)');
    const plainSchema = schemaDb(false);
    const cipherSchema = schemaDb(true);
    const v = await Vault.create(fresh(), pw('bench password'));
    const inputs = Array.from({ length: PUTS }, (_, i) => share(i));
    const sealedSize = SHARE + 29;
    const t = { raw: 0, schema: 0, schemaCipher: 0, vault: 0 };
    // interleave rounds so that disk noise hits every side alike
    for (let r = 0; r < ROUNDS; r++) {
      const base = r * per;
      t.raw += timeWall(per, (i) => ins.run(`wallet-${base + i}`, randomBytes(SHARE)));
      t.schema += timeWall(per, (i) => plainSchema(base + i, randomBytes(sealedSize)));
      t.schemaCipher += timeWall(per, (i) => cipherSchema(base + i, randomBytes(sealedSize)));
      t.vault += timeWall(per, (i) => v.putShare({ ...inputs[base + i]!, activate: true }));
    }
    const ops = (x: number) => Math.round((1000 * ROUNDS) / x);
    const throughput = 'ops/s / raw SQLite ops/s';
    emit({
      case: 'durable put 4 KiB',
      unit: 'ops/s',
      value: ops(t.vault),
      baseline: ops(t.raw),
      ratio: t.raw / t.vault,
      ratioOf: throughput,
      target: '>= 0.8',
    });
    emit({
      case: 'durable put 4 KiB: the vault schema in raw SQL with the page cipher (where the time goes)',
      unit: 'ops/s',
      value: ops(t.schemaCipher),
      baseline: ops(t.raw),
      ratio: t.raw / t.schemaCipher,
      ratioOf: throughput,
      vaultSchemaNoCipher: ops(t.schema),
      vault: ops(t.vault),
    });

    // 2. get (active version, opened) vs raw get by key, working set in cache
    const GETS = 20000;
    const get = db.prepare('SELECT sealed FROM shares WHERE wallet_id = ?');
    for (let i = 0; i < PUTS; i++) {
      get.get(`wallet-${i}`);
      v.getShare('ecdsa', `wallet-${i}`).share.fill(0);
    }
    let rawGet = 0;
    let ourGet = 0;
    for (let r = 0; r < ROUNDS; r++) {
      rawGet += timeWall(GETS, (i) => get.get(`wallet-${i % PUTS}`));
      ourGet += timeWall(GETS, (i) => v.getShare('ecdsa', `wallet-${i % PUTS}`).share.fill(0));
    }
    emit({
      case: 'get 4 KiB share',
      unit: 'ops/s',
      value: ops(ourGet),
      baseline: ops(rawGet),
      ratio: rawGet / ourGet,
      ratioOf: throughput,
      target: '>= 0.4',
    });
    db.close();
    v.close();
  }

  // 2b. what a signing costs the vault (docs/ecdsa.md, "What the node must do"): claiming the
  //     signing context (a 32-byte row) and writing a DKLs23 share back in place (~20 KiB for
  //     2-of-3), each one transaction + fsync, against the same raw SQL on a one-table database.
  if (want('signing')) {
    const N = 600;
    const ROUNDS = 3;
    const per = N / ROUNDS;
    const STATE = 20 * 1024;
    const db = rawDb();
    db.exec('CREATE TABLE log (ctx BLOB PRIMARY KEY) WITHOUT ROWID');
    const rawClaim = db.prepare('INSERT OR IGNORE INTO log (ctx) VALUES (?)');
    db.prepare('INSERT INTO shares (wallet_id, sealed) VALUES (?, ?)').run('w', randomBytes(STATE));
    const rawUpdate = db.prepare('UPDATE shares SET sealed = ? WHERE wallet_id = ?');
    const v = await Vault.create(fresh(), pw('bench password'));
    v.putShare({ ...share(0), share: randomBytes(STATE), activate: true });
    const t = { rawClaim: 0, claim: 0, rawUpdate: 0, update: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      t.rawClaim += timeWall(per, () => rawClaim.run(randomBytes(32)));
      t.claim += timeWall(per, () => v.claimSigningContext('ecdsa', 'wallet-0', 1, randomBytes(32)));
      t.rawUpdate += timeWall(per, () => rawUpdate.run(randomBytes(STATE), 'w'));
      t.update += timeWall(per, () => v.updateShare('ecdsa', 'wallet-0', 1, randomBytes(STATE)));
    }
    const ops = (x: number) => Math.round((1000 * ROUNDS) / x);
    const throughput = 'ops/s / raw SQLite ops/s';
    emit({
      case: 'claim signing context (durable)',
      unit: 'ops/s',
      value: ops(t.claim),
      baseline: ops(t.rawClaim),
      ratio: t.rawClaim / t.claim,
      ratioOf: throughput,
    });
    emit({
      case: 'updateShare 20 KiB in place (durable)',
      unit: 'ops/s',
      value: ops(t.update),
      baseline: ops(t.rawUpdate),
      ratio: t.rawUpdate / t.update,
      ratioOf: throughput,
    });
    db.close();
    v.close();
  }

  // 3. unlock with the default Argon2id parameters
  if (want('unlock')) {
    const dir = fresh();
    (await Vault.create(dir, pw('bench password'))).close();
    const salt = randomBytes(16);
    const out = Buffer.alloc(32);
    const times: number[] = [];
    const kdf: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      (await Vault.open(dir, pw('bench password'))).close();
      times.push(performance.now() - t);
      t = performance.now();
      await sodium.crypto_pwhash_async(
        out,
        Buffer.from('bench password'),
        salt,
        3,
        64 * 1024 * 1024,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
      );
      kdf.push(performance.now() - t);
    }
    emit({
      case: 'unlock (open with Argon2id m=64 MiB t=3)',
      unit: 'ms',
      value: median(times),
      baseline: median(kdf),
      ratio: median(kdf) / median(times),
      ratioOf: 'Argon2id alone ms / unlock ms',
      target: '<= 300 ms',
    });
  }

  // 4. rotatePassword is O(1): 10 vs 10,000 shares
  if (want('rotate')) {
    const small = await vaultWith(10);
    const large = await vaultWith(10_000);
    const fast = { argon2: { opsLimit: 1, memLimit: 8192 } };
    const time = async (v: Vault) => {
      const t = performance.now();
      for (let i = 0; i < 10; i++) await v.rotatePassword(pw(`p${i}`), fast);
      return (performance.now() - t) / 10;
    };
    await time(small);
    const a = await time(small);
    const b = await time(large);
    emit({
      case: 'rotatePassword 10,000 vs 10 shares',
      unit: 'ms',
      value: b,
      baseline: a,
      ratio: a / b,
      ratioOf: 'ms with 10 shares / ms with 10,000',
      target: '~1 (O(1))',
    });
    small.close();

    // 5. rotateKey of 10,000 shares
    const t = performance.now();
    const { resealed } = await large.rotateKey();
    const secs = (performance.now() - t) / 1000;
    // baseline: reading and rewriting 10,000 4 KiB rows in raw SQLite, same batching
    const db = rawDb();
    const ins = db.prepare('INSERT INTO shares (wallet_id, sealed) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) ins.run(`w${i}`, randomBytes(SHARE));
    })();
    const upd = db.prepare('UPDATE shares SET sealed = ? WHERE id = ?');
    const sel = db.prepare('SELECT id, sealed FROM shares WHERE id > ? ORDER BY id LIMIT 256');
    const t2 = performance.now();
    let last = 0;
    for (;;) {
      const rows = db.transaction(() => {
        const rs = sel.all(last) as { id: number; sealed: Buffer }[];
        for (const r of rs) upd.run(Buffer.from(r.sealed), r.id);
        return rs;
      })();
      if (rows.length === 0) break;
      last = rows.at(-1)!.id;
    }
    const rawSecs = (performance.now() - t2) / 1000;
    emit({
      case: 'rotateKey 10,000 shares',
      unit: 'shares/s',
      value: Math.round(resealed / secs),
      baseline: Math.round(10_000 / rawSecs),
      ratio: rawSecs / secs,
      ratioOf: 'shares/s / raw SQLite read+rewrite rows/s',
      seconds: round(secs, 2),
    });
    db.close();
    large.close();
  }

  // 6. open time and disk size with 100,000 shares
  if (want('open')) {
    const dir = fresh();
    const t = performance.now();
    const v = await vaultWith(100_000, dir);
    const fillSecs = (performance.now() - t) / 1000;
    v.close();
    const opens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      (await Vault.open(dir, pw('bench password'))).close();
      opens.push(performance.now() - t1);
    }
    const db = rawDb();
    const ins = db.prepare('INSERT INTO shares (wallet_id, sealed) VALUES (?, ?)');
    for (let i = 0; i < 100_000; i += 1000) {
      db.transaction(() => {
        for (let j = i; j < i + 1000; j++) ins.run(`wallet-${j}`, randomBytes(SHARE));
      })();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const rawPath = (db as unknown as { name: string }).name;
    const rawBytes = statSync(rawPath).size;
    db.close();
    // The baseline pays what any password-protected store pays: Argon2id with the vault's default
    // parameters, then a raw SQLite open and a count.
    const rawOpens: number[] = [];
    const salt = randomBytes(16);
    const kek = Buffer.alloc(32);
    for (let i = 0; i < 3; i++) {
      const t1 = performance.now();
      await sodium.crypto_pwhash_async(
        kek,
        Buffer.from('bench password'),
        salt,
        3,
        64 * 1024 * 1024,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
      );
      const r = new Database(rawPath);
      r.prepare('SELECT count(*) FROM shares').get();
      r.close();
      rawOpens.push(performance.now() - t1);
    }
    const bytes = dirBytes(dir);
    emit({
      case: 'open with 100,000 shares',
      unit: 'ms',
      value: Math.min(...opens),
      baseline: Math.min(...rawOpens),
      ratio: Math.min(...rawOpens) / Math.min(...opens),
      ratioOf: '(Argon2id + raw SQLite open+count) ms / vault open ms',
      diskMiB: round(bytes / 2 ** 20, 1),
      rawDiskMiB: round(rawBytes / 2 ** 20, 1),
      diskRatio: round(rawBytes / bytes),
      fillSeconds: round(fillSecs, 1),
    });
  }
}

try {
  await main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
