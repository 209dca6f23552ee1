/**
 * `tessera wallet create | sign | reshare` as a child process against three daemons over a real
 * nats-server (authorization on: every request carries the p256 authorizer `ops`). Every
 * signature the CLI prints is checked again here with noble.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { HDKey } from '@scure/bip32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveChildPublicKey } from '../../src/client/index.js';
import { connectNats } from '../../src/transport/index.js';
import { type NatsDaemonCluster as Cluster, NatsDaemonCluster, runTessera } from '../helpers/nats-daemons.js';
import { freePort, startNatsServer } from '../helpers/nats-server.js';

const unhex = (s: unknown) => Uint8Array.from(Buffer.from(s as string, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
type Doc = Record<string, unknown> & { secp256k1: Record<string, string>; ed25519: Record<string, string> };

let c: Cluster;
let wallet: Doc;
let walletFile: string;

beforeAll(async () => {
  c = await NatsDaemonCluster.start({ requireAuthorizer: true });
}, 60_000);
afterAll(async () => {
  await c?.stop();
});

/** The client's keys and the cluster's config.yaml (its nats: section and chain_code). */
const client = () => ['--initiator-key', c.initiatorKeyFile, '--authorizer', `ops=${c.authorizerKeyFile}`];
const cli = (args: string[]) => runTessera([...args, ...client(), '--config', c.configFile]);

/** Checks an ECDSA signature document under `pub` (33/65 bytes) with noble: low-S, r‖s‖v, v recovers the key. */
function checkEcdsa(doc: Record<string, unknown>, digest: Uint8Array, pub: Uint8Array): void {
  const rs = Uint8Array.of(...unhex(doc.r), ...unhex(doc.s));
  expect(secp256k1.verify(rs, digest, pub, { prehash: false, lowS: true, format: 'compact' })).toBe(true);
  expect(doc.signature).toBe(`${doc.r}${doc.s}0${doc.v}`);
  const rec = secp256k1.Signature.fromBytes(rs, 'compact')
    .addRecoveryBit(doc.v as number)
    .recoverPublicKey(digest);
  expect(hex(rec.toBytes(true))).toBe(hex(secp256k1.Point.fromBytes(pub).toBytes(true)));
}

describe('tessera wallet over NATS', () => {
  it('create --json prints both public keys: 64-byte X‖Y, compressed and the Ethereum address; 32-byte Ed25519 and its Solana address', async () => {
    const r = await cli(['wallet', 'create', '--json']);
    expect(r.code, r.err).toBe(0);
    wallet = JSON.parse(r.out) as Doc;
    walletFile = join(c.dir, 'wallet.json');
    writeFileSync(walletFile, r.out);
    const xy = unhex(wallet.secp256k1.public_key);
    expect(xy.length).toBe(64);
    const point = secp256k1.Point.fromBytes(Uint8Array.of(4, ...xy));
    expect(wallet.secp256k1.compressed).toBe(hex(point.toBytes(true)));
    expect(wallet.secp256k1.ethereum_address!.toLowerCase()).toBe(`0x${hex(keccak_256(xy).subarray(12))}`);
    expect(unhex(wallet.ed25519.public_key).length).toBe(32);
    expect(wallet.ed25519.solana_address).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(typeof wallet.wallet_id).toBe('string');
  });

  it('create without --config and --initiator-key: NATS_URL and ./event_initiator.key; --wallet-id is kept; text output', async () => {
    const r = await runTessera(
      ['wallet', 'create', '--wallet-id', 'cli-text-wallet', '--authorizer', `ops=${c.authorizerKeyFile}`],
      {
        cwd: c.dir,
        env: { NATS_URL: c.server.url },
      },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^wallet {5}cli-text-wallet /);
    expect(r.out).toMatch(/ethereum {4}0x[0-9a-fA-F]{40}\n/);
    expect(r.out).toMatch(/solana {6}[1-9A-HJ-NP-Za-km-z]{32,44}\n/);
  });

  it('sign on both curves: the printed signatures verify (noble) under the wallet keys; --wallet-file and --tx-file', async () => {
    const digest = keccak_256(new TextEncoder().encode('tessera wallet sign: transfer 1 ETH'));
    const e = await cli([
      'wallet',
      'sign',
      '--wallet-file',
      walletFile,
      '--key-type',
      'secp256k1',
      '--tx-hex',
      hex(digest),
      '--json',
    ]);
    expect(e.code, e.err).toBe(0);
    const ecdsa = JSON.parse(e.out) as Record<string, unknown>;
    expect(ecdsa).toMatchObject({
      wallet_id: wallet.wallet_id,
      key_type: 'secp256k1',
      verified: true,
      derivation_path: null,
    });
    expect(ecdsa.public_key).toBe(wallet.secp256k1.compressed);
    checkEcdsa(ecdsa, digest, unhex(wallet.secp256k1.compressed));

    const message = Uint8Array.of(1, 0, 1, 3, ...keccak_256(Uint8Array.of(7)));
    const file = join(c.dir, 'message.bin');
    writeFileSync(file, message);
    const d = await cli([
      'wallet',
      'sign',
      '--wallet-id',
      wallet.wallet_id as string,
      '--public-key',
      wallet.ed25519.public_key!,
      '--key-type',
      'eddsa',
      '--tx-file',
      file,
      '--network-internal-code',
      'solana-devnet',
      '--json',
    ]);
    expect(d.code, d.err).toBe(0);
    const eddsa = JSON.parse(d.out) as Record<string, unknown>;
    expect(eddsa).toMatchObject({ key_type: 'ed25519', network_internal_code: 'solana-devnet', verified: true });
    expect(unhex(eddsa.signature).length).toBe(64);
    expect(ed25519.verify(unhex(eddsa.signature), message, unhex(wallet.ed25519.public_key))).toBe(true);
  });

  it('derived paths: m/44/60/0/0/0 signs under the BIP32 child (checked with @scure/bip32), 44,501,0,0 under the Ed25519 child', async () => {
    const chainCode = unhex(c.chainCode);
    const digest = keccak_256(Uint8Array.of(1, 2, 3));
    const e = await cli([
      'wallet',
      'sign',
      '--wallet-file',
      walletFile,
      '--key-type',
      'secp256k1',
      '--tx-hex',
      `0x${hex(digest)}`,
      '--derivation-path',
      'm/44/60/0/0/0',
      '--json',
    ]);
    expect(e.code, e.err).toBe(0);
    const ecdsa = JSON.parse(e.out) as Record<string, unknown>;
    const child = new HDKey({ publicKey: unhex(wallet.secp256k1.compressed), chainCode }).derive('m/44/60/0/0/0');
    expect(ecdsa.derivation_path).toEqual([44, 60, 0, 0, 0]);
    expect(ecdsa.public_key).toBe(hex(child.publicKey!));
    checkEcdsa(ecdsa, digest, child.publicKey!);

    const message = Uint8Array.of(9, 8, 7);
    const d = await cli([
      'wallet',
      'sign',
      '--wallet-file',
      walletFile,
      '--key-type',
      'ed25519',
      '--tx-hex',
      hex(message),
      '--derivation-path',
      '44,501,0,0',
      '--json',
    ]);
    expect(d.code, d.err).toBe(0);
    const eddsa = JSON.parse(d.out) as Record<string, unknown>;
    const edChild = deriveChildPublicKey('ed25519', unhex(wallet.ed25519.public_key), chainCode, [44, 501, 0, 0]);
    expect(eddsa.public_key).toBe(hex(edChild));
    expect(ed25519.verify(unhex(eddsa.signature), message, edChild)).toBe(true);

    // without the chain code (no --config, no --chain-code) the CLI refuses before connecting
    const refused = await runTessera([
      'wallet',
      'sign',
      '--wallet-file',
      walletFile,
      '--key-type',
      'ed25519',
      '--tx-hex',
      '01',
      '--derivation-path',
      'm/0',
      '--nats-url',
      c.server.url,
      ...client(),
      '--json',
    ]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.err).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(refused.err).toMatch(/chain code/);
    // a hardened index is refused up front
    const hardened = await cli([
      'wallet',
      'sign',
      '--wallet-file',
      walletFile,
      '--key-type',
      'secp256k1',
      '--tx-hex',
      hex(digest),
      '--derivation-path',
      "m/44'/60",
    ]);
    expect(hardened.code).toBe(1);
    expect(hardened.err).toMatch(/hardened/);
  });

  it('reshare to 3-of-3 keeps the public key, and the wallet signs after it', async () => {
    const r = await cli([
      'wallet',
      'reshare',
      '--wallet-file',
      walletFile,
      '--key-type',
      'secp256k1',
      '--node-ids',
      c.nodeIds.join(','),
      '--new-threshold',
      '2',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as Record<string, unknown>;
    expect(doc).toMatchObject({
      wallet_id: wallet.wallet_id,
      key_type: 'secp256k1',
      new_threshold: 2,
      node_ids: c.nodeIds,
      public_key: wallet.secp256k1.public_key,
      ethereum_address: wallet.secp256k1.ethereum_address,
    });
    const digest = keccak_256(Uint8Array.of(4, 5, 6));
    const s = await cli([
      'wallet',
      'sign',
      '--wallet-file',
      walletFile,
      '--key-type',
      'secp256k1',
      '--tx-hex',
      hex(digest),
      '--json',
    ]);
    expect(s.code, s.err).toBe(0);
    checkEcdsa(JSON.parse(s.out), digest, unhex(wallet.secp256k1.compressed));
  });

  it("an error result exits 5 with mpcium's code: an unknown wallet (ERROR_KEY_NOT_FOUND), a missing authorizer", async () => {
    const args = [
      'wallet',
      'sign',
      '--wallet-id',
      'no-such-wallet',
      '--public-key',
      wallet.ed25519.public_key!,
      '--key-type',
      'ed25519',
      '--tx-hex',
      'aa55',
    ];
    const j = await cli([...args, '--json']);
    expect(j.code).toBe(5);
    expect(j.out).toBe('');
    const err = JSON.parse(j.err).error;
    expect(err).toMatchObject({ code: 'OPERATION_FAILED', operation: 'signing', mpcium_code: 'ERROR_KEY_NOT_FOUND' });
    expect(err.reason).toMatch(/no-such-wallet/);
    const t = await cli(args);
    expect(t.code).toBe(5);
    expect(t.err).toMatch(/^tessera: signing \S+ failed with ERROR_KEY_NOT_FOUND: /);

    const noAuthorizer = await runTessera([
      'wallet',
      'create',
      '--initiator-key',
      c.initiatorKeyFile,
      '--config',
      c.configFile,
      '--json',
    ]);
    expect(noAuthorizer.code).toBe(5);
    expect(JSON.parse(noAuthorizer.err).error.mpcium_code).toBe('ERROR_MISSING_AUTHORIZER_SIGNATURE');
  });

  it("--client-id routes the results to the client's own subjects and durable consumers", async () => {
    const nc = await connectNats({ url: c.server.url });
    const subjects: string[] = [];
    const sub = nc.subscribe('mpc.>', {
      callback: (_e, m) => {
        subjects.push(m.subject);
      },
    });
    try {
      const r = await cli(['wallet', 'create', '--wallet-id', 'cid-wallet', '--client-id', 'svc-a', '--json']);
      expect(r.code, r.err).toBe(0);
      const doc = JSON.parse(r.out) as Doc;
      const s = await cli([
        'wallet',
        'sign',
        '--wallet-id',
        'cid-wallet',
        '--public-key',
        doc.ed25519.public_key!,
        '--key-type',
        'ed25519',
        '--tx-hex',
        '0102',
        '--tx-id',
        'cid-tx',
        '--client-id',
        'svc-a',
        '--json',
      ]);
      expect(s.code, s.err).toBe(0);
      await nc.flush();
      expect(subjects).toContain('mpc.mpc_keygen_result.svc-a.cid-wallet');
      expect(subjects).toContain('mpc.mpc_signing_result.svc-a.complete');
      expect(subjects).not.toContain('mpc.mpc_keygen_result.cid-wallet');
      expect(subjects).not.toContain('mpc.mpc_signing_result.complete');
      const jsm = await jetstreamManager(nc);
      for (const op of ['keygen', 'signing', 'reshare']) {
        const info = await jsm.consumers.info('mpc', `mpc_${op}_result_svc_a`);
        expect(info.config.filter_subject).toMatch(new RegExp(`^mpc\\.mpc_${op}_result\\.svc-a\\.`));
      }
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });

  it('an age-encrypted initiator key opens with --passphrase-file; a wrong passphrase exits 2; none off a terminal is a clear error', async () => {
    const base = [
      'wallet',
      'create',
      '--config',
      c.configFile,
      '--authorizer',
      `ops=${c.authorizerKeyFile}`,
      '--initiator-key',
      c.initiatorAgeFile,
      '--json',
    ];
    const ok = await runTessera([...base, '--passphrase-file', c.passphraseFile]);
    expect(ok.code, ok.err).toBe(0);
    expect(unhex((JSON.parse(ok.out) as Doc).ed25519.public_key).length).toBe(32);

    const wrongFile = join(c.dir, 'wrong-passphrase');
    writeFileSync(wrongFile, 'not the passphrase\n');
    const wrong = await runTessera([...base, '--passphrase-file', wrongFile]);
    expect(wrong.code).toBe(2);
    expect(JSON.parse(wrong.err).error.code).toBe('WRONG_PASSWORD');

    const none = await runTessera(base);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.err).error.message).toMatch(/age-encrypted: give --passphrase-file/);
  });

  it('an unreachable NATS server is a typed error naming what to check', async () => {
    const port = await freePort();
    const r = await runTessera(['wallet', 'create', '--nats-url', `nats://127.0.0.1:${port}`, ...client(), '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.err).error;
    expect(err.code).toBe('IO_ERROR');
    expect(err.message).toMatch(/cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+/);
  });

  it('a signature that does not verify under the given key exits 7 and is not printed; no result in time exits 6', async () => {
    const other = hex(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const bad = await cli([
      'wallet',
      'sign',
      '--wallet-id',
      wallet.wallet_id as string,
      '--public-key',
      other,
      '--key-type',
      'ed25519',
      '--tx-hex',
      '0a0b',
      '--json',
    ]);
    expect(bad.code).toBe(7);
    expect(bad.out).toBe('');
    const err = JSON.parse(bad.err).error;
    expect(err.code).toBe('SIGNATURE_INVALID');
    expect(err.message).toContain(other);

    // a NATS server no node serves: the request waits in the stream until the timeout
    const empty = await startNatsServer();
    try {
      const t = await runTessera([
        'wallet',
        'create',
        '--nats-url',
        empty.url,
        '--timeout',
        '1',
        ...client(),
        '--json',
      ]);
      expect(t.code).toBe(6);
      expect(JSON.parse(t.err).error).toMatchObject({ code: 'TIMEOUT' });
      expect(JSON.parse(t.err).error.message).toMatch(/got no answer within 1000 ms/);
    } finally {
      await empty.stop();
    }
  });
});
