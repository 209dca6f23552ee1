/** `tessera vault …`: operator commands over the vault library. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError, IoError } from '../common/errors.js';
import { type KeyType, type ShareVersionInfo, Vault, validateKeyType, type WalletInfo } from '../vault/index.js';
import { argon2Options, argon2Params, parseHex, parseNat } from './args.js';
import { vaultOptions, withVault } from './open-vault.js';
import { EXIT, printJson, progressBar } from './output.js';
import { readSecret, type SecretOptions, wipeSecret } from './secret-input.js';

interface CommonOptions extends SecretOptions {
  dir: string;
  json?: boolean;
}

function walletLine(w: WalletInfo): string {
  return (
    `${w.keyType}\t${w.walletId}\tv${w.currentVersion ?? '-'}\tt=${w.threshold}\t` +
    `${w.participants.join(',')}\t${Buffer.from(w.publicKey).toString('hex')}`
  );
}

function versionLine(s: ShareVersionInfo): string {
  return (
    `v${s.version}\t${s.status}\tt=${s.threshold}\t${s.participants.join(',')}\t` +
    `key=${s.dataKeyId}\t${new Date(s.updatedAt).toISOString()}`
  );
}

/** Registers `vault` and its subcommands; `run` wraps each action with error handling. */
export function registerVaultCommands(
  program: Command,
  run: (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>,
): void {
  const vault = program.command('vault').description('the encrypted share vault');

  argon2Options(vaultOptions(vault.command('init').description('create a new, empty vault')))
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions & { argon2Memory: string; argon2Iterations: string }) =>
      run(async () => {
        const argon2 = argon2Params(o);
        const secret = await readSecret(o, 'New vault password: ');
        let v: Vault;
        try {
          v = await Vault.create(o.dir, secret, { argon2 });
        } finally {
          wipeSecret(secret);
        }
        const id = v.id;
        v.close();
        if (o.json) printJson({ vaultId: id, dir: o.dir });
        else process.stdout.write(`created vault ${id} in ${o.dir}\n`);
        return EXIT.ok;
      }, o.json),
    );

  vaultOptions(vault.command('status').description('summary of the vault (keys, counts, sequence)'))
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions) =>
      run(
        () =>
          withVault(o, (v) => {
            const s = v.status();
            if (o.json) printJson(s);
            else {
              const argon2 = s.argon2 ? ` (m=${s.argon2.memLimit / 1024 / 1024} MiB, t=${s.argon2.opsLimit})` : '';
              const held = s.dataKeyIds.join(', ');
              const rotating = s.rotationInProgress ? ', rotation in progress' : '';
              const { active, pending, retired } = s.shares;
              process.stdout.write(
                `${[
                  `vault ${s.vaultId} (${s.dir})`,
                  `unlock: ${s.kdf}${argon2}, keyring generation ${s.keyringGeneration}`,
                  `data key ${s.primaryDataKeyId} (held: ${held}), page key ${s.pageKeyId}${rotating}`,
                  `wallets ${s.wallets}; shares: ${active} active, ${pending} pending, ${retired} retired`,
                  `change sequence ${s.seq}, backed up to ${s.backupWatermark}`,
                  ...s.keyringIssues.map((i) => `repaired keyring copy: ${i}`),
                ].join('\n')}\n`,
              );
            }
            return EXIT.ok;
          }),
        o.json,
      ),
    );

  vaultOptions(vault.command('list').description('list wallets, or the versions of one wallet'))
    .option('--wallet <id>', 'list the versions of this wallet')
    .option('--key-type <type>', 'ecdsa or eddsa (with --wallet)')
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions & { wallet?: string; keyType?: string }) =>
      run(
        () =>
          withVault(o, (v) => {
            if (o.wallet) {
              if (!o.keyType) throw new InvalidArgumentError('--wallet needs --key-type ecdsa|eddsa');
              validateKeyType(o.keyType);
              const versions = v.listVersions(o.keyType, o.wallet);
              if (o.json) printJson(versions);
              else process.stdout.write(`${versions.map(versionLine).join('\n')}\n`);
            } else {
              const wallets = v.listWallets();
              if (o.json) printJson(wallets);
              else
                process.stdout.write(wallets.length === 0 ? 'no wallets\n' : `${wallets.map(walletLine).join('\n')}\n`);
            }
            return EXIT.ok;
          }),
        o.json,
      ),
    );

  vaultOptions(vault.command('verify').description('full integrity check; exit 3 if anything is wrong'))
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions) =>
      run(
        () =>
          withVault(o, async (v) => {
            const bar = progressBar('verify');
            const report = await v.verify(bar.onProgress).finally(bar.stop);
            if (o.json) printJson(report);
            else {
              for (const p of report.problems) process.stdout.write(`PROBLEM ${p.part} at ${p.where}: ${p.what}\n`);
              process.stdout.write(
                `${report.ok ? 'ok' : 'FAILED'}: ${report.wallets} wallets, ` +
                  `${report.records} records, ${report.problems.length} problems\n`,
              );
            }
            return report.ok ? EXIT.ok : EXIT.corrupted;
          }),
        o.json,
      ),
    );

  argon2Options(
    vaultOptions(
      vault.command('rotate-password').description('change the password (or switch to a key file); O(1) in shares'),
    ),
    ' for the new password',
  )
    .option('--new-password-file <file>', 'file holding the new password')
    .option('--new-key-file <file>', 'file holding a new raw 32-byte key')
    .option('--json', 'machine-readable output')
    .action(
      (
        o: CommonOptions & {
          newPasswordFile?: string;
          newKeyFile?: string;
          argon2Memory: string;
          argon2Iterations: string;
        },
      ) =>
        run(async () => {
          const argon2 = argon2Params(o);
          if (!o.newPasswordFile && !o.newKeyFile && !process.stdin.isTTY)
            throw new InvalidArgumentError('give --new-password-file or --new-key-file');
          await withVault(o, async (v) => {
            const next = await readSecret(
              { passwordFile: o.newPasswordFile, keyFile: o.newKeyFile },
              'New vault password: ',
            );
            try {
              await v.rotatePassword(next, { argon2 });
            } finally {
              wipeSecret(next);
            }
          });
          if (o.json) printJson({ rotated: 'password' });
          else process.stdout.write('password changed\n');
          return EXIT.ok;
        }, o.json),
    );

  vaultOptions(
    vault.command('rotate-key').description('new data and page keys; re-seals every share and drops the old keys'),
  )
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions) =>
      run(
        () =>
          withVault(o, async (v) => {
            const bar = progressBar('re-seal');
            const { resealed } = await v.rotateKey({ onProgress: bar.onProgress }).finally(bar.stop);
            const s = v.status();
            if (o.json) printJson({ resealed, dataKeyId: s.primaryDataKeyId, pageKeyId: s.pageKeyId });
            else
              process.stdout.write(
                `re-sealed ${resealed} shares under data key ${s.primaryDataKeyId}; ` +
                  `pages under key ${s.pageKeyId}; old keys dropped\n`,
              );
            return EXIT.ok;
          }),
        o.json,
      ),
    );

  vaultOptions(vault.command('import-share').description('store an opaque share version (operators, tests)'))
    .requiredOption('--wallet <id>', 'wallet id')
    .requiredOption('--key-type <type>', 'ecdsa or eddsa')
    .requiredOption('--version <n>', 'share version (keygen writes 1)')
    .requiredOption('--threshold <t>', 't: t+1 parties sign')
    .requiredOption('--participants <ids>', 'comma-separated node ids of the committee')
    .requiredOption('--public-key <hex>', 'the wallet public key, hex')
    .requiredOption('--file <file>', 'file holding the share bytes')
    .option('--pending', 'store as pending instead of activating it')
    .option('--json', 'machine-readable output')
    .action(
      (
        o: CommonOptions & {
          wallet: string;
          keyType: string;
          version: string;
          threshold: string;
          participants: string;
          publicKey: string;
          file: string;
          pending?: boolean;
        },
      ) =>
        run(async () => {
          validateKeyType(o.keyType);
          const keyType: KeyType = o.keyType;
          const version = parseNat('--version', o.version);
          const threshold = parseNat('--threshold', o.threshold);
          const publicKey = parseHex('--public-key', o.publicKey);
          const participants = o.participants.split(',').map((p) => p.trim());
          let share: Buffer;
          try {
            share = readFileSync(o.file);
          } catch (e) {
            throw new IoError(`reading the share file ${o.file}`, e);
          }
          try {
            const info = await withVault(o, (v) =>
              v.putShare({
                keyType,
                walletId: o.wallet,
                version,
                threshold,
                participants,
                publicKey,
                share,
                activate: !o.pending,
              }),
            );
            if (o.json) printJson(info);
            else process.stdout.write(`stored ${keyType}/${o.wallet} v${version} (${info.status})\n`);
          } finally {
            share.fill(0);
          }
          return EXIT.ok;
        }, o.json),
    );

  vaultOptions(vault.command('prune').description('delete old retired versions, keeping the newest N'))
    .requiredOption('--keep <n>', 'retired versions to keep per wallet')
    .option('--wallet <id>', 'only this wallet')
    .option('--key-type <type>', 'ecdsa or eddsa (with --wallet)')
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions & { keep: string; wallet?: string; keyType?: string }) =>
      run(async () => {
        const keep = parseNat('--keep', o.keep);
        let wallet: { keyType: KeyType; walletId: string } | undefined;
        if (o.wallet) {
          if (!o.keyType) throw new InvalidArgumentError('--wallet needs --key-type ecdsa|eddsa');
          validateKeyType(o.keyType);
          wallet = { keyType: o.keyType, walletId: o.wallet };
        }
        const removed = await withVault(o, (v) => v.prune(keep, wallet));
        if (o.json) printJson({ removed });
        else process.stdout.write(`removed ${removed} retired versions\n`);
        return EXIT.ok;
      }, o.json),
    );

  vaultOptions(
    vault
      .command('mark-resetup')
      .description(
        'mark every ECDSA share for a pairwise OT re-setup before it signs again (after copying vault files or a disk or VM snapshot back; docs/ecdsa.md rule 8)',
      ),
  )
    .option('--json', 'machine-readable output')
    .action((o: CommonOptions) =>
      run(async () => {
        await withVault(o, (v) => v.markNeedsResetup());
        if (o.json) printJson({ marked: true });
        else process.stdout.write('marked: the node burns and re-sets up every ECDSA pair at its next start\n');
        return EXIT.ok;
      }, o.json),
    );
}
