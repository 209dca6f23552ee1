/**
 * `npm run bench:backup`: one JSON line per case, each with a ratio to a baseline measured in the
 * same run.
 *  - full backup throughput vs age-encryption encrypting the same number of bytes directly (>= 0.7)
 *  - incremental after 1,000 changes on a large vault vs a full backup of a 1,000-share vault (<= 3x)
 *  - restore throughput (vs full backup throughput)
 *  - peak RSS of backup and restore of the large vault, each in its own process (vs a small vault)
 * Size: BENCH_BACKUP_SHARES (default 100,000 shares of 4 KiB).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { restoreChain, runBackup } from '../src/backup/index.js';
import type { PutShareInput } from '../src/vault/types.js';
import { Vault } from '../src/vault/vault.js';
import { emitter, round } from './harness.js';

const FAST = { opsLimit: 1, memLimit: 8192 };
const pw = (s: string) => ({ kind: 'password' as const, password: Buffer.from(s) });
const SHARE = 4096;
const MiB = 1024 * 1024;

const emit = emitter('backup');

function share(id: string, version = 1): PutShareInput {
  return {
    keyType: 'ecdsa',
    walletId: id,
    version,
    threshold: 1,
    participants: ['node0', 'node1', 'node2'],
    publicKey: new Uint8Array(33).fill(2),
    share: randomBytes(SHARE),
    activate: true,
  };
}

async function buildVault(dir: string, n: number): Promise<void> {
  const v = await Vault.create(dir, pw('bench'), { argon2: FAST });
  for (let i = 0; i < n; i += 1000) {
    const batch: PutShareInput[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push(share(`wallet-${j}`));
    v.putShares(batch);
  }
  v.close();
}

/** age-encryption alone: the same number of plaintext bytes streamed in 256 KiB chunks. */
async function ageBaseline(bytes: number, recipient: string): Promise<number> {
  const chunk = randomBytes(256 * 1024);
  let left = bytes;
  const src = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (left <= 0) return c.close();
        const n = Math.min(left, chunk.length);
        left -= n;
        c.enqueue(Uint8Array.from(chunk.subarray(0, n)));
      },
    },
    { highWaterMark: 0 },
  );
  const e = new Encrypter();
  e.addRecipient(recipient);
  const t = performance.now();
  const out = await e.encrypt(src);
  for await (const _ of out as unknown as AsyncIterable<Uint8Array>) {
    /* discard */
  }
  return (performance.now() - t) / 1000;
}

/** Runs a case in a child process and returns its JSON result (peak RSS is per process). */
function child(args: string[]): Record<string, number> {
  const r = spawnSync(process.execPath, [import.meta.filename, 'child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`child ${args[0]} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

async function childMain(args: string[]): Promise<void> {
  const [mode, vaultDir, outDir, keyFile, toDir] = args as [string, string, string, string, string];
  const t = performance.now();
  let bytes = 0;
  if (mode === 'backup') {
    const v = await Vault.open(vaultDir, pw('bench'));
    const r = await runBackup(v, {
      outDir,
      nodeId: 'bench',
      recipients: [readFileSync(keyFile, 'utf8').split('\n')[1]!],
      mode: 'full',
    });
    bytes = r.bytes;
    v.close();
  } else if (mode === 'restore') {
    const r = await restoreChain(
      outDir,
      toDir,
      { identities: [readFileSync(keyFile, 'utf8').split('\n')[0]!] },
      pw('restored'),
      { argon2: FAST },
    );
    bytes = r.bytes;
  } else if (mode === 'open') {
    const v = await Vault.open(vaultDir, pw('bench'));
    v.close();
  }
  const seconds = (performance.now() - t) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, bytes, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
}

async function main(): Promise<void> {
  const N = Number(process.env.BENCH_BACKUP_SHARES ?? 100_000);
  const root = mkdtempSync(join(tmpdir(), 'tessera-bench-backup-'));
  try {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const keyFile = join(root, 'keys');
    writeFileSync(keyFile, `${identity}\n${recipient}\n`, { mode: 0o600 });

    const big = join(root, 'big');
    const small = join(root, 'small');
    let t = performance.now();
    await buildVault(big, N);
    const buildSeconds = (performance.now() - t) / 1000;
    await buildVault(small, 1000);

    // 1. Full backup throughput vs age-encryption alone (same run, same byte count).
    const bigOut = join(root, 'big-out');
    const v = await Vault.open(big, pw('bench'));
    t = performance.now();
    const full = await runBackup(v, { outDir: bigOut, nodeId: 'bench', recipients: [recipient], mode: 'full' });
    const fullSeconds = (performance.now() - t) / 1000;
    const plainBytes = full.bytes; // ciphertext size; plaintext is 16 bytes per 64 KiB smaller
    const baseSeconds = await ageBaseline(plainBytes, recipient);
    const fullMBps = plainBytes / MiB / fullSeconds;
    const baseMBps = plainBytes / MiB / baseSeconds;
    emit({
      case: 'full-backup-throughput',
      unit: 'MiB/s',
      value: fullMBps,
      baseline: baseMBps,
      ratio: fullMBps / baseMBps,
      ratioOf: 'MiB/s / age-encryption alone MiB/s',
      target: '>= 0.7',
      shares: N,
      shareBytes: SHARE,
      buildSeconds: round(buildSeconds, 1),
      records: full.records,
      MiB: round(plainBytes / MiB, 1),
      seconds: round(fullSeconds, 2),
    });

    // 2. Incremental after 1,000 changes on the large vault vs a full backup of 1,000 shares.
    for (let i = 0; i < 1000; i += 100) {
      const batch: PutShareInput[] = [];
      for (let j = i; j < i + 100; j++) batch.push(share(`wallet-${j * 7}`, 2));
      v.putShares(batch);
    }
    t = performance.now();
    const inc = await runBackup(v, { outDir: bigOut, nodeId: 'bench', recipients: [recipient] });
    const incSeconds = (performance.now() - t) / 1000;
    v.close();
    const sv = await Vault.open(small, pw('bench'));
    t = performance.now();
    await runBackup(sv, { outDir: join(root, 'small-out'), nodeId: 'bench', recipients: [recipient], mode: 'full' });
    const smallSeconds = (performance.now() - t) / 1000;
    sv.close();
    emit({
      case: 'incremental-after-1000-changes',
      unit: 's',
      value: incSeconds,
      baseline: smallSeconds,
      ratio: incSeconds / smallSeconds,
      ratioOf: 's / s of a full backup of 1,000 shares',
      target: '<= 3',
      shares: N,
      kind: inc.kind,
      records: inc.records,
    });

    // 3 and 4. Restore throughput and peak RSS, each in its own process.
    const rssOpen = child(['open', big, bigOut, keyFile, '']);
    const rssBackup = child(['backup', big, join(root, 'rss-out'), keyFile, '']);
    const restored = child(['restore', big, bigOut, keyFile, join(root, 'restored')]);
    const smallBackup = child(['backup', small, join(root, 'small-rss-out'), keyFile, '']);
    const smallRestore = child(['restore', small, join(root, 'small-out'), keyFile, join(root, 'small-restored')]);
    const restoreMBps = restored.bytes! / MiB / restored.seconds!;
    emit({
      case: 'restore-throughput',
      unit: 'MiB/s',
      value: restoreMBps,
      baseline: fullMBps,
      ratio: restoreMBps / fullMBps,
      ratioOf: 'restore MiB/s / full backup MiB/s',
      shares: N,
      MiB: round(restored.bytes! / MiB, 1),
      seconds: round(restored.seconds!, 2),
      sharesPerSecond: Math.round((N + 1000) / restored.seconds!),
    });
    const vaultMiB = statSync(join(big, 'vault.db')).size / MiB;
    emit({
      case: 'peak-rss',
      unit: 'MiB',
      value: rssBackup.peakRssMiB!,
      baseline: smallBackup.peakRssMiB!,
      ratio: rssBackup.peakRssMiB! / smallBackup.peakRssMiB!,
      ratioOf: 'backup peak RSS / backup peak RSS of a 1,000-share vault',
      shares: N,
      vaultMiB: round(vaultMiB, 1),
      openOnlyMiB: round(rssOpen.peakRssMiB!, 1),
      restoreMiB: round(restored.peakRssMiB!, 1),
      restoreOf1000MiB: round(smallRestore.peakRssMiB!, 1),
      restoreRatioLargeToSmall: round(restored.peakRssMiB! / smallRestore.peakRssMiB!, 2),
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') await childMain(process.argv.slice(3));
else await main();
