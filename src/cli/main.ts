#!/usr/bin/env node
/** The `tessera` command. */
import { Command } from 'commander';
import { registerAuditCommands } from './audit-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerBenchmarkCommands } from './benchmark-commands.js';
import { registerDevCommand } from './dev-command.js';
import { registerIdentityCommands } from './identity-commands.js';
import { EXIT, exitCodeFor, reportError } from './output.js';
import { registerStartCommands } from './start-command.js';
import { registerVaultCommands } from './vault-commands.js';
import { walkthrough } from './walkthrough.js';
import { registerWalletCommands } from './wallet-commands.js';

async function run(fn: () => Promise<number | undefined>, json = false): Promise<void> {
  try {
    process.exitCode = (await fn()) ?? EXIT.ok;
  } catch (e) {
    reportError(e, json);
    process.exitCode = exitCodeFor(e);
  }
}

// A reader that goes away (`tessera … | head -1`) ends the output, not the process with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  throw e;
});

const program = new Command();
program.name('tessera').description('Tessera MPC wallet node').showHelpAfterError();
// No global --version flag: `import-share --version N` needs the name. `tessera version` instead.
program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write('tessera version 0.1.0\n');
  });
registerVaultCommands(program, run);
registerBackupCommands(program, run);
registerAuditCommands(program, run);
registerIdentityCommands(program, run);
registerDevCommand(program, run);
registerStartCommands(program, run);
registerWalletCommands(program, run);
registerBenchmarkCommands(program, run);
program
  .command('walkthrough')
  .description('a short walkthrough of the vault alone on a temporary directory (`npm start` runs `tessera dev`)')
  .action(() => run(walkthrough));

await program.parseAsync(process.argv);
