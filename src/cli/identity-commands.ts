/** `tessera generate-peers | generate-identity`: mpcium-compatible peer list and node identities (docs/node.md). */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AlreadyExistsError, InvalidArgumentError, IoError } from '../common/errors.js';
import { writeFileAtomic } from '../common/fs.js';
import { generatePeers, parsePeers, writeIdentity } from '../node/index.js';
import { parseNat } from './args.js';
import { EXIT, printJson } from './output.js';
import { promptHidden } from './secret-input.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new IoError(`reading the ${what} ${path}`, e);
  }
}

/** Registers the identity commands; `run` wraps each action with error handling. */
export function registerIdentityCommands(program: Command, run: Runner): void {
  program
    .command('generate-peers')
    .description('write peers.json: node names node0… with fresh node ids (UUIDs)')
    .requiredOption('-n, --number <n>', 'number of nodes')
    .option('-o, --output <file>', 'output file', 'peers.json')
    .option('--json', 'machine-readable output')
    .action((o: { number: string; output: string; json?: boolean }) =>
      run(async () => {
        if (existsSync(o.output)) throw new AlreadyExistsError(o.output, 'remove it first or choose another --output');
        const peers = generatePeers(parseNat('--number', o.number));
        writeFileAtomic(o.output, new TextEncoder().encode(`${JSON.stringify(peers, null, 2)}\n`));
        if (o.json) printJson({ output: o.output, peers });
        else process.stdout.write(`wrote ${Object.keys(peers).length} peers to ${o.output}\n`);
        return EXIT.ok;
      }, o.json),
    );

  program
    .command('generate-identity')
    .description("create a node's Ed25519 identity (identity/<name>_identity.json and its private key file)")
    .requiredOption('-n, --node <name>', 'node name (as in peers.json)')
    .option('-p, --peers <file>', 'peers.json', 'peers.json')
    .option('-o, --output-dir <dir>', 'identity directory', 'identity')
    .option('-e, --encrypt', 'age-encrypt the private key with a passphrase')
    .option('--passphrase-file <file>', 'file holding the passphrase (else a prompt)')
    .option('-f, --overwrite', 'replace existing files')
    .option('--json', 'machine-readable output')
    .action(
      (o: {
        node: string;
        peers: string;
        outputDir: string;
        encrypt?: boolean;
        passphraseFile?: string;
        overwrite?: boolean;
        json?: boolean;
      }) =>
        run(async () => {
          const peers = parsePeers(readText(o.peers, 'peers file'));
          const nodeId = peers.get(o.node);
          if (nodeId === undefined) throw new InvalidArgumentError(`node ${o.node} is not in ${o.peers}`);
          let passphrase: string | undefined;
          if (o.encrypt) {
            passphrase = o.passphraseFile
              ? readText(o.passphraseFile, 'passphrase file').replace(/\r?\n$/, '')
              : await (async () => {
                  const b = await promptHidden('Passphrase for the identity key: ');
                  const t = b.toString('utf8');
                  b.fill(0);
                  return t;
                })();
          }
          const identity = await writeIdentity(o.outputDir, o.node, nodeId, { passphrase, overwrite: o.overwrite });
          if (o.json) printJson(identity);
          else process.stdout.write(`wrote the identity of ${o.node} (${nodeId}) to ${o.outputDir}\n`);
          return EXIT.ok;
        }, o.json),
    );
}
