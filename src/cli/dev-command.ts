/**
 * `tessera dev` (and `npm start`): an n-node cluster in this process on the in-process transport
 * (or, with `--nats`, n `tessera start` processes over NATS), each node with its own vault on
 * disk, driven through the client SDK exactly as a client would
 * drive a NATS cluster: create a wallet, sign an Ethereum-style digest (ECDSA) and a Solana-style
 * message (EdDSA), sign under derived paths on both curves, reshare, sign again, back up, verify
 * the audit logs. One line per step with its timing, or one JSON document with `--json`. Every
 * signature is checked with an independent verifier (noble) before it is reported.
 */

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { Command } from 'commander';
import {
  compressSecp256k1PublicKey,
  deriveChildPublicKey,
  loadInitiator,
  localSigner,
  MpcClient,
  type SignOutcome,
  verifySignOutcome,
} from '../client/index.js';
import { InvalidArgumentError, InvalidStateError } from '../common/errors.js';
import { startLocalNatsServer } from '../daemon/index.js';
import { LocalCluster } from '../node/index.js';
import { connectNats, JetStreamWorkQueue, NatsBus } from '../transport/index.js';
import { parseNat } from './args.js';
import { ProcessCluster } from './process-cluster.js';

type Step = Record<string, unknown> & { step: number; name: string; ms: number };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface DevOptions {
  nodes: number;
  threshold: number;
  dir?: string;
  json: boolean;
  reshareNodes?: number;
  reshareThreshold?: number;
  /** Run over NATS: a URL, or `true` to start a local nats-server. */
  nats?: string | true;
}

/** What the walkthrough needs of a cluster, in-process or over NATS. */
interface DevCluster {
  readonly dir: string;
  readonly description: string;
  readonly nodeIds: string[];
  readonly chainCode: Uint8Array;
  readonly client: MpcClient;
  /** Backs up every vault; resolves with the files written and how. */
  backup(): Promise<{ files: number; how: string }>;
  audits(): Promise<{ entries: number; intact: boolean }>;
  close(): Promise<void>;
}

async function inProcessCluster(o: DevOptions): Promise<DevCluster> {
  const cluster = await LocalCluster.start({ nodes: o.nodes, threshold: o.threshold, dir: o.dir });
  const client = await MpcClient.create({
    workQueue: cluster.clientQueue(),
    bus: cluster.clientBus(),
    initiator: localSigner(cluster.initiatorKey),
  });
  return {
    dir: cluster.dir,
    description: `in-process transport, vaults in ${cluster.dir}${o.dir ? '' : ' (temporary)'}`,
    nodeIds: cluster.nodeIds,
    chainCode: Uint8Array.from(Buffer.from(cluster.file.chain_code, 'hex')),
    client,
    async backup() {
      let files = 0;
      for (const node of cluster.nodes) if (node && (await node.backupNow())?.file) files++;
      return { files, how: 'by the running nodes' };
    },
    async audits() {
      const audits = cluster.nodes.map((_, i) => cluster.vault(i).verifyAudit());
      return { entries: audits.reduce((a, r) => a + r.entries, 0), intact: audits.every((r) => r.ok) };
    },
    async close() {
      await client.close();
      await cluster.stop();
    },
  };
}

async function natsCluster(o: DevOptions): Promise<DevCluster> {
  if (o.dir && existsSync(o.dir) && readdirSync(o.dir).length > 0)
    throw new InvalidArgumentError(`--dir ${o.dir} is not empty: with --nats it must be new or empty`);
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'tessera-dev-nats-'));
  const server = o.nats === true ? await startLocalNatsServer() : undefined;
  const url = server?.url ?? (o.nats as string);
  let cluster: ProcessCluster | undefined;
  let nc: Awaited<ReturnType<typeof connectNats>> | undefined;
  const cleanup = async () => {
    await cluster?.kill();
    await nc?.close().catch(() => {});
    await server?.stop();
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    cluster = await ProcessCluster.start({ dir, nodes: o.nodes, threshold: o.threshold, natsUrl: url });
    nc = await connectNats({ url, name: 'tessera-dev' });
    const client = await MpcClient.create({
      workQueue: new JetStreamWorkQueue(nc),
      bus: new NatsBus(nc),
      initiator: await loadInitiator(cluster.files.initiatorKeyFile),
    });
    const c = cluster;
    return {
      dir,
      description: `${o.nodes} node processes over NATS at ${url}${server ? ' (a local nats-server)' : ''}, files in ${dir}${o.dir ? '' : ' (temporary)'}`,
      nodeIds: c.nodeIds,
      chainCode: Uint8Array.from(Buffer.from(c.files.chainCode, 'hex')),
      client,
      async backup() {
        await client.close();
        const codes = await c.stopNodes();
        if (codes.some((x) => x !== 0))
          throw new InvalidStateError(`a node did not shut down cleanly (exit codes ${codes.join(', ')})`);
        return { files: await c.backupStopped(), how: 'after a graceful stop (SIGTERM) of every node' };
      },
      audits: () => c.auditsStopped(),
      async close() {
        await client.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** Runs the walkthrough; returns the exit code. Throws what the cluster throws at start. */
export async function dev(o: DevOptions): Promise<number> {
  const rn = o.reshareNodes ?? o.nodes;
  const rt = o.reshareThreshold ?? rn - 1;
  if (rn < 2 || rn > o.nodes || rt < 1 || rt + 1 > rn)
    throw new InvalidArgumentError(
      `--reshare-nodes must be 2..${o.nodes} and --reshare-threshold 1..(reshare nodes − 1)`,
    );
  const steps: Step[] = [];
  const say = (s: Step, line: string) => {
    steps.push(s);
    if (!o.json) process.stdout.write(`${String(s.step).padStart(2)}. ${line} (${s.ms.toFixed(1)} ms)\n`);
  };
  let t = performance.now();
  const cluster = o.nats === undefined ? await inProcessCluster(o) : await natsCluster(o);
  const { client, chainCode } = cluster;
  try {
    say(
      {
        step: 1,
        name: 'cluster',
        ms: performance.now() - t,
        nodes: o.nodes,
        threshold: o.threshold,
        dir: cluster.dir,
        transport: o.nats === undefined ? 'in-process' : 'nats',
      },
      `started a ${o.nodes}-node cluster, ${o.threshold + 1}-of-${o.nodes}, ${cluster.description}`,
    );
    t = performance.now();
    const wallet = await client.createWallet();
    const master = { secp256k1: compressSecp256k1PublicKey(wallet.ecdsaPublicKey), ed25519: wallet.eddsaPublicKey };
    say(
      {
        step: 2,
        name: 'keygen',
        ms: performance.now() - t,
        wallet_id: wallet.walletId,
        secp256k1_public_key: hex(master.secp256k1),
        ed25519_public_key: hex(master.ed25519),
      },
      `created wallet ${wallet.walletId} on both curves (DKLs23 secp256k1 ${hex(master.secp256k1).slice(0, 16)}…, FROST ed25519 ${hex(master.ed25519).slice(0, 16)}…)`,
    );

    let n = steps.length;
    const sign = async (what: string, keyType: 'secp256k1' | 'ed25519', tx: Uint8Array, path?: number[]) => {
      const t0 = performance.now();
      const out: SignOutcome = await client.sign({ walletId: wallet.walletId, keyType, tx, derivationPath: path });
      const ms = performance.now() - t0;
      const pub = path ? deriveChildPublicKey(keyType, master[keyType], chainCode, path) : master[keyType];
      if (!verifySignOutcome(out, pub, tx))
        throw new InvalidStateError(`the ${keyType} signature of step ${n + 1} does not verify`);
      const s: Step = { step: ++n, name: what, ms, key_type: keyType, public_key: hex(pub) };
      if (path) s.derivation_path = path;
      if (out.keyType === 'secp256k1')
        Object.assign(s, { digest: hex(tx), r: hex(out.r), s: hex(out.s), v: out.recoveryId });
      else Object.assign(s, { message: hex(tx), signature: hex(out.signature) });
      say(
        s,
        `${what}: ${keyType} signature verified under ${hex(pub).slice(0, 16)}…${path ? ` (m/${path.join('/')})` : ''}`,
      );
    };
    const ethTx = keccak_256(new TextEncoder().encode('tessera dev: transfer 1 ETH to 0x00…01, nonce 0'));
    const solMsg = Uint8Array.of(1, 0, 1, 3, ...keccak_256(new TextEncoder().encode('tessera dev: solana message')));
    await sign('sign an Ethereum-style digest', 'secp256k1', ethTx);
    await sign('sign a Solana-style message', 'ed25519', solMsg);
    await sign('sign under a derived path', 'secp256k1', keccak_256(Uint8Array.of(1, 2, 3)), [44, 60, 0, 0, 0]);
    await sign('sign under a derived path', 'ed25519', Uint8Array.of(9, 8, 7), [44, 501, 0, 0]);

    const nodeIds = cluster.nodeIds.slice(0, rn);
    t = performance.now();
    for (const keyType of ['secp256k1', 'ed25519'] as const)
      await client.reshare({ walletId: wallet.walletId, keyType, newThreshold: rt, nodeIds });
    say(
      { step: ++n, name: 'reshare', ms: performance.now() - t, nodes: rn, threshold: rt },
      `reshared both curves to ${rt + 1}-of-${rn} (new version pending until every new member confirmed; old shares destroyed)`,
    );
    await sign('sign after the reshare', 'secp256k1', keccak_256(Uint8Array.of(4, 5, 6)));
    await sign('sign after the reshare', 'ed25519', Uint8Array.of(6, 5, 4));

    t = performance.now();
    const { files, how } = await cluster.backup();
    say(
      { step: ++n, name: 'backup', ms: performance.now() - t, files },
      `backed up every vault ${how}: ${files} encrypted file(s) (age, to the cluster's backup key)`,
    );
    t = performance.now();
    const { entries, intact } = await cluster.audits();
    say(
      { step: ++n, name: 'audit', ms: performance.now() - t, entries, intact },
      `audit logs: ${entries} entries over ${o.nodes} nodes, hash chains and sealed heads ${intact ? 'verify' : 'DO NOT verify'}`,
    );
    if (o.json) process.stdout.write(`${JSON.stringify({ steps })}\n`);
    return intact ? 0 : 3;
  } finally {
    await cluster.close();
  }
}

/** Registers `tessera dev`. */
export function registerDevCommand(
  program: Command,
  run: (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>,
): void {
  program
    .command('dev')
    .description(
      'run a cluster in this process (in-process transport, vaults on disk), or with --nats as node processes over NATS, and walk through keygen, signing, reshare and backups',
    )
    .option('--nodes <n>', 'nodes in the cluster', '3')
    .option('--threshold <t>', 'mpc_threshold t (t+1 sign)', '1')
    .option('--dir <path>', 'keep the vaults, keys and backups here (default: a temporary directory, removed)')
    .option('--reshare-nodes <n>', 'reshare to the first n nodes (default: all)')
    .option('--reshare-threshold <t>', 'new threshold of the reshare (default: n-of-n)')
    .option('--nats [url]', 'run n `tessera start` processes over NATS (default: a local nats-server on a free port)')
    .option('--json', 'print one JSON document {"steps": [...]}', false)
    .action((opts: Record<string, string | boolean | undefined>) =>
      run(
        () =>
          dev({
            nodes: parseNat('--nodes', opts.nodes as string),
            threshold: parseNat('--threshold', opts.threshold as string),
            dir: opts.dir as string | undefined,
            json: opts.json === true,
            nats: opts.nats === undefined || opts.nats === false ? undefined : (opts.nats as string | true),
            reshareNodes:
              opts.reshareNodes === undefined ? undefined : parseNat('--reshare-nodes', opts.reshareNodes as string),
            reshareThreshold:
              opts.reshareThreshold === undefined
                ? undefined
                : parseNat('--reshare-threshold', opts.reshareThreshold as string),
          }),
        opts.json === true,
      ),
    );
}
