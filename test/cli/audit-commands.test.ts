// `tessera audit list` and `tessera audit verify`, run as the built CLI (npm test builds it first).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AuditEntryInput, encodeAuditEntry } from '../../src/vault/audit-log.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, rawSql, tempDir } from '../helpers/vault.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const PW = 'operator password';
const T0 = Date.UTC(2025, 0, 1);

function tessera(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const entry = (i: number): AuditEntryInput => ({
  time: T0 + i * 1000,
  actor: 'initiator-1',
  action: 'sign',
  walletId: `wallet-${i}`,
  outcome: i === 2 ? 'error' : 'ok',
  ...(i === 2 ? { errorCode: 'ERROR_MSG_VALIDATION' } : {}),
  details: { parties: 3 },
});

/** A vault holding audit entries 1..n, closed, and the CLI arguments that open it. */
async function vaultWith(n: number) {
  const root = tempDir();
  const dir = join(root, 'vault');
  const pwFile = join(root, 'pw');
  writeFileSync(pwFile, `${PW}\n`);
  const v = await Vault.create(dir, password(PW), { argon2: FAST_ARGON2 });
  for (let i = 1; i <= n; i++) v.appendAudit(entry(i));
  v.close();
  return { dir, auth: ['--dir', dir, '--password-file', pwFile] };
}

const X = (b: Uint8Array) => `X'${Buffer.from(b).toString('hex')}'`;
const sql = (dir: string, s: string) => rawSql(dir, PW, s);

describe('tessera audit list', () => {
  it('lists the entries as tab-separated lines or as JSON, one page at a time', async () => {
    const { auth } = await vaultWith(5);
    const human = tessera(['audit', 'list', ...auth]);
    expect(human.code, human.err).toBe(0);
    const lines = human.out.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toBe(
      ['2', new Date(T0 + 2000).toISOString(), 'initiator-1', 'sign', 'error ERROR_MSG_VALIDATION'].join('\t') +
        '\twallet=wallet-2\tparties=3',
    );
    const json = tessera(['audit', 'list', ...auth, '--json', '--after', '1', '--limit', '2']);
    expect(json.code, json.err).toBe(0);
    const records = JSON.parse(json.out);
    expect(records.map((r: { seq: number }) => r.seq)).toEqual([2, 3]);
    expect(records[1]).toEqual({ seq: 3, entry: entry(3), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const page = tessera(['audit', 'list', ...auth, '--limit', '2']);
    expect(page.err).toMatch(/--after 2/);
    expect(tessera(['audit', 'list', ...auth, '--after', '5']).out).toBe('no audit entries\n');
  });

  it('a bad page gets exit code 1, a wrong password 2, a vault held open 4', async () => {
    const { dir, auth } = await vaultWith(1);
    for (const args of [
      ['--limit', '0'],
      ['--limit', '10001'],
      ['--after', '-1'],
    ]) {
      const r = tessera(['audit', 'list', ...auth, ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(tessera(['audit', 'list', '--dir', dir], { TESSERA_VAULT_PASSWORD: 'wrong' }).code).toBe(2);
    expect(tessera(['audit', 'verify', '--dir', dir], { TESSERA_VAULT_PASSWORD: PW }).code).toBe(0);
    const v = await Vault.open(dir, password(PW));
    const locked = tessera(['audit', 'verify', ...auth]);
    v.close();
    expect(locked.code).toBe(4);
  });
});

describe('tessera audit verify', () => {
  it('an intact log (also an empty one) exits 0 and prints its authenticated head', async () => {
    const empty = await vaultWith(0);
    expect(tessera(['audit', 'verify', ...empty.auth]).out).toBe(`ok: 0 entries, head 0 ${'00'.repeat(32)}\n`);
    const { auth } = await vaultWith(4);
    const r = tessera(['audit', 'verify', ...auth, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, entries: 4, head: { seq: 4 } });
  });

  const tampers: [string, string, (dir: string) => Promise<void>][] = [
    [
      'an edited entry',
      'edited',
      async (dir) => {
        await sql(
          dir,
          `UPDATE audit_log SET entry = ${X(encodeAuditEntry({ ...entry(3), outcome: 'denied' }))} WHERE seq = 3`,
        );
      },
    ],
    ['a removed middle entry', 'removed', (dir) => sql(dir, 'DELETE FROM audit_log WHERE seq = 2').then(() => {})],
    [
      'two entries swapped',
      'reordered',
      (dir) =>
        sql(
          dir,
          'UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; ' +
            'UPDATE audit_log SET seq = 3 WHERE seq = 100;',
        ).then(() => {}),
    ],
    ['a removed tail', 'truncated', (dir) => sql(dir, 'DELETE FROM audit_log WHERE seq > 2').then(() => {})],
    [
      'an entry copied from another vault',
      'foreign',
      async (dir) => {
        const other = await vaultWith(4);
        const [r] = (await sql(other.dir, 'SELECT vault_id, entry, hash FROM audit_log WHERE seq = 3')) as {
          vault_id: Buffer;
          entry: Buffer;
          hash: Buffer;
        }[];
        await sql(
          dir,
          `UPDATE audit_log SET vault_id = ${X(r!.vault_id)}, entry = ${X(r!.entry)}, ` +
            `hash = ${X(r!.hash)} WHERE seq = 3`,
        );
      },
    ],
  ];

  for (const [what, problem, tamper] of tampers) {
    it(`${what} exits 3 and names the problem (${problem})`, async () => {
      const { dir, auth } = await vaultWith(4);
      await tamper(dir);
      const r = tessera(['audit', 'verify', ...auth]);
      expect(r.code, r.err).toBe(3);
      expect(r.out).toMatch(
        new RegExp(`^PROBLEM ${problem} at entry \\d+: .+\\nFAILED: \\d+ entries, head 4 [0-9a-f]{64}\\n$`),
      );
      const json = tessera(['audit', 'verify', ...auth, '--json']);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.out)).toMatchObject({ ok: false, firstBad: { problem } });
      // the vault's full check reports it too
      expect(tessera(['vault', 'verify', ...auth]).code).toBe(3);
    });
  }
});
