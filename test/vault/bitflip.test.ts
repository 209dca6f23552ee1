import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShareDestroyedError, VaultCorruptedError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { startChild } from '../helpers/child.js';
import { password, tempDir } from '../helpers/vault.js';

/** What the fill child wrote (see fixtures/vault-child.mjs, mode fill); v1 of a wallet with a v2 is retired (no secret). */
function expected(): Map<string, Map<number, number>> {
  const m = new Map<string, Map<number, number>>();
  for (let i = 0; i < 40; i++) {
    const versions = new Map([[1, i + 1]]);
    if (i % 3 === 0 && i < 30) versions.set(2, i + 101);
    m.set(`w${i}`, versions);
  }
  return m;
}

type Outcome = 'correct' | `corrupted:${string}`;

/** Opens the vault and reads everything; returns how it went, or throws on a forbidden outcome. */
async function readAll(dir: string): Promise<Outcome> {
  let v: Vault | undefined;
  try {
    v = await Vault.open(dir, password('pw-a'));
    for (const [id, versions] of expected()) {
      const w = v.getWallet('eddsa', id);
      if (w.currentVersion !== Math.max(...versions.keys()))
        throw new Error(`WRONG DATA: ${id} current version ${w.currentVersion}`);
      for (const [version, fill] of versions) {
        if (version < w.currentVersion!) {
          // retired: its secret was destroyed; reading it must say so, never return bytes
          let refused = false;
          try {
            v.getShare('eddsa', id, version);
          } catch (e) {
            if (!(e instanceof ShareDestroyedError)) throw e;
            refused = true;
          }
          if (!refused) throw new Error(`WRONG DATA: ${id} v${version} is retired but readable`);
          continue;
        }
        const s = v.getShare('eddsa', id, version);
        if (!s.share.every((b) => b === fill) || s.share.length !== 1024 + (fill % 7) * 512)
          throw new Error(`WRONG DATA: ${id} v${version}`);
      }
    }
    if (v.listWallets().length !== 40) throw new Error('WRONG DATA: wallet count');
    return 'correct';
  } catch (e) {
    if (e instanceof VaultCorruptedError) return `corrupted:${e.part}`;
    throw e;
  } finally {
    v?.close();
  }
}

const ALLOWED: Record<string, string[]> = {
  'vault.db': ['database'],
  'vault.db-wal': ['wal', 'database'],
  'vault.db-shm': ['wal'],
  keyring: ['keyring'],
  'keyring.bak': ['keyring'],
};

/** Flips one random byte of one file per trial, in a fresh copy of `base`; tallies the outcomes. */
async function flipTrials(
  base: string,
  trialsPerFile: number,
  rng: () => number,
): Promise<Record<string, Record<string, number>>> {
  const files = Object.keys(ALLOWED).filter((f) => existsSync(join(base, f)));
  const tally: Record<string, Record<string, number>> = {};
  for (const f of files) {
    const t: Record<string, number> = {};
    tally[f] = t;
    for (let i = 0; i < trialsPerFile; i++) {
      const dir = tempDir();
      for (const name of readdirSync(base)) cpSync(join(base, name), join(dir, name));
      flip(join(dir, f), rng);
      const outcome = await readAll(dir);
      t[outcome] = (t[outcome] ?? 0) + 1;
      if (outcome !== 'correct') expect(ALLOWED[f], `${f}: ${outcome}`).toContain(outcome.split(':')[1]);
    }
  }
  return tally;
}

function flip(path: string, rng: () => number): void {
  const bytes = readFileSync(path);
  const pos = Math.floor(rng() * bytes.length);
  bytes[pos]! ^= 1 + Math.floor(rng() * 255);
  writeFileSync(path, bytes);
}

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('bit flips in every vault file', () => {
  it('a flipped byte in the database, WAL, wal-index or keyring yields correct data or VaultCorrupted naming the part — never wrong data, WrongPassword or a crash', async () => {
    const base = tempDir();
    const child = startChild([base, 'fill', '1']);
    await child.exited;
    expect(child.acks.some((a) => a.op === 'filled')).toBe(true);
    // The child was killed with its log still in place: the database, WAL and wal-index all hold data.
    expect(statSync(join(base, 'vault.db-wal')).size).toBeGreaterThan(10_000);
    const pristine = tempDir();
    cpSync(base, pristine, { recursive: true });
    expect(await readAll(pristine)).toBe('correct');

    const rng = mulberry32(0xc0ffee);
    const crashed = await flipTrials(base, 60, rng);
    // The same data after a clean close: everything is in the database file, no log.
    const closed = tempDir();
    cpSync(pristine, closed, { recursive: true });
    (await Vault.open(closed, password('pw-a'))).close();
    expect(existsSync(join(closed, 'vault.db-wal'))).toBe(false);
    const clean = await flipTrials(closed, 60, rng);
    for (const tally of [crashed, clean]) {
      // A single damaged keyring copy never stops the vault from opening.
      expect(tally.keyring).toEqual({ correct: 60 });
      expect(tally['keyring.bak']).toEqual({ correct: 60 });
      // Damage to the database itself is seen (not every flip lands in a page that is read).
      expect(tally['vault.db']!['corrupted:database'] ?? 0).toBeGreaterThan(0);
    }
    console.log(JSON.stringify({ crashed, clean }));
  });
});
