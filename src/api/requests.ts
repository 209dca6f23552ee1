/**
 * mpcium's request messages (reference §1.3) — parsed and validated — and the bytes their
 * initiator and authorizers sign (§2.1, §2.3). Unknown fields are ignored, as Go ignores them; the
 * protocol fields of mpcium PR #106 are checked (protocols.ts) and then ignored too.
 * A request is decoded as Go's `json.Unmarshal` decodes it into mpcium's structs (a missing field
 * or `null` is the zero value): what Go refuses — not JSON, not an object, a field of the wrong
 * JSON type, bad base64, a number that does not fit — is an `ERROR_UNMARSHAL_FAILURE`, as mpcium
 * answers it; a decoded request whose fields are wrong is an `ERROR_MSG_VALIDATION` (both as
 * {@link RequestError}). The `encode*` functions write a request as
 * mpcium's Go client marshals it (struct field order, Go escaping, `omitempty` where Go has it).
 */
import { z } from 'zod';
import { TesseraError } from '../common/errors.js';
import type { ErrorCode } from './error-codes.js';
import { type GoJsonValue, goBytes, goJson } from './go-json.js';
import { type ProtocolField, protocolProblem } from './protocols.js';
import { validateSubjectToken } from './subjects.js';

/** A request that cannot be served as sent: its result carries `code` and `reason`. */
export class RequestError extends TesseraError {
  constructor(
    readonly errorCode: ErrorCode,
    readonly reason: string,
  ) {
    super('INVALID_ARGUMENT', `${reason}; fix the request and send it again`);
  }
}

export type KeyType = 'secp256k1' | 'ed25519';

export interface AuthorizerSignature {
  readonly authorizerId: string;
  readonly signature: Uint8Array;
}

export interface GenerateKeyRequest {
  readonly walletId: string;
  readonly signature: Uint8Array;
  readonly authorizerSignatures: readonly AuthorizerSignature[];
}

export interface SignTxRequest {
  readonly keyType: KeyType;
  readonly walletId: string;
  readonly networkInternalCode: string;
  readonly txId: string;
  /** Secp256k1: the 32-byte digest; ed25519: the exact message bytes (leading zero bytes kept). */
  readonly tx: Uint8Array;
  readonly signature: Uint8Array;
  readonly derivationPath: readonly number[] | null;
  readonly authorizerSignatures: readonly AuthorizerSignature[];
}

export interface ResharingRequest {
  readonly sessionId: string;
  /** The new committee's node ids. */
  readonly nodeIds: readonly string[];
  /** New mpcium threshold t (t+1 signers). */
  readonly newThreshold: number;
  readonly keyType: KeyType;
  readonly walletId: string;
  readonly signature: Uint8Array;
  readonly authorizerSignatures: readonly AuthorizerSignature[];
}

/** Go decodes a []byte from standard base64 (padding required); results use it too. */
export const goBase64 = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be standard base64 with padding')
  .transform((s) => new Uint8Array(Buffer.from(s, 'base64')));
const bytes = z.union([goBase64, z.null().transform(() => new Uint8Array(0))]);
const token = (what: string) =>
  z.string().superRefine((s, ctx) => {
    try {
      validateSubjectToken(what, s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^.*?: /, '') });
    }
  });
const keyType = z.enum(['secp256k1', 'ed25519'], { message: 'unsupported key type (secp256k1 or ed25519)' });
// non-hardened indices only: a threshold key cannot derive hardened children
const pathIndex = z.number().int().min(0).max(0x7fffffff, 'derivation indices are below 2^31 (no hardened derivation)');
const authorizers = z
  .array(z.object({ authorizer_id: z.string().min(1).max(256), signature: bytes }))
  .max(64)
  .nullish()
  .transform((a) => (a ?? []).map((x) => ({ authorizerId: x.authorizer_id, signature: x.signature })));

// mpcium PR #106's protocol fields: checked after the schema (protocols.ts), never signed, never kept
const generateKeySchema = z.object({
  wallet_id: token('wallet_id'),
  signature: bytes,
  authorizer_signatures: authorizers,
  ecdsa_protocol: z.unknown().optional(),
  eddsa_protocol: z.unknown().optional(),
});
const signTxSchema = z.object({
  key_type: keyType,
  wallet_id: token('wallet_id'),
  network_internal_code: z.string().max(256),
  tx_id: token('tx_id'),
  tx: bytes.refine((b) => b.length > 0 && b.length <= 1 << 20, 'tx must hold 1 byte to 1 MiB'),
  signature: bytes,
  derivation_path: z
    .array(pathIndex)
    .max(255)
    .nullish()
    .transform((p) => p ?? null),
  authorizer_signatures: authorizers,
  protocol: z.unknown().optional(),
});
const resharingSchema = z.object({
  session_id: token('session_id'),
  node_ids: z.array(z.string().min(1).max(256)).min(2).max(1024),
  new_threshold: z.number().int().min(1),
  key_type: keyType,
  wallet_id: token('wallet_id'),
  signature: bytes.optional().transform((b) => b ?? new Uint8Array(0)),
  authorizer_signatures: authorizers,
  protocol: z.unknown().optional(),
});

/**
 * A field's type in mpcium's Go structs, as `encoding/json` decodes into it: `string`, `[]byte`
 * (`bytes`: standard base64 with padding, `\r` `\n` ignored), `int`, `[]uint32` elements
 * (`uint32`), slices and structs; `raw`: a field today's mpcium does not have that Tessera checks
 * itself (mpcium PR #106's protocol fields), kept as the JSON has it.
 */
type GoType = 'string' | 'bytes' | 'int' | 'uint32' | 'raw' | { readonly slice: GoType } | GoStruct;
interface GoStruct {
  readonly [field: string]: GoType;
}

const AUTHORIZER_SIGNATURES: GoType = { slice: { authorizer_id: 'string', signature: 'bytes' } };
const GENERATE_KEY_MESSAGE: GoStruct = {
  wallet_id: 'string',
  signature: 'bytes',
  authorizer_signatures: AUTHORIZER_SIGNATURES,
  ecdsa_protocol: 'raw',
  eddsa_protocol: 'raw',
};
const SIGN_TX_MESSAGE: GoStruct = {
  key_type: 'string',
  wallet_id: 'string',
  network_internal_code: 'string',
  tx_id: 'string',
  tx: 'bytes',
  signature: 'bytes',
  derivation_path: { slice: 'uint32' },
  authorizer_signatures: AUTHORIZER_SIGNATURES,
  protocol: 'raw',
};
const RESHARING_MESSAGE: GoStruct = {
  session_id: 'string',
  node_ids: { slice: 'string' },
  new_threshold: 'int',
  key_type: 'string',
  wallet_id: 'string',
  signature: 'bytes',
  authorizer_signatures: AUTHORIZER_SIGNATURES,
  protocol: 'raw',
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

class UnmarshalError extends Error {}

function jsonKind(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v;
}

/** Go's zero value of `t` as the schemas below take it (nil slices and `[]byte` as null). */
function goZero(t: GoType): unknown {
  if (t === 'raw') return undefined;
  if (t === 'string') return '';
  if (t === 'int' || t === 'uint32') return 0;
  if (t === 'bytes' || 'slice' in t) return null;
  return Object.fromEntries(Object.entries(t).map(([k, f]) => [k, goZero(f)]));
}

/**
 * What Go's `json.Unmarshal` makes of `v` as a `t`: a missing field or `null` is the zero value,
 * unknown fields are dropped, a value of the wrong JSON type, bad base64 or a number that does not
 * fit is an error (mpcium answers those with `ERROR_UNMARSHAL_FAILURE`). Throws `UnmarshalError`.
 */
function goUnmarshal(v: unknown, t: GoType, path: string): unknown {
  if (t === 'raw') return v;
  if (v === null || v === undefined) return goZero(t);
  const wrong = (goType: string) => new UnmarshalError(`${path}: cannot unmarshal ${jsonKind(v)} into ${goType}`);
  if (t === 'string') {
    if (typeof v !== 'string') throw wrong('string');
    // Go decodes a lone surrogate escape (`\ud800`) to U+FFFD: hold what a Go node holds
    return v.toWellFormed();
  }
  if (t === 'bytes') {
    if (typeof v !== 'string') throw wrong('[]byte');
    const s = v.replace(/[\r\n]/g, '');
    if (!BASE64.test(s)) throw new UnmarshalError(`${path}: illegal base64 data`);
    return s;
  }
  if (t === 'int' || t === 'uint32') {
    if (typeof v !== 'number') throw wrong(t);
    const fits = Number.isInteger(v) && (t === 'int' ? Math.abs(v) < 2 ** 63 : v >= 0 && v <= 0xffff_ffff);
    if (!fits) throw new UnmarshalError(`${path}: number ${v} does not fit ${t}`);
    return v;
  }
  if ('slice' in t) {
    if (!Array.isArray(v)) throw wrong('a slice');
    const elem = t.slice as GoType;
    return v.map((x, i) => goUnmarshal(x, elem, `${path}[${i}]`));
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw wrong('a struct');
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(t).map(([k, f]) => [
      k,
      goUnmarshal(Object.hasOwn(o, k) ? o[k] : undefined, f, path ? `${path}.${k}` : k),
    ]),
  );
}

function parse<T>(schema: z.ZodType<T>, go: GoStruct, data: Uint8Array | string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new RequestError('ERROR_UNMARSHAL_FAILURE', `${what} is not JSON`);
  }
  try {
    json = goUnmarshal(json, go, '');
  } catch (e) {
    if (!(e instanceof UnmarshalError)) throw e;
    throw new RequestError('ERROR_UNMARSHAL_FAILURE', `the ${what} does not unmarshal: ${e.message || '(message)'}`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new RequestError(
      'ERROR_MSG_VALIDATION',
      `validation of the ${what} failed: ${i.path.join('.') || '(message)'}: ${i.message}`,
    );
  }
  return r.data;
}

/** Refuses a protocol Tessera does not run for `keyType` (protocols.ts). Throws {@link RequestError}. */
function checkProtocol(what: string, field: ProtocolField, value: unknown, keyType: KeyType): void {
  const problem = protocolProblem(field, value, keyType);
  if (problem !== undefined)
    throw new RequestError('ERROR_MSG_VALIDATION', `validation of the ${what} failed: ${problem}`);
}

/**
 * Parses a keygen request; `ecdsa_protocol` / `eddsa_protocol`, if set, must name what Tessera runs
 * (protocols.ts). Throws {@link RequestError}.
 */
export function parseGenerateKeyRequest(data: Uint8Array | string): GenerateKeyRequest {
  const m = parse(generateKeySchema, GENERATE_KEY_MESSAGE, data, 'keygen request');
  checkProtocol('keygen request', 'ecdsa_protocol', m.ecdsa_protocol, 'secp256k1');
  checkProtocol('keygen request', 'eddsa_protocol', m.eddsa_protocol, 'ed25519');
  return { walletId: m.wallet_id, signature: m.signature, authorizerSignatures: m.authorizer_signatures };
}

/**
 * Parses a signing request; a secp256k1 `tx` must be the 32-byte digest; `protocol`, if set, must
 * name what Tessera runs for the key type (protocols.ts). Throws {@link RequestError}.
 */
export function parseSignTxRequest(data: Uint8Array | string): SignTxRequest {
  const m = parse(signTxSchema, SIGN_TX_MESSAGE, data, 'signing request');
  checkProtocol('signing request', 'protocol', m.protocol, m.key_type);
  if (m.key_type === 'secp256k1' && m.tx.length !== 32) {
    throw new RequestError(
      'ERROR_MSG_VALIDATION',
      'validation of the signing request failed: tx: a secp256k1 tx is the 32-byte digest to sign',
    );
  }
  return {
    keyType: m.key_type,
    walletId: m.wallet_id,
    networkInternalCode: m.network_internal_code,
    txId: m.tx_id,
    tx: m.tx,
    signature: m.signature,
    derivationPath: m.derivation_path,
    authorizerSignatures: m.authorizer_signatures,
  };
}

/**
 * Parses a reshare request (its new threshold must leave t+1 ≤ n; `protocol`, if set, must name what
 * Tessera runs for the key type, protocols.ts). Throws {@link RequestError}.
 */
export function parseResharingRequest(data: Uint8Array | string): ResharingRequest {
  const m = parse(resharingSchema, RESHARING_MESSAGE, data, 'reshare request');
  checkProtocol('reshare request', 'protocol', m.protocol, m.key_type);
  if (new Set(m.node_ids).size !== m.node_ids.length || m.new_threshold + 1 > m.node_ids.length) {
    throw new RequestError(
      'ERROR_INVALID_THRESHOLD',
      `validation of the reshare request failed: new_threshold ${m.new_threshold} needs at least ${m.new_threshold + 1} distinct node_ids`,
    );
  }
  return {
    sessionId: m.session_id,
    nodeIds: m.node_ids,
    newThreshold: m.new_threshold,
    keyType: m.key_type,
    walletId: m.wallet_id,
    signature: m.signature,
    authorizerSignatures: m.authorizer_signatures,
  };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** What the initiator signs for a keygen request: the wallet id's UTF-8 bytes. Does not throw. */
export function generateKeySignedBytes(r: Pick<GenerateKeyRequest, 'walletId'>): Uint8Array {
  return utf8(r.walletId);
}

/** What the initiator signs for a signing request: Go's JSON of (key_type, wallet_id, network_internal_code, tx_id, tx). Does not throw. */
export function signTxSignedBytes(
  r: Pick<SignTxRequest, 'keyType' | 'walletId' | 'networkInternalCode' | 'txId' | 'tx'>,
): Uint8Array {
  return utf8(goJson(signTxSignedFields(r)));
}

/** The signed fields of a signing request, in Go's order: the head of the message too. */
function signTxSignedFields(r: Pick<SignTxRequest, 'keyType' | 'walletId' | 'networkInternalCode' | 'txId' | 'tx'>) {
  return {
    key_type: r.keyType,
    wallet_id: r.walletId,
    network_internal_code: r.networkInternalCode,
    tx_id: r.txId,
    tx: goBytes(r.tx),
  };
}

/** What the initiator signs for a reshare request: Go's JSON of (session_id, node_ids, new_threshold, key_type, wallet_id). Does not throw. */
export function resharingSignedBytes(
  r: Pick<ResharingRequest, 'sessionId' | 'nodeIds' | 'newThreshold' | 'keyType' | 'walletId'>,
): Uint8Array {
  return utf8(goJson(resharingSignedFields(r)));
}

/** The signed fields of a reshare request, in Go's order: the head of the message too. */
function resharingSignedFields(
  r: Pick<ResharingRequest, 'sessionId' | 'nodeIds' | 'newThreshold' | 'keyType' | 'walletId'>,
) {
  return {
    session_id: r.sessionId,
    node_ids: [...r.nodeIds],
    new_threshold: r.newThreshold,
    key_type: r.keyType,
    wallet_id: r.walletId,
  };
}

/** The initiator id mpcium binds authorizer signatures to: the wallet id (keygen, reshare) or the tx id (signing). Does not throw. */
export function initiatorId(r: GenerateKeyRequest | SignTxRequest | ResharingRequest): string {
  return 'txId' in r ? r.txId : r.walletId;
}

/** What an authorizer signs: Go's JSON of (initiator_id, initiator_raw, initiator_sig). Does not throw. */
export function authorizerSignedBytes(initiator: string, raw: Uint8Array, initiatorSignature: Uint8Array): Uint8Array {
  return utf8(
    goJson({ initiator_id: initiator, initiator_raw: goBytes(raw), initiator_sig: goBytes(initiatorSignature) }),
  );
}

function authorizerField(a: readonly AuthorizerSignature[]): { authorizer_signatures?: GoJsonValue } {
  // omitempty: Go leaves the field out for a nil or empty slice
  if (a.length === 0) return {};
  return { authorizer_signatures: a.map((x) => ({ authorizer_id: x.authorizerId, signature: goBytes(x.signature) })) };
}

/**
 * A keygen request as mpcium's Go client marshals its `GenerateKeyMessage`: wallet_id, signature,
 * authorizer_signatures (left out when empty). Does not throw.
 */
export function encodeGenerateKeyRequest(r: GenerateKeyRequest): Uint8Array {
  return utf8(
    goJson({ wallet_id: r.walletId, signature: goBytes(r.signature), ...authorizerField(r.authorizerSignatures) }),
  );
}

/**
 * A signing request as mpcium's Go client marshals its `SignTxMessage`: key_type, wallet_id,
 * network_internal_code, tx_id, tx, signature, derivation_path (`null` when absent),
 * authorizer_signatures (left out when empty). Throws `InvalidArgumentError` for a path index that
 * is not a safe integer.
 */
export function encodeSignTxRequest(r: SignTxRequest): Uint8Array {
  return utf8(
    goJson({
      ...signTxSignedFields(r),
      signature: goBytes(r.signature),
      derivation_path: r.derivationPath === null ? null : [...r.derivationPath],
      ...authorizerField(r.authorizerSignatures),
    }),
  );
}

/**
 * A reshare request as mpcium's Go client marshals its `ResharingMessage`: session_id, node_ids,
 * new_threshold, key_type, wallet_id, signature and authorizer_signatures (both left out when
 * empty). Throws `InvalidArgumentError` for a threshold that is not a safe integer.
 */
export function encodeResharingRequest(r: ResharingRequest): Uint8Array {
  return utf8(
    goJson({
      ...resharingSignedFields(r),
      ...(r.signature.length > 0 ? { signature: goBytes(r.signature) } : {}),
      ...authorizerField(r.authorizerSignatures),
    }),
  );
}
