/**
 * `tessera wallet create | sign | reshare`: a client of a running cluster (Tessera's or mpcium's)
 * over NATS, through the SDK. Every signature is checked locally under the wallet's public key
 * (derived along the path with the cluster's chain code) before it is printed.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { KeyType } from '../api/index.js';
import {
  compressSecp256k1PublicKey,
  deriveChildPublicKey,
  ethereumAddress,
  SignatureInvalidError,
  type SignOutcome,
  solanaAddress,
  verifySignOutcome,
} from '../client/index.js';
import { InvalidArgumentError, InvalidStateError, IoError } from '../common/errors.js';
import { parseDerivationPath, parseHex, parseIdList, parseKeyType, parseNat, parseSeconds } from './args.js';
import { type ClientFlags, clientOptions, openClient } from './client-session.js';
import { EXIT, printJson } from './output.js';

type Runner = (fn: () => Promise<number | undefined>, json?: boolean) => Promise<void>;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface CommonFlags extends ClientFlags {
  timeout: string;
  json?: boolean;
}

/** A public key as printed: hex, and the compressed form and Ethereum address, or the Solana address. */
export function keyView(keyType: KeyType, publicKey: Uint8Array): Record<string, string> {
  if (keyType === 'secp256k1')
    return {
      public_key: hex(publicKey),
      compressed: hex(compressSecp256k1PublicKey(publicKey)),
      ethereum_address: ethereumAddress(publicKey),
    };
  return { public_key: hex(publicKey), solana_address: solanaAddress(publicKey) };
}

function keyLines(keyType: KeyType, v: Record<string, string>): string[] {
  if (keyType === 'secp256k1')
    return [
      `secp256k1  public key  ${v.public_key} (X‖Y)`,
      `           compressed  ${v.compressed}`,
      `           ethereum    ${v.ethereum_address}`,
    ];
  return [`ed25519    public key  ${v.public_key}`, `           solana      ${v.solana_address}`];
}

/** The options of every wallet command: keys, client id, NATS, timeout, JSON. Does not throw. */
function walletOptions(c: Command): Command {
  return clientOptions(c)
    .option('--timeout <seconds>', 'how long to wait for the result', '120')
    .option('--json', 'machine-readable output (one JSON object)');
}

/** The wallet key options of sign and reshare: where the public key to check against comes from. */
function publicKeyOptions(c: Command): Command {
  return c
    .option('--public-key <hex>', "the wallet's public key of this key type, as `wallet create` printed it")
    .option('--wallet-file <file>', 'the JSON that `wallet create --json` (or `wallet reshare --json`) printed');
}

interface KeyFlags {
  walletId?: string;
  publicKey?: string;
  walletFile?: string;
}

/**
 * The wallet id and the public key of `keyType` from `--wallet-id`, `--public-key` and
 * `--wallet-file`. Throws `InvalidArgumentError` if they contradict each other or are missing,
 * `IoError` for an unreadable file.
 */
export function walletKey(
  o: KeyFlags,
  keyType: KeyType,
  required: boolean,
): { walletId: string; publicKey?: Uint8Array } {
  let walletId = o.walletId;
  let fromFile: string | undefined;
  if (o.walletFile !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(o.walletFile, 'utf8'));
    } catch (e) {
      if (e instanceof SyntaxError) throw new InvalidArgumentError(`${o.walletFile} is not JSON (${e.message})`);
      throw new IoError(`reading the wallet file ${o.walletFile}`, e);
    }
    const d = (doc ?? {}) as Record<string, unknown>;
    const section = d[keyType] as Record<string, unknown> | undefined;
    const key =
      typeof section?.public_key === 'string' ? section.public_key : d.key_type === keyType ? d.public_key : undefined;
    if (typeof d.wallet_id !== 'string' || typeof key !== 'string')
      throw new InvalidArgumentError(
        `${o.walletFile} holds no wallet_id and ${keyType} public_key (write it with \`tessera wallet create --json\`)`,
      );
    if (walletId !== undefined && walletId !== d.wallet_id)
      throw new InvalidArgumentError(`--wallet-id ${walletId} is not the wallet ${d.wallet_id} of ${o.walletFile}`);
    walletId = d.wallet_id;
    fromFile = key;
  }
  if (walletId === undefined) throw new InvalidArgumentError('give --wallet-id (or --wallet-file)');
  if (o.publicKey !== undefined && fromFile !== undefined && o.publicKey.replace(/^0x/, '') !== fromFile)
    throw new InvalidArgumentError(`--public-key is not the ${keyType} key of ${o.walletFile}`);
  const text = o.publicKey ?? fromFile;
  if (text === undefined) {
    if (required)
      throw new InvalidArgumentError(
        `give the wallet's ${keyType} public key (--public-key HEX or --wallet-file F): the signature is checked under it before it is printed`,
      );
    return { walletId };
  }
  const publicKey = parseHex('--public-key', text);
  const ok = keyType === 'secp256k1' ? [33, 64, 65].includes(publicKey.length) : publicKey.length === 32;
  if (!ok)
    throw new InvalidArgumentError(
      keyType === 'secp256k1'
        ? 'a secp256k1 public key is 64 bytes X‖Y, 65 uncompressed or 33 compressed'
        : 'an ed25519 public key is 32 bytes',
    );
  if (keyType === 'secp256k1') compressSecp256k1PublicKey(publicKey); // on the curve
  return { walletId, publicKey };
}

/** The tx bytes of `--tx-hex` or `--tx-file`. Throws `InvalidArgumentError` unless exactly one is given, `IoError`. */
function txBytes(o: { txHex?: string; txFile?: string }, keyType: KeyType): Uint8Array {
  if ((o.txHex === undefined) === (o.txFile === undefined))
    throw new InvalidArgumentError('give --tx-hex or --tx-file');
  let tx: Uint8Array;
  if (o.txHex !== undefined) tx = parseHex('--tx-hex', o.txHex);
  else
    try {
      tx = readFileSync(o.txFile!);
    } catch (e) {
      throw new IoError(`reading the tx file ${o.txFile}`, e);
    }
  if (keyType === 'secp256k1' && tx.length !== 32)
    throw new InvalidArgumentError(
      `a secp256k1 tx is the 32-byte digest to sign (e.g. keccak256 of an Ethereum transaction); this one has ${tx.length} bytes`,
    );
  if (tx.length === 0) throw new InvalidArgumentError('the tx is empty');
  return tx;
}

/** The cluster's chain code: `--chain-code`, else the config file's. Throws `InvalidArgumentError` if neither. */
function chainCode(o: { chainCode?: string }, config: { chain_code: string } | undefined): Uint8Array {
  const text = o.chainCode ?? config?.chain_code;
  if (text === undefined)
    throw new InvalidArgumentError(
      "a derived signature is checked under the child key: give the cluster's chain code (--chain-code HEX or --config)",
    );
  const b = parseHex('--chain-code', text);
  if (b.length !== 32) throw new InvalidArgumentError('the chain code is 32 bytes (64 hex digits)');
  return b;
}

/** Registers `wallet` and its subcommands; `run` wraps each action with error handling. */
export function registerWalletCommands(program: Command, run: Runner): void {
  const wallet = program
    .command('wallet')
    .description("a cluster's client over NATS: create wallets, sign, reshare (mpcium's client protocol)");

  walletOptions(
    wallet
      .command('create')
      .description('create a wallet (a secp256k1 and an ed25519 key) and print both public keys')
      .option('--wallet-id <id>', 'the new wallet id (default: a fresh UUID)'),
  ).action((o: CommonFlags & { walletId?: string }) =>
    run(async () => {
      const timeoutMs = parseSeconds('--timeout', o.timeout);
      const s = await openClient(o, { resultTimeoutMs: timeoutMs });
      try {
        const t = performance.now();
        const w = await s.client.createWallet(o.walletId);
        const ms = performance.now() - t;
        const secp = keyView('secp256k1', w.ecdsaPublicKey);
        const ed = keyView('ed25519', w.eddsaPublicKey);
        if (o.json) printJson({ wallet_id: w.walletId, secp256k1: secp, ed25519: ed, elapsed_ms: round(ms) });
        else
          process.stdout.write(
            `${[`wallet     ${w.walletId} (${ms.toFixed(0)} ms)`, ...keyLines('secp256k1', secp), ...keyLines('ed25519', ed)].join('\n')}\n`,
          );
        return EXIT.ok;
      } finally {
        await s.close();
      }
    }, o.json),
  );

  publicKeyOptions(
    walletOptions(
      wallet
        .command('sign')
        .description('sign a tx, check the signature under the wallet key, print it')
        .option('--wallet-id <id>', 'the wallet (or --wallet-file)')
        .requiredOption('--key-type <type>', 'secp256k1 (ecdsa) or ed25519 (eddsa)')
        .option('--tx-hex <hex>', 'secp256k1: the 32-byte digest; ed25519: the message')
        .option('--tx-file <file>', 'the same as raw bytes from a file')
        .option('--tx-id <id>', 'the request id (default: a fresh UUID)')
        .option('--derivation-path <path>', 'sign with a child key: m/44/60/0/0/0 or 44,60,0,0,0 (non-hardened)')
        .option('--network-internal-code <code>', "passed through to the result (mpcium's network_internal_code)", '')
        .option('--chain-code <hex>', "the cluster's chain_code, to check a derived signature (or --config)"),
    ),
  ).action(
    (
      o: CommonFlags &
        KeyFlags & {
          keyType: string;
          txHex?: string;
          txFile?: string;
          txId?: string;
          derivationPath?: string;
          networkInternalCode: string;
          chainCode?: string;
        },
    ) =>
      run(async () => {
        const keyType = parseKeyType('--key-type', o.keyType);
        const timeoutMs = parseSeconds('--timeout', o.timeout);
        const { walletId, publicKey } = walletKey(o, keyType, true);
        const tx = txBytes(o, keyType);
        const path =
          o.derivationPath === undefined ? undefined : parseDerivationPath('--derivation-path', o.derivationPath);
        let key = publicKey!;
        const s = await openClient(o, {
          resultTimeoutMs: timeoutMs,
          // the key to check under, settled before connecting
          prepare: (config) => {
            if (path) key = deriveChildPublicKey(keyType, publicKey!, chainCode(o, config), path);
          },
        });
        try {
          const t = performance.now();
          const out: SignOutcome = await s.client.sign({
            walletId,
            keyType,
            tx,
            txId: o.txId,
            derivationPath: path,
            networkInternalCode: o.networkInternalCode,
          });
          const ms = performance.now() - t;
          if (!verifySignOutcome(out, key, tx))
            throw new SignatureInvalidError(
              walletId,
              out.txId,
              `${path ? 'the derived key' : 'the wallet key'} ${hex(key)}`,
            );
          const checkedKey = keyType === 'secp256k1' ? hex(compressSecp256k1PublicKey(key)) : hex(key);
          const head = {
            wallet_id: walletId,
            tx_id: out.txId,
            key_type: keyType,
            network_internal_code: out.networkInternalCode,
            derivation_path: path ?? null,
            public_key: checkedKey,
            tx: hex(tx),
            verified: true,
          };
          const sig =
            out.keyType === 'secp256k1'
              ? {
                  r: hex(out.r),
                  s: hex(out.s),
                  v: out.recoveryId,
                  signature: hex(Uint8Array.of(...out.r, ...out.s, out.recoveryId)),
                }
              : { signature: hex(out.signature) };
          if (o.json) printJson({ ...head, ...sig, elapsed_ms: round(ms) });
          else {
            const where = path ? ` at m/${path.join('/')}` : '';
            const lines = [
              `signed tx ${out.txId} with wallet ${walletId} (${keyType}${where}, ${ms.toFixed(0)} ms)`,
              `verified under ${checkedKey}`,
              ...('r' in sig
                ? [`r          ${sig.r}`, `s          ${sig.s}`, `v          ${sig.v}`, `r‖s‖v      ${sig.signature}`]
                : [`signature  ${sig.signature}`]),
            ];
            process.stdout.write(`${lines.join('\n')}\n`);
          }
          return EXIT.ok;
        } finally {
          await s.close();
        }
      }, o.json),
  );

  publicKeyOptions(
    walletOptions(
      wallet
        .command('reshare')
        .description("move a wallet key to a new committee and threshold (same public key); mpcium's mpc:reshare")
        .option('--wallet-id <id>', 'the wallet (or --wallet-file)')
        .requiredOption('--key-type <type>', 'secp256k1 (ecdsa) or ed25519 (eddsa)')
        .requiredOption('--node-ids <ids>', "the new committee's node ids, comma-separated (peers.json)")
        .requiredOption('--new-threshold <t>', 'the new t: t+1 of the new committee sign')
        .option('--session-id <id>', 'the request id (default: a fresh UUID)'),
    ),
  ).action(
    (o: CommonFlags & KeyFlags & { keyType: string; nodeIds: string; newThreshold: string; sessionId?: string }) =>
      run(async () => {
        const keyType = parseKeyType('--key-type', o.keyType);
        const timeoutMs = parseSeconds('--timeout', o.timeout);
        const newThreshold = parseNat('--new-threshold', o.newThreshold);
        const nodeIds = parseIdList('--node-ids', o.nodeIds);
        if (newThreshold < 1 || nodeIds.length < newThreshold + 1)
          throw new InvalidArgumentError(
            `--new-threshold t needs 1 ≤ t and at least t+1 --node-ids (got t=${newThreshold}, ${nodeIds.length} ids)`,
          );
        const { walletId, publicKey } = walletKey(o, keyType, false);
        const s = await openClient(o, { resultTimeoutMs: timeoutMs });
        try {
          const t = performance.now();
          const out = await s.client.reshare({ walletId, keyType, newThreshold, nodeIds, sessionId: o.sessionId });
          const ms = performance.now() - t;
          const same = (a: Uint8Array, b: Uint8Array) =>
            keyType === 'secp256k1'
              ? hex(compressSecp256k1PublicKey(a)) === hex(compressSecp256k1PublicKey(b))
              : hex(a) === hex(b);
          if (publicKey && !same(publicKey, out.publicKey))
            throw new InvalidStateError(
              `the reshared ${keyType} key ${hex(out.publicKey)} is not the wallet's ${hex(publicKey)}: a reshare keeps the public key; do not use this wallet until this is understood`,
            );
          const view = keyView(keyType, out.publicKey);
          if (o.json)
            printJson({
              wallet_id: walletId,
              session_id: out.sessionId,
              key_type: keyType,
              new_threshold: out.newThreshold,
              node_ids: nodeIds,
              ...view,
              elapsed_ms: round(ms),
            });
          else
            process.stdout.write(
              `${[
                `reshared ${keyType} of wallet ${walletId} to ${out.newThreshold + 1}-of-${nodeIds.length} (session ${out.sessionId}, ${ms.toFixed(0)} ms)`,
                ...keyLines(keyType, view),
              ].join('\n')}\n`,
            );
          return EXIT.ok;
        } finally {
          await s.close();
        }
      }, o.json),
  );
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
