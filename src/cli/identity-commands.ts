/** `tessera generate-peers | generate-identity | generate-initiator | generate-authorizer`: mpcium-compatible keys and identities (docs/node.md). */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AlreadyExistsError, InvalidArgumentError, IoError } from '../common/errors.js';
import { writeFileAtomic } from '../common/fs.js';
import { generatePeers, parsePeers, writeIdentity, writeSigningKey } from '../node/index.js';
import { parseNat } from './args.js';
import { EXIT, printJson } from './output.js';
import { promptHidden } from './secret-input.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

/** What {@link keyFileOptions} adds, plus the output directory every key-writing command has. */
interface KeyFileFlags {
  outputDir: string;
  encrypt?: boolean;
  passphraseFile?: string;
  overwrite?: boolean;
  json?: boolean;
}

/** The options every key-writing command shares: encryption, passphrase file, overwrite, JSON output. Does not throw. */
function keyFileOptions(c: Command): Command {
  return c
    .option('-e, --encrypt', 'age-encrypt the private key with a passphrase')
    .option('--passphrase-file <file>', 'file holding the passphrase (else a prompt)')
    .option('-f, --overwrite', 'replace existing files')
    .option('--json', 'machine-readable output');
}

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

  const readPassphrase = async (file: string | undefined, prompt: string): Promise<string> => {
    if (file) return readText(file, 'passphrase file').replace(/\r?\n$/, '');
    const b = await promptHidden(prompt);
    const t = b.toString('utf8');
    b.fill(0);
    return t;
  };

  for (const kind of ['initiator', 'authorizer'] as const) {
    keyFileOptions(
      program
        .command(`generate-${kind}`)
        .description(
          kind === 'initiator'
            ? 'create the key that signs client requests (<name>.identity.json and <name>.key[.age])'
            : 'create an authorizer key (<name>.authorizer.identity.json and <name>.authorizer.key[.age])',
        )
        .option('-n, --name <name>', 'key name', kind === 'initiator' ? 'event_initiator' : undefined)
        .option('-a, --algorithm <alg>', 'ed25519 or p256', 'ed25519')
        .option('-o, --output-dir <dir>', 'output directory', '.'),
    ).action((o: KeyFileFlags & { name?: string; algorithm: string }) =>
      run(async () => {
        if (o.algorithm !== 'ed25519' && o.algorithm !== 'p256')
          throw new InvalidArgumentError('--algorithm is ed25519 or p256');
        if (!o.name) throw new InvalidArgumentError('--name is required');
        const passphrase = o.encrypt ? await readPassphrase(o.passphraseFile, 'Passphrase for the key: ') : undefined;
        const r = await writeSigningKey(o.outputDir, kind, o.name, o.algorithm, {
          passphrase,
          overwrite: o.overwrite,
        });
        if (o.json) printJson({ ...r, algorithm: o.algorithm });
        else process.stdout.write(`wrote ${r.files.join(' and ')}; public key ${r.publicKey}\n`);
        return EXIT.ok;
      }, o.json),
    );
  }

  keyFileOptions(
    program
      .command('generate-identity')
      .description("create a node's Ed25519 identity (identity/<name>_identity.json and its private key file)")
      .requiredOption('-n, --node <name>', 'node name (as in peers.json)')
      .option('-p, --peers <file>', 'peers.json', 'peers.json')
      .option('-o, --output-dir <dir>', 'identity directory', 'identity'),
  ).action((o: KeyFileFlags & { node: string; peers: string }) =>
    run(async () => {
      const peers = parsePeers(readText(o.peers, 'peers file'));
      const nodeId = peers.get(o.node);
      if (nodeId === undefined) throw new InvalidArgumentError(`node ${o.node} is not in ${o.peers}`);
      const passphrase = o.encrypt
        ? await readPassphrase(o.passphraseFile, 'Passphrase for the identity key: ')
        : undefined;
      const identity = await writeIdentity(o.outputDir, o.node, nodeId, { passphrase, overwrite: o.overwrite });
      if (o.json) printJson(identity);
      else process.stdout.write(`wrote the identity of ${o.node} (${nodeId}) to ${o.outputDir}\n`);
      return EXIT.ok;
    }, o.json),
  );
}
