/**
 * `npm start` until the node exists: a short, honest walkthrough of the vault on a temporary
 * directory, printing each step and what it cost.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShareDestroyedError, Vault, WrongPasswordError } from '../vault/index.js';

const pw = (s: string) => ({ kind: 'password' as const, password: Buffer.from(s) });

function step(n: number, text: string, t0: number): void {
  process.stdout.write(`${String(n).padStart(2)}. ${text} (${(performance.now() - t0).toFixed(1)} ms)\n`);
}

/** Runs the walkthrough; returns the process exit code. */
export async function walkthrough(): Promise<number> {
  const dir = join(mkdtempSync(join(tmpdir(), 'tessera-walkthrough-')), 'vault');
  process.stdout.write(`Tessera vault walkthrough in ${dir}\n`);
  try {
    let t = performance.now();
    const v = await Vault.create(dir, pw('first password'));
    step(1, `created vault ${v.id} (Argon2id m=64 MiB t=3 → keyring; ChaCha20-Poly1305 pages)`, t);

    const share = randomBytes(4096);
    const publicKey = randomBytes(32);
    t = performance.now();
    v.putShare({
      keyType: 'eddsa',
      walletId: 'demo-wallet',
      version: 1,
      threshold: 1,
      participants: ['node0', 'node1', 'node2'],
      publicKey,
      share,
      activate: true,
    });
    step(2, 'stored a 4 KiB demo share as eddsa/demo-wallet v1 (AES-256-GCM record bound to its identity, fsynced)', t);
    t = performance.now();
    const share2 = randomBytes(4096);
    v.putShare({
      keyType: 'eddsa',
      walletId: 'demo-wallet',
      version: 2,
      threshold: 2,
      participants: ['node0', 'node1', 'node2', 'node3'],
      publicKey,
      share: share2,
    });
    v.activate('eddsa', 'demo-wallet', 2);
    step(
      3,
      'wrote v2 as pending (a reshare), then activated it: v1 retired and its secret destroyed in the same transaction',
      t,
    );
    v.close();

    t = performance.now();
    const v2 = await Vault.open(dir, pw('first password'));
    const got = v2.getShare('eddsa', 'demo-wallet');
    let v1Destroyed = false;
    try {
      v2.getShare('eddsa', 'demo-wallet', 1).share.fill(0);
    } catch (e) {
      v1Destroyed = e instanceof ShareDestroyedError;
    }
    step(
      4,
      `reopened: active v${got.version} reads back ` +
        `${Buffer.from(got.share).equals(share2) ? 'identical' : 'DIFFERENT'}; retired v1 ` +
        `${v1Destroyed ? 'has no secret any more (ShareDestroyedError)' : 'IS STILL READABLE'}`,
      t,
    );
    got.share.fill(0);
    share.fill(0);
    share2.fill(0);

    t = performance.now();
    await v2.rotatePassword(pw('second password'));
    step(5, 'rotated the password (keyring re-sealed only; no share touched)', t);

    t = performance.now();
    const { resealed } = await v2.rotateKey();
    const s = v2.status();
    step(
      6,
      `rotated keys: ${resealed} records re-sealed under data key ${s.primaryDataKeyId}, ` +
        `pages re-encrypted under page key ${s.pageKeyId}, old keys dropped`,
      t,
    );

    t = performance.now();
    const report = await v2.verify();
    step(
      7,
      `verify: ${report.ok ? 'ok' : 'FAILED'} (${report.wallets} wallet, ` +
        `${report.records} records, ${report.problems.length} problems)`,
      t,
    );
    v2.close();

    t = performance.now();
    const refused = await Vault.open(dir, pw('first password')).then(
      (x) => {
        x.close();
        return false;
      },
      (e) => e instanceof WrongPasswordError,
    );
    step(8, `the old password is ${refused ? 'refused (WrongPassword)' : 'STILL ACCEPTED'}`, t);

    const files = readdirSync(dir).map((f) => `${f} ${(statSync(join(dir, f)).mode & 0o777).toString(8)}`);
    process.stdout.write(`    files: ${files.join(', ')}\n`);
    process.stdout.write('Done. The node and the embedded cluster replace this walkthrough in a later release.\n');
    return report.ok && refused ? 0 : 1;
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}
