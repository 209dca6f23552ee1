/** `tessera audit …`: the node's hash-chained audit log in the vault (docs/vault.md, "Audit log"). */
import type { Command } from 'commander';
import { AUDIT_LIMITS, type AuditRecord } from '../vault/index.js';
import { parseNat } from './args.js';
import { vaultOptions, withVault } from './open-vault.js';
import { EXIT, printJson } from './output.js';
import type { SecretOptions } from './secret-input.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

interface AuditOptions extends SecretOptions {
  dir: string;
  json?: boolean;
}

/**
 * One entry as a tab-separated line: seq, time, actor, action, outcome (and error code), then the
 * optional wallet, session and details as key=value. Entries hold no tab or control character (the
 * vault refuses them), so the columns are unambiguous. Does not throw.
 */
function auditLine(r: AuditRecord): string {
  const e = r.entry;
  return [
    String(r.seq),
    new Date(e.time).toISOString(),
    e.actor,
    e.action,
    e.errorCode === undefined ? e.outcome : `${e.outcome} ${e.errorCode}`,
    ...(e.walletId === undefined ? [] : [`wallet=${e.walletId}`]),
    ...(e.sessionId === undefined ? [] : [`session=${e.sessionId}`]),
    ...Object.entries(e.details ?? {}).map(([k, v]) => `${k}=${v}`),
  ].join('\t');
}

/** Registers `audit` and its subcommands; `run` wraps each action with error handling. */
export function registerAuditCommands(program: Command, run: Runner): void {
  const audit = program.command('audit').description("the node's hash-chained audit log (in the vault)");

  vaultOptions(audit.command('list').description('list audit entries in order, one page at a time'))
    .option('--after <n>', 'only entries with a sequence number above N', '0')
    .option('--limit <n>', `at most N entries (1 to ${AUDIT_LIMITS.pageEntries})`, '1000')
    .option('--json', 'machine-readable output (an array of {seq, entry, hash})')
    .action((o: AuditOptions & { after: string; limit: string }) =>
      run(async () => {
        const after = parseNat('--after', o.after);
        const limit = parseNat('--limit', o.limit);
        const records = await withVault(o, (v) => v.auditEntries({ after, limit }));
        if (o.json) printJson(records);
        else {
          process.stdout.write(records.length === 0 ? 'no audit entries\n' : `${records.map(auditLine).join('\n')}\n`);
          if (records.length === limit) {
            const last = records[records.length - 1]!.seq;
            process.stderr.write(`more entries may follow: run again with --after ${last}\n`);
          }
        }
        return EXIT.ok;
      }, o.json),
    );

  vaultOptions(
    audit
      .command('verify')
      .description('recompute the hash chain and check it ends at the sealed head; exit 3 if it does not'),
  )
    .option('--json', 'machine-readable output')
    .action((o: AuditOptions) =>
      run(async () => {
        const report = await withVault(o, (v) => v.verifyAudit());
        if (o.json) printJson(report);
        else {
          const head = report.head ? `head ${report.head.seq} ${report.head.hash}` : 'no authenticated head';
          if (report.firstBad) {
            const { seq, problem, detail } = report.firstBad;
            process.stdout.write(`PROBLEM ${problem} at entry ${seq}: ${detail}\n`);
          }
          process.stdout.write(`${report.ok ? 'ok' : 'FAILED'}: ${report.entries} entries, ${head}\n`);
        }
        return report.ok ? EXIT.ok : EXIT.corrupted;
      }, o.json),
    );
}
