/**
 * A small mpcium client written from docs (the reference's §1, §2, §10, §11) only, for
 * end-to-end tests of the wire: raw nats.js (`@nats-io/transport-node`, `@nats-io/jetstream`), its
 * own JSON building in Go's struct order with Go's escaping, its own Ed25519 signing with
 * node:crypto. It deliberately uses nothing from `src/` (neither the SDK nor the api encoders), so
 * that a mistake shared by the node's and the SDK's encoders cannot hide here.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, type NodeConnectionOptions, nanos } from '@nats-io/transport-node';

// ---- Go's encoding/json, by hand -------------------------------------------------------------

/** A JSON value in Go's order: objects are lists of [field, value] in struct declaration order. */
export type GoValue = string | number | boolean | null | GoValue[] | { readonly fields: [string, GoValue][] };

/** Go's string escaping: `"` `\` and controls, plus `<` `>` `&` and U+2028/U+2029 as \u escapes. */
export function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's `json.Marshal`, no spaces. */
export function goMarshal(v: GoValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goMarshal).join(',')}]`;
  return `{${v.fields.map(([k, x]) => `${goString(k)}:${goMarshal(x)}`).join(',')}}`;
}

const obj = (...fields: [string, GoValue][]): GoValue => ({ fields });
/** Go `[]byte`: standard base64 with padding; nil → null. */
export const b64 = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('base64'));

// ---- requests (reference §1.3, §2.1) --------------------------------------------------------

export type KeyType = 'secp256k1' | 'ed25519';

export interface SignFields {
  keyType: KeyType;
  walletId: string;
  networkInternalCode: string;
  txId: string;
  tx: Uint8Array;
}

/** `raw` of a signing request: GoJSON of key_type, wallet_id, network_internal_code, tx_id, tx. */
export function signRaw(f: SignFields): Uint8Array {
  return Buffer.from(
    goMarshal(
      obj(
        ['key_type', f.keyType],
        ['wallet_id', f.walletId],
        ['network_internal_code', f.networkInternalCode],
        ['tx_id', f.txId],
        ['tx', b64(f.tx)],
      ),
    ),
  );
}

export interface ReshareFields {
  sessionId: string;
  nodeIds: string[];
  newThreshold: number;
  keyType: KeyType;
  walletId: string;
}

function reshareFields(f: ReshareFields): [string, GoValue][] {
  return [
    ['session_id', f.sessionId],
    ['node_ids', f.nodeIds],
    ['new_threshold', f.newThreshold],
    ['key_type', f.keyType],
    ['wallet_id', f.walletId],
  ];
}

/** The initiator key: the cluster's `event_initiator.key` (hex of the 32-byte Ed25519 seed). */
export function loadSeed(file: string): KeyObject {
  const hex = readFileSync(file, 'utf8').trim().slice(0, 64);
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(hex, 'hex')]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

export class Initiator {
  constructor(readonly key: KeyObject) {}

  sign(raw: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, raw, this.key));
  }

  /** The 32-byte public key (hex), as a node's `event_initiator_pubkey`. */
  get publicKeyHex(): string {
    return Buffer.from(createPublicKey(this.key).export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  }

  /** Go client `GenerateKeyMessage`: wallet_id, signature (raw = the wallet id's bytes). */
  keygenGo(walletId: string): Uint8Array {
    const sig = this.sign(Buffer.from(walletId));
    return Buffer.from(goMarshal(obj(['wallet_id', walletId], ['signature', b64(sig)])));
  }

  /** TS client: `JSON.stringify({ wallet_id, signature })`. */
  keygenTs(walletId: string): Uint8Array {
    const sig = this.sign(Buffer.from(walletId));
    return Buffer.from(JSON.stringify({ wallet_id: walletId, signature: b64(sig) }));
  }

  /** Go client `SignTxMessage` (derivation_path null unless given). `signature` overrides the computed one. */
  signGo(f: SignFields, o: { derivationPath?: number[] | null; signature?: Uint8Array } = {}): Uint8Array {
    const sig = o.signature ?? this.sign(signRaw(f));
    return Buffer.from(
      goMarshal(
        obj(
          ['key_type', f.keyType],
          ['wallet_id', f.walletId],
          ['network_internal_code', f.networkInternalCode],
          ['tx_id', f.txId],
          ['tx', b64(f.tx)],
          ['signature', b64(sig)],
          ['derivation_path', o.derivationPath ?? null],
        ),
      ),
    );
  }

  /**
   * TS client: `JSON.stringify` of the message (no derivation_path, no authorizers), signed over
   * `JSON.stringify` of the signed fields — which equals Go's bytes unless a string holds `<>&` or
   * U+2028/9.
   */
  signTs(f: SignFields): Uint8Array {
    const signed = {
      key_type: f.keyType,
      wallet_id: f.walletId,
      network_internal_code: f.networkInternalCode,
      tx_id: f.txId,
      tx: b64(f.tx),
    };
    const sig = this.sign(Buffer.from(JSON.stringify(signed)));
    return Buffer.from(JSON.stringify({ ...signed, signature: b64(sig) }));
  }

  /** Go client `ResharingMessage`; raw = the message without signature (omitempty). */
  reshareGo(f: ReshareFields): Uint8Array {
    const sig = this.sign(Buffer.from(goMarshal(obj(...reshareFields(f)))));
    return Buffer.from(goMarshal(obj(...reshareFields(f), ['signature', b64(sig)])));
  }
}

// ---- streams, consumers, results (reference §1.1, §1.4, §1.5) -------------------------------

export const STREAMS = {
  keygen: { name: 'mpc-keygen', subjects: ['mpc.keygen_request.*'] },
  signing: { name: 'mpc-signing', subjects: ['mpc.signing_request.*'] },
  results: {
    name: 'mpc',
    subjects: ['mpc.mpc_keygen_result.>', 'mpc.mpc_signing_result.>', 'mpc.mpc_reshare_result.>'],
  },
} as const;

export type Op = 'keygen' | 'signing' | 'reshare';

/** mpcium's `sanitizeConsumerName`. */
export function sanitize(name: string): string {
  let s = name
    .replace(/[.: -]/g, '_')
    .replace(/>/g, 'all')
    .replace(/\*/g, 'any');
  if (!/^[A-Za-z_]/.test(s)) s = `_${s}`;
  return s;
}

/**
 * The Go client's result consumer (scoped when `clientId` is given): `mpc_keygen_result[_<cid>]`
 * on `mpc.mpc_keygen_result[.<cid>].*`, `mpc_signing_result[_<cid>]` on
 * `mpc.mpc_signing_result[.<cid>].complete`, `mpc_reshare_result[_<cid>]` on
 * `mpc.mpc_reshare_result[.<cid>].*`.
 */
export function goConsumer(op: Op, clientId?: string): { durable: string; filter: string } {
  const base = `mpc_${op}_result`;
  const scope = clientId ? `.${clientId}` : '';
  return {
    durable: sanitize(clientId ? `${base}.${clientId}` : base),
    filter: `mpc.${base}${scope}.${op === 'signing' ? 'complete' : '*'}`,
  };
}

/** The TS client's unscoped result consumer: `mpc_<op>_result` on `mpc.mpc_<op>_result.*`. */
export function tsConsumer(op: Op): { durable: string; filter: string } {
  return { durable: `mpc_${op}_result`, filter: `mpc.mpc_${op}_result.*` };
}

export interface Result {
  readonly subject: string;
  /** The message's bytes as text (to check Go's encoding). */
  readonly text: string;
  readonly json: Record<string, unknown>;
  /** Its `Nats-Msg-Id` header ('' when absent). */
  readonly msgId: string;
}

/**
 * One pull; null when none came. A pull that failed on the client's side ("heartbeats missed" on
 * a busy machine) counts as none: the message stays in the stream for the next pull.
 */
async function next(c: Consumer, expires: number): Promise<JsMsg | null> {
  try {
    return await c.next({ expires });
  } catch (e) {
    if (/heartbeat/i.test(String((e as Error)?.message))) return null;
    throw e;
  }
}

export class WireClient {
  private readonly buffered = new Map<string, Result[]>();
  private readonly consumers = new Map<string, Consumer>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
  ) {}

  static async connect(url: string, opts: Partial<NodeConnectionOptions> = {}): Promise<WireClient> {
    const nc = await connect({ servers: url, ...opts });
    return new WireClient(nc, jetstream(nc), await jetstreamManager(nc));
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => {});
  }

  /**
   * Creates a result consumer as mpcium's clients do (AckExplicit, AckWait 30 s, MaxDeliver 3,
   * MaxAckPending 1000; one filter — `filter_subject`, since nats-server 2.9 has no `filter_subjects`).
   */
  async resultConsumer(c: { durable: string; filter: string }, stream = 'mpc'): Promise<void> {
    await this.jsm.consumers.add(stream, {
      durable_name: c.durable,
      filter_subject: c.filter,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_deliver: 3,
      max_ack_pending: 1000,
      deliver_policy: DeliverPolicy.All,
    });
    this.consumers.set(c.durable, await this.js.consumers.get(stream, c.durable));
  }

  async deleteConsumer(durable: string, stream = 'mpc'): Promise<void> {
    await this.jsm.consumers.delete(stream, durable);
    this.consumers.delete(durable);
    this.buffered.delete(durable);
  }

  /** JetStream-publishes a request (with `ClientID` when given); resolves with the PubAck's sequence. */
  async publish(subject: string, data: Uint8Array, clientId?: string): Promise<number> {
    const h = headers();
    if (clientId) h.set('ClientID', clientId);
    const ack = await this.js.publish(subject, data, { headers: clientId ? h : undefined });
    return ack.seq;
  }

  /** Core-NATS publish (reshare requests on `mpc:reshare`, junk for node subjects). */
  async publishCore(subject: string, data: Uint8Array, clientId?: string): Promise<void> {
    const h = headers();
    if (clientId) h.set('ClientID', clientId);
    this.nc.publish(subject, data, { headers: clientId ? h : undefined });
    await this.nc.flush();
  }

  /**
   * The next result on `durable` that `match` accepts (others are acked and kept for later calls),
   * waiting up to `timeoutMs`. Throws on timeout.
   */
  async result(durable: string, match: (r: Result) => boolean, timeoutMs = 90_000): Promise<Result> {
    const kept = this.buffered.get(durable) ?? [];
    this.buffered.set(durable, kept);
    const i = kept.findIndex(match);
    if (i >= 0) return kept.splice(i, 1)[0]!;
    const c = this.consumers.get(durable);
    if (!c) throw new Error(`no consumer ${durable}`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = await next(c, 2000);
      if (!m) continue;
      const text = new TextDecoder().decode(m.data);
      const r: Result = {
        subject: m.subject,
        text,
        json: JSON.parse(text) as Record<string, unknown>,
        msgId: m.headers?.get('Nats-Msg-Id') ?? '',
      };
      m.ack();
      if (match(r)) return r;
      kept.push(r);
    }
    throw new Error(`no matching result on ${durable} within ${timeoutMs} ms (kept: ${JSON.stringify(kept)})`);
  }

  /** Every result on `durable` that arrives within `ms` (plus those kept). */
  async drain(durable: string, ms: number): Promise<Result[]> {
    const out = this.buffered.get(durable)?.splice(0) ?? [];
    const c = this.consumers.get(durable)!;
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const m = await next(c, Math.max(100, Math.min(1000, deadline - Date.now())));
      if (!m) continue;
      const text = new TextDecoder().decode(m.data);
      out.push({
        subject: m.subject,
        text,
        json: JSON.parse(text) as Record<string, unknown>,
        msgId: m.headers?.get('Nats-Msg-Id') ?? '',
      });
      m.ack();
    }
    return out;
  }
}

/** The bytes of a base64 field, checking it is standard base64 with padding (Go's `[]byte`). */
export function b64Field(v: unknown, length?: number): Uint8Array {
  if (typeof v !== 'string') throw new Error(`expected base64, got ${JSON.stringify(v)}`);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v))
    throw new Error(`not standard padded base64: ${v}`);
  const b = new Uint8Array(Buffer.from(v, 'base64'));
  if (Buffer.from(b).toString('base64') !== v) throw new Error(`non-canonical base64: ${v}`);
  if (length !== undefined && b.length !== length) throw new Error(`expected ${length} bytes, got ${b.length}`);
  return b;
}

/** Field names of mpcium's result events in Go's struct order (reference §1.5). */
export const RESULT_FIELDS = {
  keygen: ['wallet_id', 'ecdsa_pub_key', 'eddsa_pub_key', 'result_type', 'error_reason', 'error_code'],
  signing: [
    'result_type',
    'error_code',
    'error_reason',
    'is_timeout',
    'network_internal_code',
    'wallet_id',
    'tx_id',
    'r',
    's',
    'signature_recovery',
    'signature',
  ],
  reshare: ['wallet_id', 'new_threshold', 'key_type', 'pub_key', 'result_type', 'error_reason', 'error_code'],
} as const;
