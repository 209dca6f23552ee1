/** `tessera backup …`: encrypted incremental backups of the vault (docs/backup.md). */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import {
  type BackupDecryption,
  type BackupEncryption,
  checkNames,
  inspectFile,
  listBackupDir,
  parseIdentityFile,
  restoreChain,
  runBackup,
  verifyChain,
} from '../backup/index.js';
import { InvalidArgumentError, IoError } from '../common/errors.js';
import type { VaultSecret } from '../vault/index.js';
import { argon2Options, argon2Params, parseNat } from './args.js';
import { withVault } from './open-vault.js';
import { EXIT, printJson, progressBar } from './output.js';
import { promptHidden, readSecret, type SecretOptions, wipeSecret } from './secret-input.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

const collect = (v: string, acc: string[]) => [...acc, v];

function readTextFile(path: string, what: string): string {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    throw new IoError(`reading the ${what} file ${path}`, e);
  }
  try {
    return b.toString('utf8');
  } finally {
    b.fill(0);
  }
}

/** A passphrase file's content without one trailing line ending. */
function readPassphrase(path: string): string {
  const s = readTextFile(path, 'passphrase').replace(/\r?\n$/, '');
  if (s.length === 0) throw new InvalidArgumentError(`the passphrase file ${path} is empty`);
  return s;
}

interface KeyOptions {
  identity: string[];
  passphraseFile?: string;
  json?: boolean;
}

function decryption(o: KeyOptions): BackupDecryption {
  const identities: string[] = [];
  for (const f of o.identity) {
    const ids = parseIdentityFile(readTextFile(f, 'identity'));
    if (ids.length === 0)
      throw new InvalidArgumentError(
        `the identity file ${f} holds no identity (expected AGE-SECRET-KEY-1… lines, as written by age-keygen)`,
      );
    identities.push(...ids);
  }
  const d: BackupDecryption = { identities };
  if (o.passphraseFile) d.passphrase = readPassphrase(o.passphraseFile);
  if (identities.length === 0 && d.passphrase === undefined)
    throw new InvalidArgumentError('give --identity FILE (an age identity file) or --passphrase-file FILE');
  return d;
}

const keyOptions = (c: Command) =>
  c
    .option('--identity <file>', 'age identity file (AGE-SECRET-KEY-1…); repeatable', collect, [])
    .option('--passphrase-file <file>', 'file holding the backup passphrase (one trailing newline is ignored)')
    .option('--json', 'machine-readable output');

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function newSecret(o: { newPasswordFile?: string; newKeyFile?: string }): Promise<VaultSecret> {
  if (o.newPasswordFile || o.newKeyFile) {
    const opts: SecretOptions = { passwordFile: o.newPasswordFile, keyFile: o.newKeyFile };
    return readSecret(opts);
  }
  return { kind: 'password', password: await promptHidden('New vault password: ') };
}

/** Registers `backup` and its subcommands. */
export function registerBackupCommands(program: Command, run: Runner): void {
  const backup = program.command('backup').description('encrypted incremental backups of the vault (age files)');

  backup
    .command('run')
    .description('write a full or incremental backup of a vault into a directory')
    .requiredOption('--dir <dir>', 'vault directory')
    .option('--password-file <file>', 'file holding the vault password')
    .option('--key-file <file>', 'file holding a raw 32-byte vault key')
    .requiredOption('--out <dir>', 'backup directory')
    .option('--recipient <age1…>', 'age X25519 recipient (public key); repeatable', collect, [])
    .option('--recipients-file <file>', 'file of age recipients, one per line')
    .option('--passphrase-file <file>', 'encrypt to a backup passphrase instead (never the vault password)')
    .option('--full', 'start a new chain with a full backup')
    .option('--incremental', 'fail unless the backup continues the existing chain')
    .option('--node-id <id>', 'node id recorded in the manifest', hostname())
    .option('--keep <n>', 'retention: keep the newest N chains')
    .option('--json', 'machine-readable output')
    .action(
      (
        o: SecretOptions & {
          dir: string;
          out: string;
          recipient: string[];
          recipientsFile?: string;
          passphraseFile?: string;
          full?: boolean;
          incremental?: boolean;
          nodeId: string;
          keep?: string;
          json?: boolean;
        },
      ) =>
        run(async () => {
          if (o.full && o.incremental) throw new InvalidArgumentError('give --full or --incremental, not both');
          const recipients = [...o.recipient];
          if (o.recipientsFile) recipients.push(...parseIdentityFile(readTextFile(o.recipientsFile, 'recipients')));
          const enc: BackupEncryption = { recipients };
          if (o.passphraseFile) enc.passphrase = readPassphrase(o.passphraseFile);
          const keep = o.keep === undefined ? undefined : parseNat('--keep', o.keep);
          return withVault(o, async (vault) => {
            const bar = o.json ? { onProgress: () => {}, stop: () => {} } : progressBar('backup');
            try {
              const r = await runBackup(vault, {
                ...enc,
                outDir: o.out,
                nodeId: o.nodeId,
                mode: o.full ? 'full' : o.incremental ? 'incremental' : 'auto',
                keepChains: keep,
                onProgress: bar.onProgress,
              });
              bar.stop();
              if (o.json) printJson(r);
              else if (r.file === null)
                process.stdout.write(`nothing to back up: ${r.reason} (watermark ${r.toSeq})\n`);
              else {
                process.stdout.write(
                  `wrote ${r.kind} backup ${r.file}: chain ${r.chain}, ` +
                    `sequence ${r.fromSeq}..${r.toSeq}, ${r.records} records, ${r.bytes} bytes (${r.reason})\n`,
                );
                for (const f of r.removed) process.stdout.write(`removed ${f}\n`);
              }
              return EXIT.ok;
            } finally {
              bar.stop();
            }
          });
        }, o.json),
    );

  backup
    .command('list')
    .description('list the backup files of a directory by chain (from their names; needs no key)')
    .argument('<dir>', 'backup directory')
    .option('--json', 'machine-readable output')
    .action((dir: string, o: { json?: boolean }) =>
      run(async () => {
        const { backups, foreign } = listBackupDir(dir);
        if (o.json) printJson({ backups, foreign });
        else {
          for (const b of backups)
            process.stdout.write(`chain ${b.chain}\t${b.kind}\t${b.fromSeq}..${b.toSeq}\t${b.name}\n`);
          for (const f of foreign) process.stdout.write(`foreign file\t${f}\n`);
        }
        if (backups.length === 0 && foreign.length === 0) return EXIT.ok;
        try {
          checkNames(dir);
        } catch (e) {
          if (!o.json) process.stderr.write(`tessera: ${(e as Error).message}\n`);
          return EXIT.corrupted;
        }
        return EXIT.ok;
      }, o.json),
    );

  keyOptions(
    backup
      .command('verify')
      .description('decrypt and check every chain of a backup directory; writes nothing')
      .argument('<dir>', 'backup directory'),
  ).action((dir: string, o: KeyOptions) =>
    run(async () => {
      const dec = decryption(o);
      const bar = o.json ? { onProgress: () => {}, stop: () => {} } : progressBar('verify');
      try {
        const r = await verifyChain(dir, dec, { onProgress: bar.onProgress });
        bar.stop();
        if (o.json) printJson({ ok: true, ...r });
        else {
          process.stdout.write(
            `backup chain OK: vault ${r.vaultId}, node ${r.nodeId}, ${r.chains.length} ` +
              `chain(s), ${r.files.length} file(s), ${r.records} records\n`,
          );
          for (const f of r.files)
            process.stdout.write(
              `  chain ${f.chain}\t${f.kind}\t${f.fromSeq}..${f.toSeq}\t` +
                `${f.records} records\t${iso(f.createdAt)}\t${f.name}\n`,
            );
        }
        return EXIT.ok;
      } finally {
        bar.stop();
      }
    }, o.json),
  );

  keyOptions(
    argon2Options(
      backup
        .command('restore')
        .description('build a NEW vault from a verified backup chain (also the export/re-import path)')
        .argument('<dir>', 'backup directory')
        .requiredOption('--to <dir>', 'directory of the new vault (must not exist)')
        .option('--new-password-file <file>', "file holding the new vault's password")
        .option('--new-key-file <file>', "file holding the new vault's raw 32-byte key")
        .option('--up-to-seq <n>', 'restore the newest state at or below this source sequence')
        .option('--up-to-time <iso>', 'restore the newest state written at or before this time (ISO 8601)'),
    ),
  ).action(
    (
      dir: string,
      o: KeyOptions & {
        to: string;
        newPasswordFile?: string;
        newKeyFile?: string;
        upToSeq?: string;
        upToTime?: string;
        argon2Memory: string;
        argon2Iterations: string;
      },
    ) =>
      run(async () => {
        const dec = decryption(o);
        const upToSeq = o.upToSeq === undefined ? undefined : parseNat('--up-to-seq', o.upToSeq);
        let upToTime: number | undefined;
        if (o.upToTime !== undefined) {
          upToTime = Date.parse(o.upToTime);
          if (!Number.isFinite(upToTime))
            throw new InvalidArgumentError(`--up-to-time must be an ISO 8601 time (got '${o.upToTime.slice(0, 40)}')`);
        }
        const argon2 = argon2Params(o);
        const secret = await newSecret(o);
        const bar = o.json ? { onProgress: () => {}, stop: () => {} } : progressBar('restore');
        try {
          const r = await restoreChain(dir, o.to, dec, secret, {
            upToSeq,
            upToTime,
            argon2,
            onProgress: bar.onProgress,
          });
          bar.stop();
          if (o.json) printJson(r);
          else {
            process.stdout.write(
              `restored ${r.files.length} file(s) of chain ${r.chains[0]} (source ` +
                `vault ${r.vaultId}, up to sequence ${r.upToSeq}) into new vault ` +
                `${r.newVaultId} at ${r.to}: ${r.wallets} wallets, ${r.shares} share versions\n`,
            );
          }
          return EXIT.ok;
        } finally {
          bar.stop();
          wipeSecret(secret);
        }
      }, o.json),
  );

  keyOptions(
    backup
      .command('inspect')
      .description("print a backup file's manifest and trailer (checks the file on its own)")
      .argument('<file>', 'backup file'),
  ).action((file: string, o: KeyOptions) =>
    run(async () => {
      const s = await inspectFile(file, decryption(o));
      const m = s.manifest;
      const out = {
        file: s.name,
        formatVersion: m.formatVersion,
        nodeId: m.nodeId,
        vaultId: m.vaultId,
        kind: m.kind,
        chain: m.chain,
        fromSeq: m.fromSeq,
        toSeq: s.trailer.toSeq,
        prevDigest: Buffer.from(m.prevDigest).toString('hex'),
        createdAt: iso(m.createdAt),
        recordCount: s.trailer.recordCount,
        records: s.counts,
        fileDigest: s.fileDigestHex,
        bytes: s.bytes,
      };
      if (o.json) printJson(out);
      else
        for (const [k, v] of Object.entries(out))
          process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      return EXIT.ok;
    }, o.json),
  );
}
