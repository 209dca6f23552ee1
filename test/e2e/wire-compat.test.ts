/**
 * Wire compatibility with mpcium's clients, checked by a client written from the reference alone
 * (test/helpers/wire-client.ts: raw nats.js, hand-built Go JSON, node:crypto Ed25519) against a
 * real cluster (nats-server + three `tessera start` processes): requests in the Go client's shape
 * (literal wildcard subjects, `ClientID`, scoped result consumers) and in the TS client's shape
 * (per-id subjects, `JSON.stringify`, unscoped consumers), results decoded byte for byte as the
 * reference specifies, every signature verified with node:crypto (Ed25519) and noble (secp256k1).
 */
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsCluster } from '../helpers/nats-cluster.js';
import {
  b64,
  b64Field,
  type GoValue,
  goConsumer,
  goMarshal,
  Initiator,
  loadSeed,
  RESULT_FIELDS,
  type Result,
  tsConsumer,
  WireClient,
} from '../helpers/wire-client.js';

const CID = 'go-svc';
const goKeygen = goConsumer('keygen', CID);
const goSigning = goConsumer('signing', CID);
const goReshare = goConsumer('reshare', CID);
const tsKeygen = tsConsumer('keygen');
const tsSigning = tsConsumer('signing');
const tsReshare = tsConsumer('reshare');

const hex = (n: number) => randomBytes(n).toString('hex');
const big = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);
const fields = (...f: [string, GoValue][]): GoValue => ({ fields: f });

function ed25519Key(raw: Uint8Array) {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
}

/** Checks an ECDSA result's r, s, recovery against the 64-byte X‖Y key and the digest. */
function checkEcdsa(r: Result, digest: Uint8Array, xy: Uint8Array): void {
  const rr = b64Field(r.json.r, 32);
  const ss = b64Field(r.json.s, 32);
  const rec = b64Field(r.json.signature_recovery, 1)[0]!;
  expect(r.json.signature).toBeNull();
  expect(rec).toBeLessThanOrEqual(3);
  expect(big(ss) <= secp256k1.Point.CURVE().n / 2n).toBe(true); // low-S
  expect(
    secp256k1.verify(new Uint8Array([...rr, ...ss]), digest, Uint8Array.of(4, ...xy), { prehash: false, lowS: true }),
  ).toBe(true);
  const recovered = new secp256k1.Signature(big(rr), big(ss)).addRecoveryBit(rec).recoverPublicKey(digest);
  expect(Buffer.from(recovered.toBytes(false)).subarray(1)).toEqual(Buffer.from(xy));
}

/** Checks an EdDSA result's signature over `msg` under the 32-byte key (node:crypto). */
function checkEddsa(r: Result, msg: Uint8Array, key: Uint8Array): void {
  const sig = b64Field(r.json.signature, 64);
  expect([r.json.r, r.json.s, r.json.signature_recovery]).toEqual([null, null, null]);
  expect(verify(null, msg, ed25519Key(key), sig)).toBe(true);
}

/** The success event as Go marshals it: byte-exact comparison of the whole message. */
function goSigningSuccess(r: Result, f: { nic: string; walletId: string; txId: string }): string {
  return goMarshal(
    fields(
      ['result_type', 'success'],
      ['error_code', ''],
      ['error_reason', ''],
      ['is_timeout', false],
      ['network_internal_code', f.nic],
      ['wallet_id', f.walletId],
      ['tx_id', f.txId],
      ['r', r.json.r as string | null],
      ['s', r.json.s as string | null],
      ['signature_recovery', r.json.signature_recovery as string | null],
      ['signature', r.json.signature as string | null],
    ),
  );
}

describe('a client written from the reference alone, against three node processes', () => {
  let cluster: NatsCluster;
  let wc: WireClient;
  let init: Initiator;
  /** Every result read in this file: each must carry a Nats-Msg-Id. */
  const seen: Result[] = [];
  const wallet: { id: string; ecdsa: Uint8Array; eddsa: Uint8Array } = {
    id: `w-${hex(4)}`,
    ecdsa: new Uint8Array(),
    eddsa: new Uint8Array(),
  };
  const tsWallet = `ts-${hex(4)}`;

  const read = async (durable: string, match: (r: Result) => boolean) => {
    const r = await wc.result(durable, match);
    seen.push(r);
    expect(r.msgId).not.toBe('');
    return r;
  };

  beforeAll(async () => {
    cluster = await NatsCluster.start({ nodes: 3, threshold: 1 });
    init = new Initiator(loadSeed(cluster.files.initiatorKeyFile));
    expect(init.publicKeyHex).toBe(cluster.files.initiatorPublicKey);
    wc = await WireClient.connect(cluster.server.url);
    // the result consumers exist before any request (Go: NewMessageQueue; TS: its result handlers)
    for (const c of [goKeygen, goSigning, goReshare, tsKeygen, tsSigning, tsReshare]) await wc.resultConsumer(c);
  }, 120_000);

  afterAll(async () => {
    await wc?.close();
    await cluster?.stop();
  });

  it('consumer names and filters are mpcium’s (sanitised client id)', () => {
    expect(goKeygen).toEqual({ durable: 'mpc_keygen_result_go_svc', filter: 'mpc.mpc_keygen_result.go-svc.*' });
    expect(goSigning).toEqual({
      durable: 'mpc_signing_result_go_svc',
      filter: 'mpc.mpc_signing_result.go-svc.complete',
    });
    expect(goReshare).toEqual({ durable: 'mpc_reshare_result_go_svc', filter: 'mpc.mpc_reshare_result.go-svc.*' });
    expect(tsSigning).toEqual({ durable: 'mpc_signing_result', filter: 'mpc.mpc_signing_result.*' });
  });

  it('keygen published to the literal Go subject mpc.keygen_request.* with a ClientID: the scoped result, byte for byte as Go marshals it', async () => {
    await wc.publish('mpc.keygen_request.*', init.keygenGo(wallet.id), CID);
    const r = await read(goKeygen.durable, (x) => x.json.wallet_id === wallet.id);
    expect(r.subject).toBe(`mpc.mpc_keygen_result.${CID}.${wallet.id}`);
    expect(Object.keys(r.json)).toEqual(RESULT_FIELDS.keygen);
    expect(r.json.result_type).toBe('success');
    wallet.ecdsa = b64Field(r.json.ecdsa_pub_key, 64);
    wallet.eddsa = b64Field(r.json.eddsa_pub_key, 32);
    expect(() => secp256k1.Point.fromBytes(Uint8Array.of(4, ...wallet.ecdsa))).not.toThrow();
    expect(() => ed25519Key(wallet.eddsa)).not.toThrow();
    expect(r.text).toBe(
      goMarshal(
        fields(
          ['wallet_id', wallet.id],
          ['ecdsa_pub_key', b64(wallet.ecdsa)],
          ['eddsa_pub_key', b64(wallet.eddsa)],
          ['result_type', 'success'],
          ['error_reason', ''],
          ['error_code', ''],
        ),
      ),
    );
  });

  it('keygen in the TS client’s shape (mpc.keygen_request.<walletId>, JSON.stringify, no ClientID): the unscoped result', async () => {
    await wc.publish(`mpc.keygen_request.${tsWallet}`, init.keygenTs(tsWallet));
    const r = await read(tsKeygen.durable, (x) => x.json.wallet_id === tsWallet);
    expect(r.subject).toBe(`mpc.mpc_keygen_result.${tsWallet}`);
    expect(Object.keys(r.json)).toEqual(RESULT_FIELDS.keygen);
    expect(r.json.result_type).toBe('success');
    b64Field(r.json.ecdsa_pub_key, 64);
    b64Field(r.json.eddsa_pub_key, 32);
  });

  it('Go-shaped signing requests on the literal subject mpc.signing_request.*, both curves: scoped results whose signatures verify', async () => {
    const digest = createHash('sha256')
      .update(`go ecdsa ${hex(4)}`)
      .digest();
    const ecdsaTx = `tx-e-${hex(4)}`;
    const msg = Buffer.from(`a solana message ${hex(8)}`);
    const eddsaTx = `tx-d-${hex(4)}`;
    const nic = 'solana:devnet';
    await wc.publish(
      'mpc.signing_request.*',
      init.signGo({
        keyType: 'secp256k1',
        walletId: wallet.id,
        networkInternalCode: 'eth:1',
        txId: ecdsaTx,
        tx: digest,
      }),
      CID,
    );
    await wc.publish(
      'mpc.signing_request.*',
      init.signGo({ keyType: 'ed25519', walletId: wallet.id, networkInternalCode: nic, txId: eddsaTx, tx: msg }),
      CID,
    );
    const e = await read(goSigning.durable, (x) => x.json.tx_id === ecdsaTx);
    expect(e.subject).toBe(`mpc.mpc_signing_result.${CID}.complete`);
    expect(Object.keys(e.json)).toEqual(RESULT_FIELDS.signing);
    expect(e.json.result_type).toBe('success');
    checkEcdsa(e, digest, wallet.ecdsa);
    expect(e.text).toBe(goSigningSuccess(e, { nic: 'eth:1', walletId: wallet.id, txId: ecdsaTx }));
    const d = await read(goSigning.durable, (x) => x.json.tx_id === eddsaTx);
    expect(d.subject).toBe(`mpc.mpc_signing_result.${CID}.complete`);
    expect(d.json.result_type).toBe('success');
    checkEddsa(d, msg, wallet.eddsa);
    expect(d.text).toBe(goSigningSuccess(d, { nic, walletId: wallet.id, txId: eddsaTx }));
  });

  it('TS-shaped signing requests (mpc.signing_request.<txId>, JSON.stringify, no derivation_path, no ClientID), both curves: unscoped results', async () => {
    const digest = randomBytes(32);
    const ecdsaTx = `ts-e-${hex(4)}`;
    const eddsaTx = `ts-d-${hex(4)}`;
    const msg = randomBytes(100);
    await wc.publish(
      `mpc.signing_request.${ecdsaTx}`,
      init.signTs({ keyType: 'secp256k1', walletId: wallet.id, networkInternalCode: '1', txId: ecdsaTx, tx: digest }),
    );
    await wc.publish(
      `mpc.signing_request.${eddsaTx}`,
      init.signTs({ keyType: 'ed25519', walletId: wallet.id, networkInternalCode: '', txId: eddsaTx, tx: msg }),
    );
    const e = await read(tsSigning.durable, (x) => x.json.tx_id === ecdsaTx);
    expect(e.subject).toBe('mpc.mpc_signing_result.complete');
    expect(e.json.result_type).toBe('success');
    checkEcdsa(e, digest, wallet.ecdsa);
    const d = await read(tsSigning.durable, (x) => x.json.tx_id === eddsaTx);
    expect(d.subject).toBe('mpc.mpc_signing_result.complete');
    checkEddsa(d, msg, wallet.eddsa);
  });

  it('a request whose signed strings hold < > & and U+2028/9 verifies over Go-escaped bytes; its result escapes them as Go does', async () => {
    const nic = '<b>"fees" & tips</b>\u2028next\u2029 ünïcode 🙂 \\ /';
    // ids may hold < and & (not > . * whitespace or JSON structure characters)
    const txId = `tx<&${hex(4)}`;
    const tx = Buffer.from(`escaped ${hex(8)}`);
    const f = { keyType: 'ed25519' as const, walletId: wallet.id, networkInternalCode: nic, txId, tx };
    // the signed bytes do differ from JSON.stringify's
    expect(Buffer.from(init.signGo(f)).toString()).toContain('\\u003cb\\u003e\\"fees\\" \\u0026 tips');
    await wc.publish('mpc.signing_request.*', init.signGo(f), CID);
    const r = await read(goSigning.durable, (x) => x.json.tx_id === txId);
    expect(r.json.result_type).toBe('success');
    expect(r.json.network_internal_code).toBe(nic);
    checkEddsa(r, tx, wallet.eddsa);
    expect(r.text).toContain('\\u003cb\\u003e\\"fees\\" \\u0026 tips\\u003c/b\\u003e\\u2028next\\u2029');
    expect(r.text).toContain(`"tx_id":"tx\\u003c\\u0026`);
    expect(r.text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(r.text).toBe(goSigningSuccess(r, { nic, walletId: wallet.id, txId }));

    // signed over JSON.stringify's bytes instead (the TS client's way): not the initiator's signature
    const txId2 = `tx<&${hex(4)}`;
    const g = { ...f, txId: txId2 };
    const jsSigned = Buffer.from(
      JSON.stringify({
        key_type: g.keyType,
        wallet_id: g.walletId,
        network_internal_code: g.networkInternalCode,
        tx_id: g.txId,
        tx: b64(g.tx),
      }),
    );
    await wc.publish('mpc.signing_request.*', init.signGo(g, { signature: init.sign(jsSigned) }), CID);
    const bad = await read(goSigning.durable, (x) => x.json.tx_id === txId2);
    expect(Object.keys(bad.json)).toEqual(RESULT_FIELDS.signing);
    expect(bad.json).toMatchObject({
      result_type: 'error',
      error_code: 'ERROR_INVALID_INITIATOR_SIGNATURE',
      is_timeout: false,
      network_internal_code: nic,
      wallet_id: wallet.id,
      r: null,
      s: null,
      signature_recovery: null,
      signature: null,
    });
  });

  it('signing with an unknown wallet: an error event in Go’s field order with null values and ERROR_KEY_NOT_FOUND', async () => {
    const txId = `nf-${hex(4)}`;
    await wc.publish(
      'mpc.signing_request.*',
      init.signGo({
        keyType: 'secp256k1',
        walletId: 'no-such-wallet',
        networkInternalCode: 'x',
        txId,
        tx: randomBytes(32),
      }),
      CID,
    );
    const r = await read(goSigning.durable, (x) => x.json.tx_id === txId);
    expect(Object.keys(r.json)).toEqual(RESULT_FIELDS.signing);
    expect(r.json).toMatchObject({
      result_type: 'error',
      error_code: 'ERROR_KEY_NOT_FOUND',
      is_timeout: false,
      wallet_id: 'no-such-wallet',
      r: null,
      s: null,
      signature_recovery: null,
      signature: null,
    });
    expect(typeof r.json.error_reason).toBe('string');
    expect(r.json.error_reason).not.toBe('');
  });

  it('reshare over core NATS mpc:reshare (Go shape with ClientID, then unscoped): the key is kept and signatures still verify', async () => {
    const ids = Object.values(cluster.files.peers);
    const sid = `rs-${hex(6)}`;
    await wc.publishCore(
      'mpc:reshare',
      init.reshareGo({ sessionId: sid, nodeIds: ids, newThreshold: 2, keyType: 'ed25519', walletId: wallet.id }),
      CID,
    );
    const r = await read(goReshare.durable, (x) => x.subject.endsWith(`.${sid}`));
    expect(r.subject).toBe(`mpc.mpc_reshare_result.${CID}.${sid}`);
    expect(Object.keys(r.json)).toEqual(RESULT_FIELDS.reshare);
    expect(r.text).toBe(
      goMarshal(
        fields(
          ['wallet_id', wallet.id],
          ['new_threshold', 2],
          ['key_type', 'ed25519'],
          ['pub_key', b64(wallet.eddsa)],
          ['result_type', 'success'],
          ['error_reason', ''],
          ['error_code', ''],
        ),
      ),
    );
    const msg = randomBytes(48);
    const txId = `after-rs-${hex(4)}`;
    await wc.publish(
      'mpc.signing_request.*',
      init.signGo({ keyType: 'ed25519', walletId: wallet.id, networkInternalCode: '', txId, tx: msg }),
      CID,
    );
    checkEddsa(await read(goSigning.durable, (x) => x.json.tx_id === txId), msg, wallet.eddsa);

    const sid2 = `rs-${hex(6)}`;
    await wc.publishCore(
      'mpc:reshare',
      init.reshareGo({
        sessionId: sid2,
        nodeIds: ids.slice(1),
        newThreshold: 1,
        keyType: 'secp256k1',
        walletId: wallet.id,
      }),
    );
    const s = await read(tsReshare.durable, (x) => x.subject.endsWith(`.${sid2}`));
    expect(s.subject).toBe(`mpc.mpc_reshare_result.${sid2}`);
    expect(s.json).toMatchObject({ result_type: 'success', key_type: 'secp256k1', new_threshold: 1 });
    expect(Buffer.from(b64Field(s.json.pub_key, 64))).toEqual(Buffer.from(wallet.ecdsa));
    const digest = randomBytes(32);
    const txId2 = `after-rs-${hex(4)}`;
    await wc.publish(
      `mpc.signing_request.${txId2}`,
      init.signTs({ keyType: 'secp256k1', walletId: wallet.id, networkInternalCode: '', txId: txId2, tx: digest }),
    );
    checkEcdsa(await read(tsSigning.durable, (x) => x.json.tx_id === txId2), digest, wallet.ecdsa);
  }, 180_000);

  it('every result read carried a Nats-Msg-Id header', () => {
    expect(seen.length).toBeGreaterThanOrEqual(12);
    expect(seen.filter((r) => r.msgId === '')).toEqual([]);
  });
});
