/**
 * Malformed and oversized input on every subject a node listens to — keygen and signing requests
 * (JetStream), reshare requests (core NATS `mpc:reshare`), the node-to-node channel subjects
 * (`tessera.node.<id>.hs|msg|rekey`), the readiness bucket (`tessera-ready`) and the peers bucket
 * (`mpc-peers`) — against three real node processes. Each request gets one error result with
 * mpcium's code where the reference says so (a parse failure is ERROR_UNMARSHAL_FAILURE) or is
 * dropped with a log line; no node ever exits, every node stays ready, and the cluster still signs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { join } from 'node:path';
import { type KV, Kvm } from '@nats-io/kv';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, NatsCluster, type NodeProcess } from '../helpers/nats-cluster.js';
import {
  b64,
  b64Field,
  goConsumer,
  goMarshal,
  Initiator,
  loadSeed,
  RESULT_FIELDS,
  type SignFields,
  signRaw,
  tsConsumer,
  WireClient,
} from '../helpers/wire-client.js';

const CID = 'fz';
const goKeygen = goConsumer('keygen', CID);
const goSigning = goConsumer('signing', CID);
const goReshare = goConsumer('reshare', CID);
const tsSigning = tsConsumer('signing');

const hex = (n: number) => randomBytes(n).toString('hex');
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const utf8 = (s: string) => new Uint8Array(Buffer.from(s));
const json = (v: unknown) => utf8(JSON.stringify(v));
/**
 * The documented message id of an error result for a request that failed before authentication
 * (docs/node.md): the request's client id (when valid) and the SHA-256 of its bytes.
 */
const unauthenticatedId = (op: 'keygen' | 'signing' | 'reshare', data: Uint8Array, clientId?: string) =>
  `mpc.mpc_${op}_result.unauthenticated:${clientId ? `${clientId}:` : ''}${sha256hex(data)}`;

/** u32 length prefix ‖ bytes (the node wire's canonical codec, docs/node.md "Channels"). */
const lp = (b: Uint8Array) => {
  const out = Buffer.alloc(4 + b.length);
  out.writeUInt32BE(b.length);
  out.set(b, 4);
  return out;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Waits until `f()` holds, polling; throws `what` on timeout (generous: the machine is shared). */
async function until(what: string, f: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Case {
  readonly name: string;
  readonly data: Uint8Array;
  readonly code: string;
  /** Request header ClientID (default CID). */
  readonly clientId?: string;
}

describe('malformed and oversized input on every subject a node listens to', () => {
  let cluster: NatsCluster;
  let wc: WireClient;
  let init: Initiator;
  const wallet = { id: `w-${hex(4)}`, ecdsa: new Uint8Array(0), eddsa: new Uint8Array(0) } as {
    id: string;
    ecdsa: Uint8Array;
    eddsa: Uint8Array;
  };
  let pids: (number | undefined)[] = [];
  /**
   * Hashes of the unauthenticated requests sent so far: an error result's message id derives
   * from the request bytes, so the same bytes sent again within JetStream's duplicate window
   * (2 min) get no second result.
   */
  const sent = new Set<string>();

  /** Every node process is the one started first (none exited), and every one reports ready. */
  async function healthy(): Promise<void> {
    for (const p of cluster.procs) expect(p?.proc.exitCode, p?.lines.slice(-20).join('\n')).toBeNull();
    expect(cluster.procs.map((p) => p?.proc.pid)).toEqual(pids);
    await cluster.ready();
  }

  /** Keygen is not needed again: a signature per curve under the wallet, verified with noble. */
  async function stillSigns(): Promise<void> {
    const digest = randomBytes(32);
    const msg = randomBytes(50);
    const txE = `ok-e-${hex(4)}`;
    const txD = `ok-d-${hex(4)}`;
    const f = (keyType: 'secp256k1' | 'ed25519', txId: string, tx: Uint8Array): SignFields => ({
      keyType,
      walletId: wallet.id,
      networkInternalCode: '',
      txId,
      tx,
    });
    await wc.publish('mpc.signing_request.*', init.signGo(f('secp256k1', txE, digest)), CID);
    await wc.publish('mpc.signing_request.*', init.signGo(f('ed25519', txD, msg)), CID);
    const e = await wc.result(goSigning.durable, (r) => r.json.tx_id === txE);
    expect(e.json.result_type, e.text).toBe('success');
    const rs = new Uint8Array([...b64Field(e.json.r, 32), ...b64Field(e.json.s, 32)]);
    expect(secp256k1.verify(rs, digest, Uint8Array.of(4, ...wallet.ecdsa), { prehash: false })).toBe(true);
    const d = await wc.result(goSigning.durable, (r) => r.json.tx_id === txD);
    expect(d.json.result_type, d.text).toBe('success');
    expect(ed25519.verify(b64Field(d.json.signature, 64), msg, wallet.eddsa)).toBe(true);
  }

  /** A validly signed signing request's fields for the wallet, with `over` applied to its JSON. */
  function signing(over: Record<string, unknown> = {}, f: Partial<SignFields> = {}): Uint8Array {
    const fields: SignFields = {
      keyType: 'ed25519',
      walletId: wallet.id,
      networkInternalCode: 'fuzz',
      txId: `t-${hex(6)}`,
      tx: randomBytes(32),
      ...f,
    };
    const base = JSON.parse(Buffer.from(init.signGo(fields)).toString()) as Record<string, unknown>;
    return json({ ...base, ...over });
  }

  beforeAll(async () => {
    cluster = await NatsCluster.start({ nodes: 3, threshold: 1 });
    pids = cluster.procs.map((p) => p?.proc.pid);
    init = new Initiator(loadSeed(cluster.files.initiatorKeyFile));
    wc = await WireClient.connect(cluster.server.url);
    for (const c of [goKeygen, goSigning, goReshare, tsSigning]) await wc.resultConsumer(c);
    await wc.publish('mpc.keygen_request.*', init.keygenGo(wallet.id), CID);
    const k = await wc.result(goKeygen.durable, (r) => r.json.wallet_id === wallet.id);
    expect(k.json.result_type, k.text).toBe('success');
    wallet.ecdsa = b64Field(k.json.ecdsa_pub_key, 64);
    wallet.eddsa = b64Field(k.json.eddsa_pub_key, 32);
  }, 120_000);

  afterAll(async () => {
    await wc?.close();
    await cluster?.stop();
  });

  it('signing requests: junk, bad JSON, wrong shapes, bad base64, huge fields, 1 MB, wrong key_type, unicode, bad ClientID — one error result each with mpcium’s code', async () => {
    const valid = signing();
    const UNMARSHAL = 'ERROR_UNMARSHAL_FAILURE';
    const VALIDATION = 'ERROR_MSG_VALIDATION';
    const cases: Case[] = [
      { name: 'random bytes', data: randomBytes(700), code: UNMARSHAL },
      { name: 'invalid UTF-8', data: Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d), code: UNMARSHAL },
      { name: 'truncated JSON', data: valid.subarray(0, valid.length >> 1), code: UNMARSHAL },
      { name: 'empty', data: new Uint8Array(0), code: UNMARSHAL },
      { name: 'an array', data: utf8('[1,2,3]'), code: UNMARSHAL },
      { name: 'a string', data: utf8('"mpc"'), code: UNMARSHAL },
      { name: 'a number', data: utf8('42'), code: UNMARSHAL },
      { name: 'deeply nested', data: utf8(`${'['.repeat(50_000)}${']'.repeat(50_000)}`), code: UNMARSHAL },
      { name: 'null', data: utf8('null'), code: VALIDATION },
      { name: 'an empty object', data: utf8('{}'), code: VALIDATION },
      { name: 'tx a number', data: signing({ tx: 5 }), code: UNMARSHAL },
      { name: 'wallet_id an object', data: signing({ wallet_id: { a: 1 } }), code: UNMARSHAL },
      { name: 'key_type a number', data: signing({ key_type: 1 }), code: UNMARSHAL },
      { name: 'derivation_path a string', data: signing({ derivation_path: '44/60/0' }), code: UNMARSHAL },
      { name: 'derivation_path negative', data: signing({ derivation_path: [-1] }), code: UNMARSHAL },
      { name: 'derivation_path fractional', data: signing({ derivation_path: [1.5] }), code: UNMARSHAL },
      { name: 'derivation_path over u32', data: signing({ derivation_path: [2 ** 32] }), code: UNMARSHAL },
      { name: 'authorizers not a list', data: signing({ authorizer_signatures: 'x' }), code: UNMARSHAL },
      { name: 'tx not base64', data: signing({ tx: '@@@@' }), code: UNMARSHAL },
      { name: 'tx base64 without padding', data: signing({ tx: 'AAA' }), code: UNMARSHAL },
      { name: 'signature not base64', data: signing({ signature: '%%' }), code: UNMARSHAL },
      { name: 'key_type rsa', data: signing({ key_type: 'rsa' }), code: VALIDATION },
      { name: 'key_type upper case', data: signing({ key_type: 'ED25519' }), code: VALIDATION },
      {
        name: 'secp256k1 tx of 31 bytes',
        data: signing({}, { keyType: 'secp256k1', tx: randomBytes(31) }),
        code: VALIDATION,
      },
      { name: 'empty tx', data: signing({ tx: '' }), code: VALIDATION },
      {
        name: 'network code of 200 kB',
        data: signing({ network_internal_code: 'n'.repeat(200_000) }),
        code: VALIDATION,
      },
      { name: 'wallet_id of 5 kB', data: signing({ wallet_id: 'w'.repeat(5000) }), code: VALIDATION },
      {
        name: '10 000 derivation indices',
        data: signing({ derivation_path: Array.from({ length: 10_000 }, (_, i) => i) }),
        code: VALIDATION,
      },
      {
        name: '1000 authorizer signatures',
        data: signing({
          authorizer_signatures: Array.from({ length: 1000 }, (_, i) => ({
            authorizer_id: `a${i}`,
            signature: 'AA==',
          })),
        }),
        code: VALIDATION,
      },
      { name: '1 MB payload', data: signing({ pad: 'x'.repeat(1_000_000) }), code: VALIDATION },
      { name: '1 MB of junk', data: randomBytes(1_000_000), code: VALIDATION },
      { name: 'wallet_id with U+2028', data: signing({ wallet_id: 'w\u2028x' }), code: VALIDATION },
      { name: 'tx_id with NUL', data: signing({ tx_id: 't\u0000x' }), code: VALIDATION },
      { name: 'tx_id with a dot', data: signing({ tx_id: 'a.b' }), code: VALIDATION },
      {
        name: 'signature of random bytes',
        data: signing({ signature: b64(randomBytes(64)) }),
        code: 'ERROR_INVALID_INITIATOR_SIGNATURE',
      },
      { name: 'no signature', data: signing({ signature: null }), code: 'ERROR_INVALID_INITIATOR_SIGNATURE' },
      { name: 'ClientID with a dot: unscoped', data: randomBytes(64), code: UNMARSHAL, clientId: 'bad.client' },
      { name: 'ClientID a wildcard: unscoped', data: randomBytes(64), code: UNMARSHAL, clientId: '*' },
      { name: 'ClientID of 2 kB: unscoped', data: randomBytes(64), code: UNMARSHAL, clientId: 'c'.repeat(2000) },
    ];
    await expectErrorResults(cases);
    await healthy();
  }, 180_000);

  /**
   * Publishes every case to `mpc.signing_request.*`; each gets exactly its error result, found by
   * its message id — scoped to CID, or unscoped for a case with an invalid ClientID.
   */
  async function expectErrorResults(cases: Case[]): Promise<void> {
    const byId = new Map<string, Case>();
    for (const c of cases) {
      const h = sha256hex(c.data);
      expect(sent.has(h), `${c.name} was sent before`).toBe(false);
      sent.add(h);
      // a case with an invalid ClientID is answered unscoped
      byId.set(unauthenticatedId('signing', c.data, c.clientId === undefined ? CID : undefined), c);
    }
    expect(byId.size, 'cases must differ').toBe(cases.length);
    for (const c of cases) await wc.publish('mpc.signing_request.*', c.data, c.clientId ?? CID);
    for (const [msgId, c] of byId) {
      const unscoped = c.clientId !== undefined;
      const r = await wc
        .result(unscoped ? tsSigning.durable : goSigning.durable, (x) => x.msgId === msgId, 60_000)
        .catch((e: Error) => {
          throw new Error(
            `no result for case ${c.name} (${Buffer.from(c.data.subarray(0, 80)).toString('hex')}): ${e.message.slice(0, 200)}\n${cluster
              .grep(/"level":"(error|warn)"/)
              .slice(-20)
              .join('\n')}`,
          );
        });
      expect(r.json.result_type, c.name).toBe('error');
      expect(r.json.error_code, `${c.name}: ${r.json.error_reason}`).toBe(c.code);
      expect(Object.keys(r.json), c.name).toEqual(RESULT_FIELDS.signing);
      expect(r.json.is_timeout).toBe(false);
      expect([r.json.r, r.json.s, r.json.signature_recovery, r.json.signature]).toEqual([null, null, null, null]);
      expect(r.subject).toBe(unscoped ? 'mpc.mpc_signing_result.complete' : `mpc.mpc_signing_result.${CID}.complete`);
    }
  }

  it('generated junk on mpc.signing_request.* (fast-check): bytes, JSON values, request fields of the wrong JSON type — the code follows from what Go’s json.Unmarshal makes of it', async () => {
    const known = new Set([
      'key_type',
      'wallet_id',
      'network_internal_code',
      'tx_id',
      'tx',
      'signature',
      'derivation_path',
      'authorizer_signatures',
    ]);
    const notJsonOrJson = fc.uint8Array({ minLength: 1, maxLength: 300 });
    const jsonValues = fc
      .jsonValue({ maxDepth: 3 })
      .filter(
        (v) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).some((k) => known.has(k))),
      );
    const wrongKind = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1 }), fc.integer(), { minKeys: 1, maxKeys: 2 }),
    );
    const wrongField = fc.oneof(
      fc.record({
        field: fc.constantFrom('key_type', 'wallet_id', 'network_internal_code', 'tx_id', 'tx', 'signature'),
        value: wrongKind,
      }),
      fc.record({
        field: fc.constant('derivation_path'),
        value: fc.oneof(
          fc.string(),
          fc.array(
            fc.oneof(
              fc.integer({ max: -1 }),
              fc.double({ noInteger: true, noNaN: true }),
              fc.integer({ min: 2 ** 32, max: 2 ** 40 }),
            ),
            { minLength: 1, maxLength: 3 },
          ),
        ),
      }),
      fc.record({
        field: fc.constantFrom('tx', 'signature'),
        value: fc
          .string({ minLength: 1, maxLength: 12 })
          .filter(
            (s) => !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s.replace(/[\r\n]/g, '')),
          ),
      }),
    );
    /** The oracle: what Go's json.Unmarshal and then validation make of a value (no known field in it). */
    const expected = (data: Uint8Array): string => {
      let v: unknown;
      try {
        v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
      } catch {
        return 'ERROR_UNMARSHAL_FAILURE';
      }
      if (v === null || (typeof v === 'object' && !Array.isArray(v))) return 'ERROR_MSG_VALIDATION';
      return 'ERROR_UNMARSHAL_FAILURE';
    };
    const seed = 20261231;
    const cases: Case[] = [];
    const seen = new Set<string>(sent);
    const add = (name: string, data: Uint8Array, code: string) => {
      const h = sha256hex(data);
      if (seen.has(h)) return;
      seen.add(h);
      cases.push({ name, data, code });
    };
    for (const b of fc.sample(notJsonOrJson, { seed, numRuns: 25 }))
      add(`bytes ${Buffer.from(b).toString('hex').slice(0, 16)}`, b, expected(b));
    for (const v of fc.sample(jsonValues, { seed, numRuns: 25 })) {
      const data = json(v);
      add(`json ${JSON.stringify(v).slice(0, 40)}`, data, expected(data));
    }
    for (const w of fc.sample(wrongField, { seed, numRuns: 25 }))
      add(
        `${w.field} = ${JSON.stringify(w.value).slice(0, 40)}`,
        signing({ [w.field]: w.value }),
        'ERROR_UNMARSHAL_FAILURE',
      );
    expect(cases.length).toBeGreaterThan(50);
    await expectErrorResults(cases);
    await healthy();
  }, 180_000);

  it('a \\ud800 escape in a signed string verifies over Go’s bytes (U+FFFD, as Go decodes it); unicode in ids is kept', async () => {
    const txId = `u-🙂-${hex(4)}`;
    const tx = randomBytes(40);
    const f: SignFields = { keyType: 'ed25519', walletId: wallet.id, networkInternalCode: '\ufffd', txId, tx };
    const sig = init.sign(signRaw(f));
    const text = goMarshal({
      fields: [
        ['key_type', 'ed25519'],
        ['wallet_id', wallet.id],
        ['network_internal_code', 'PLACEHOLDER'],
        ['tx_id', txId],
        ['tx', b64(tx)],
        ['signature', b64(sig)],
        ['derivation_path', null],
      ],
    }).replace('PLACEHOLDER', '\\ud800');
    await wc.publish('mpc.signing_request.*', utf8(text), CID);
    const r = await wc.result(goSigning.durable, (x) => x.json.tx_id === txId);
    expect(r.json.result_type, r.text).toBe('success');
    expect(r.json.network_internal_code).toBe('\ufffd');
    expect(ed25519.verify(b64Field(r.json.signature, 64), tx, wallet.eddsa)).toBe(true);
  });

  it('keygen requests: those without a usable wallet_id are dropped with a log line, the others get an error result with mpcium’s code', async () => {
    const dropLines = () => cluster.grep(/a keygen request without a usable wallet_id was dropped/).length;
    const before = dropLines();
    const dropped = [
      randomBytes(300),
      utf8('{"wallet_id": "kx'),
      utf8('[]'),
      utf8('null'),
      utf8('{}'),
      json({ wallet_id: 'a.b', signature: 'AA==' }),
      json({ wallet_id: 'w'.repeat(300), signature: 'AA==' }),
      json({ wallet_id: 5 }),
      randomBytes(1_000_000),
    ];
    for (const d of dropped) await wc.publish('mpc.keygen_request.*', d, CID);
    const w = (s: string) => `${s}-${hex(4)}`;
    const answered = (
      [
        ['k1', { signature: 5 }, 'ERROR_UNMARSHAL_FAILURE'],
        ['k2', { signature: '!!' }, 'ERROR_UNMARSHAL_FAILURE'],
        ['k3', { signature: 'AA==', authorizer_signatures: 'x' }, 'ERROR_UNMARSHAL_FAILURE'],
        ['k4', {}, 'ERROR_INVALID_INITIATOR_SIGNATURE'],
        ['k5', { pad: 'x'.repeat(1_000_000) }, 'ERROR_MSG_VALIDATION'],
        ['k6', { signature: b64(randomBytes(64)) }, 'ERROR_INVALID_INITIATOR_SIGNATURE'],
        [
          'k7',
          {
            signature: 'AA==',
            authorizer_signatures: Array.from({ length: 1000 }, () => ({ authorizer_id: 'a', signature: 'AA==' })),
          },
          'ERROR_MSG_VALIDATION',
        ],
        ['k8-ü-🙂', { signature: b64(randomBytes(64)) }, 'ERROR_INVALID_INITIATOR_SIGNATURE'],
      ] as const
    ).map(([id, over, code]) => {
      const walletId = w(id);
      return { walletId, data: json({ wallet_id: walletId, ...over }), code };
    });
    for (const a of answered) await wc.publish(`mpc.keygen_request.${a.walletId}`, a.data, CID);
    for (const a of answered) {
      const r = await wc.result(goKeygen.durable, (x) => x.json.wallet_id === a.walletId);
      expect(r.subject).toBe(`mpc.mpc_keygen_result.${CID}.${a.walletId}`);
      expect(Object.keys(r.json)).toEqual(RESULT_FIELDS.keygen);
      expect(r.json, a.walletId).toMatchObject({
        result_type: 'error',
        error_code: a.code,
        ecdsa_pub_key: null,
        eddsa_pub_key: null,
      });
      expect(r.msgId).toBe(unauthenticatedId('keygen', a.data, CID));
    }
    await until('a drop log line per dropped keygen request', () => dropLines() - before >= dropped.length);
    // a validly signed wallet id outside ASCII is a wallet like any other, on its own result subject
    const unicode = w('ü-🙂');
    await wc.publish('mpc.keygen_request.*', init.keygenGo(unicode), CID);
    const k = await wc.result(goKeygen.durable, (x) => x.json.wallet_id === unicode);
    expect(k.json.result_type, k.text).toBe('success');
    expect(k.subject).toBe(`mpc.mpc_keygen_result.${CID}.${unicode}`);
    await healthy();
  }, 180_000);

  it('reshare requests on core NATS mpc:reshare: dropped with a log line without a usable session_id, else an error result with mpcium’s code', async () => {
    const dropLines = () => cluster.grep(/a reshare request without a usable session_id was dropped/).length;
    const before = dropLines();
    const dropped = [
      randomBytes(200),
      utf8('{"session_id":'),
      utf8('{}'),
      json({ session_id: 'a b' }),
      randomBytes(1_000_000),
    ];
    for (const d of dropped) await wc.publishCore('mpc:reshare', d, CID);
    const ids = Object.values(cluster.files.peers);
    const sid = () => `rx-${hex(5)}`;
    const reshare = (over: Record<string, unknown>) => {
      const session = sid();
      const base = JSON.parse(
        Buffer.from(
          init.reshareGo({
            sessionId: session,
            nodeIds: ids,
            newThreshold: 1,
            keyType: 'ed25519',
            walletId: wallet.id,
          }),
        ).toString(),
      ) as Record<string, unknown>;
      return { session, data: json({ ...base, ...over }) as Uint8Array };
    };
    const cases = [
      { ...reshare({ new_threshold: 1.5 }), code: 'ERROR_UNMARSHAL_FAILURE' },
      { ...reshare({ node_ids: 'a,b,c' }), code: 'ERROR_UNMARSHAL_FAILURE' },
      { ...reshare({ signature: '??' }), code: 'ERROR_UNMARSHAL_FAILURE' },
      { ...reshare({ key_type: 'rsa' }), code: 'ERROR_MSG_VALIDATION' },
      { ...reshare({ new_threshold: 1000 }), code: 'ERROR_INVALID_THRESHOLD' },
      { ...reshare({ signature: b64(randomBytes(64)) }), code: 'ERROR_INVALID_INITIATOR_SIGNATURE' },
      { ...reshare({ pad: 'p'.repeat(1_000_000) }), code: 'ERROR_MSG_VALIDATION' },
    ];
    // validly signed, but the new committee is not the cluster's
    const strangers = [0, 1, 2].map(() => randomUUID());
    const s = sid();
    cases.push({
      session: s,
      data: init.reshareGo({
        sessionId: s,
        nodeIds: strangers,
        newThreshold: 1,
        keyType: 'ed25519',
        walletId: wallet.id,
      }),
      code: 'ERROR_INCOMPATIBLE_PEER_IDS',
    });
    for (const c of cases) await wc.publishCore('mpc:reshare', c.data, CID);
    for (const c of cases) {
      const r = await wc.result(goReshare.durable, (x) => x.subject === `mpc.mpc_reshare_result.${CID}.${c.session}`);
      expect(Object.keys(r.json)).toEqual(RESULT_FIELDS.reshare);
      expect(r.json, r.text).toMatchObject({ result_type: 'error', error_code: c.code, pub_key: null });
      expect(r.msgId).not.toBe('');
    }
    await until('a drop log line per dropped reshare request', () => dropLines() - before >= dropped.length);
    await healthy();
    await stillSigns();
  }, 180_000);

  it('node-to-node subjects: junk, empty, truncated and over-long frames, forged hellos, replayed and tampered captured traffic are refused with a log line; a node restarted afterwards handshakes again', async () => {
    const ids = Object.values(cluster.files.peers);
    const sub = (id: string, what: string) => `tessera.node.${id}.${what}`;
    // capture real traffic of one signing round
    const captured: { subject: string; data: Uint8Array; reply?: string }[] = [];
    const spy = wc.nc.subscribe('tessera.node.>', {
      callback: (_e, m) => {
        captured.push({ subject: m.subject, data: Uint8Array.from(m.data), reply: m.reply });
      },
    });
    await wc.nc.flush();
    // a restart makes node 2 and its peers handshake again: the hellos are captured too
    expect(await cluster.terminate(2)).toBe(0);
    cluster.startNode(2);
    pids = cluster.procs.map((p) => p?.proc.pid);
    await healthy();
    await stillSigns();
    spy.unsubscribe();
    expect(captured.filter((c) => c.subject.endsWith('.hs')).length).toBeGreaterThan(0);
    const frames = captured.filter((c) => c.subject.endsWith('.msg'));
    expect(frames.length).toBeGreaterThan(0);
    const refusals = () => cluster.grep(/refused a channel message/).length;
    const before = refusals();

    const dataTag = lp(utf8('tessera/node/channels/data/v1'));
    const helloTag = lp(utf8('tessera/node/channels/hello/v1'));
    const rekeyTag = lp(utf8('tessera/node/channels/rekey/v1'));
    const frame = frames[0]!.data;
    const junk: { what: string; data: Uint8Array }[] = [
      { what: 'msg', data: randomBytes(200) },
      { what: 'msg', data: new Uint8Array(0) },
      { what: 'msg', data: frame.subarray(0, 3) },
      { what: 'msg', data: frame.subarray(0, dataTag.length + 10) },
      { what: 'msg', data: frame.subarray(0, frame.length - 1) },
      { what: 'msg', data: Buffer.concat([dataTag, randomBytes(16), u32(0xffffffff)]) },
      {
        what: 'msg',
        data: Buffer.concat([
          dataTag,
          randomBytes(16),
          lp(utf8(ids[0]!)),
          lp(utf8(ids[1]!)),
          lp(utf8('s')),
          Buffer.from([1, 0, 0, 0]),
          u32(0),
          u32(1),
          u32(0x7fffffff),
        ]),
      },
      { what: 'msg', data: Buffer.concat([frame, Uint8Array.of(0)]) },
      { what: 'msg', data: new Uint8Array(1_000_000) },
      { what: 'hs', data: randomBytes(100) },
      { what: 'hs', data: Buffer.concat([helloTag, u32(0xfffffff0)]) },
      { what: 'hs', data: new Uint8Array(1_000_000) },
      { what: 'rekey', data: randomBytes(100) },
      {
        what: 'rekey',
        data: Buffer.concat([
          rekeyTag,
          lp(utf8('tessera')),
          lp(utf8(ids[1]!)),
          lp(utf8(ids[0]!)),
          randomBytes(16),
          randomBytes(64),
        ]),
      },
    ];
    for (const id of ids) for (const j of junk) wc.nc.publish(sub(id, j.what), j.data);
    // forged hellos: well-formed, claiming each peer, signed by a stranger (no reply, no budget spent)
    const stranger = generateKeyPairSync('ed25519').privateKey;
    for (const to of ids)
      for (const from of ids.filter((x) => x !== to))
        for (let k = 0; k < 20; k++) {
          const body = Buffer.concat([
            helloTag,
            lp(utf8('tessera')),
            lp(utf8(from)),
            lp(utf8(to)),
            randomBytes(16),
            randomBytes(32),
          ]);
          const forged = Buffer.concat([body, sign(null, body, stranger)]);
          if (k < 2)
            await wc.nc.request(sub(to, 'hs'), forged, { timeout: 300 }).then(
              () => expect.fail('a forged hello was answered'),
              () => {},
            );
          else wc.nc.publish(sub(to, 'hs'), forged);
        }
    // data frames on unknown channels claiming a peer (each may cost a rate-limited rekey notice)
    for (const to of ids)
      for (let k = 0; k < 30; k++) {
        const from = ids.find((x) => x !== to)!;
        wc.nc.publish(
          sub(to, 'msg'),
          Buffer.concat([
            dataTag,
            randomBytes(16),
            lp(utf8(from)),
            lp(utf8(to)),
            lp(utf8(`s${k}`)),
            Buffer.from([1, 0, 0, 0]),
            u32(0),
            u32(k + 1),
            lp(randomBytes(48)),
          ]),
        );
      }
    // replays of everything captured, and tampered copies of the data frames
    for (const c of captured) {
      if (c.subject.endsWith('.hs')) {
        await wc.nc.request(c.subject, c.data, { timeout: 300 }).then(
          () => expect.fail('a replayed hello was answered'),
          () => {},
        );
      } else wc.nc.publish(c.subject, c.data);
    }
    for (const f of frames) {
      for (const at of [f.data.length - 1, f.data.length - 20, dataTag.length + 2]) {
        const t = Uint8Array.from(f.data);
        t[at]! ^= 0x01;
        wc.nc.publish(f.subject, t);
      }
    }
    await wc.nc.flush();
    await until('refusals in the logs', () => refusals() - before >= 3 * junk.length);
    await healthy();
    await stillSigns();

    // handshakes still work: a restarted node gets fresh channels to every peer
    const code = await cluster.terminate(2);
    expect(code).toBe(0);
    cluster.startNode(2);
    pids = cluster.procs.map((p) => p?.proc.pid);
    await healthy();
    await stillSigns();
  }, 180_000);

  it('the readiness bucket: garbage, forged, misplaced and replayed entries are ignored; every node stays ready', async () => {
    const kv: KV = await new Kvm(wc.nc).open('tessera-ready');
    const ids = Object.values(cluster.files.peers);
    const warnings = () => cluster.grep(/ignored a readiness entry that does not verify/).length;
    const before = warnings();
    const real = await kv.get(ids[0]!);
    expect(real?.operation).toBe('PUT');
    const old = Uint8Array.from(real!.value);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forgedBody = Buffer.concat([
      lp(utf8('tessera/node/ready/v1')),
      lp(utf8(ids[1]!)),
      randomBytes(16),
      Buffer.alloc(8),
    ]);
    forgedBody.writeBigUInt64BE(BigInt(Date.now()), forgedBody.length - 8);
    const forged = Buffer.concat([lp(forgedBody), lp(sign(null, forgedBody, stranger))]);
    const garbage = [randomBytes(64), new Uint8Array(0), randomBytes(200_000), utf8('{"ready":true}'), forged];
    for (let round = 0; round < 3; round++) {
      for (const id of ids.slice(1)) for (const g of garbage) await kv.put(id, g);
      await kv.put(ids[1]!, old); // node 0's genuine entry under node 1's key
      for (const k of ['evil', 'ready.x', `${ids[0]}-x`, 'a/b']) await kv.put(k, randomBytes(32));
      await new Promise((r) => setTimeout(r, 1000));
    }
    // node 0's own entry from a few seconds ago: stale, ignored
    await kv.put(ids[0]!, old);
    await until('warnings about entries that do not verify', () => warnings() > before);
    await healthy();
    await stillSigns();
  }, 180_000);

  it('the peers bucket: garbage entries never stop running nodes; a node that reads its peers from the bucket waits, naming the bad entries and the fix, and starts once they are removed', async () => {
    const reg = spawnSync(
      process.execPath,
      [CLI, 'register-peers', '--peers', cluster.files.peersFile, '--nats-url', cluster.server.url],
      { encoding: 'utf8' },
    );
    expect(reg.status, reg.stderr).toBe(0);
    const kv: KV = await new Kvm(wc.nc).open('mpc-peers');
    const bad: Record<string, Uint8Array> = {
      intruder: utf8('not-a-uuid'),
      binary: randomBytes(40),
      huge: utf8('x'.repeat(100_000)),
      'a/b': utf8(randomUUID()),
    };
    for (const [k, v] of Object.entries(bad)) await kv.put(k, v);
    await healthy();

    // node 2 again, without --peers: from the bucket
    expect(await cluster.terminate(2)).toBe(0);
    const args = cluster.files.startArgs(cluster.names[2]!);
    const i = args.indexOf('--peers');
    args.splice(i, 2);
    const proc = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TESSERA_LOG_LEVEL: 'info' },
      // a directory without peers.json, so that the peers come from the bucket
      cwd: join(cluster.files.dir, cluster.names[2]!),
    });
    const lines: string[] = [];
    const collect = (d: Buffer) => {
      for (const l of d.toString().split('\n')) if (l) lines.push(l);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    const node: NodeProcess = { name: cluster.names[2]!, proc, lines, exited };
    cluster.procs[2] = node;
    pids = cluster.procs.map((p) => p?.proc.pid);
    await until('the node to name the bad entries', () => {
      if (proc.exitCode !== null) throw new Error(`node exited with ${proc.exitCode}:\n${lines.join('\n')}`);
      return lines.some((l) => /peers bucket/.test(l) && /intruder/.test(l) && /register-peers/.test(l));
    });
    expect(proc.exitCode).toBeNull();
    for (const k of Object.keys(bad)) await kv.delete(k);
    await healthy();
    await stillSigns();
  }, 180_000);
});
