/**
 * The node's own messages between nodes (channel kind {@link KIND_CONTROL}), next to the protocol
 * messages of the tss parties (kind {@link KIND_TSS}): a coordinator's session start, abort
 * notices, a member's "stored" confirmation of new key material, a signer's outcome for the
 * coordinator, and the final result for every member's idempotency cache. Encoded with the one
 * codec (`common/bytes.ts`); decoding refuses anything malformed or oversized.
 */
import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';

/** Channel message kinds. */
export const KIND_TSS = 1;
export const KIND_CONTROL = 2;

const TAG = 'tessera/node/control/v1';
const MAX_LIST = 1024;
const MAX_REQUEST = 256 * 1024;
const MAX_TEXT = 4096;

export type SessionOp = 'keygen' | 'sign' | 'reshare' | 'resetup';
const OPS: readonly SessionOp[] = ['keygen', 'sign', 'reshare', 'resetup'];

/**
 * Everything that fixes a session's inputs, signed by the coordinator (the channel signs
 * broadcasts): every party builds its protocol party from these fields and nothing else, so all
 * parties of a session get identical inputs. Unused fields are empty.
 */
export interface SessionStart {
  readonly op: SessionOp;
  /** The client's request, byte for byte (every node checks its signature itself); empty for a re-setup. */
  readonly request: Uint8Array;
  /** The client id the result is scoped to ('' for none). */
  readonly clientId: string;
  /** 'secp256k1' | 'ed25519' (sign, reshare, re-setup); '' for keygen (both curves). */
  readonly keyType: string;
  readonly walletId: string;
  /** Sign and re-setup: the version used; reshare: the old version. */
  readonly version: number;
  /** Keygen: t; reshare: the new t. */
  readonly threshold: number;
  /** Keygen: the committee; sign: the signers; reshare: the new committee; re-setup: the members. */
  readonly participants: readonly string[];
  /** Reshare: the dealers (holders of the old version). */
  readonly dealers: readonly string[];
  /** Reshare: the old public package (canonical bytes), for members that do not hold the old version. */
  readonly oldPublic: Uint8Array;
  /** Every node that takes part or observes (gets the stored confirmations and the result). */
  readonly members: readonly string[];
}

/** A member's confirmation that new key material is durably stored (pending). */
export interface StoredKey {
  readonly keyType: string;
  readonly version: number;
  readonly publicKey: Uint8Array;
}

export type Control =
  | { readonly type: 'start'; readonly start: SessionStart }
  | { readonly type: 'abort'; readonly reason: string; readonly blame: readonly string[] }
  | { readonly type: 'stored'; readonly keys: readonly StoredKey[] }
  | { readonly type: 'done'; readonly ok: true; readonly outcome: Uint8Array }
  | { readonly type: 'done'; readonly ok: false; readonly code: string; readonly reason: string }
  | { readonly type: 'result'; readonly requestDigest: Uint8Array; readonly result: Uint8Array }
  | { readonly type: 'query'; readonly keyType: string; readonly walletId: string; readonly withPackage: boolean }
  | { readonly type: 'info'; readonly info: WalletView | null }
  | { readonly type: 'hold-query'; readonly keyType: string; readonly walletId: string; readonly version: number }
  | { readonly type: 'hold'; readonly status: HoldStatus; readonly publicKey: Uint8Array };

/** Whether a member holds a share version: not at all, stored pending, or active (retired counts as none). */
export type HoldStatus = 'none' | 'pending' | 'active';
const HOLD: readonly HoldStatus[] = ['none', 'pending', 'active'];

/** What a member says of a wallet's active version (public data only). */
export interface WalletView {
  readonly version: number;
  readonly threshold: number;
  readonly participants: readonly string[];
  /** The group public key as the vault stores it (33-byte compressed secp256k1, 32-byte ed25519). */
  readonly publicKey: Uint8Array;
  /** The public key package (canonical bytes), if asked for; else empty. */
  readonly package: Uint8Array;
}

const TYPES = ['start', 'abort', 'stored', 'done', 'result', 'query', 'info', 'hold-query', 'hold'] as const;

function writeList(w: ByteWriter, list: readonly string[]): void {
  w.u16(list.length);
  for (const s of list) w.str(s);
}

function readList(r: ByteReader): string[] {
  const n = r.u16();
  if (n > MAX_LIST) throw new MalformedError('list too long');
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.str());
  return out;
}

/** Encodes a control message. Throws `InvalidArgumentError` (from the codec) for a field out of range. */
export function encodeControl(c: Control): Uint8Array {
  const w = new ByteWriter().tag(TAG).u8(TYPES.indexOf(c.type));
  switch (c.type) {
    case 'start': {
      const s = c.start;
      w.u8(OPS.indexOf(s.op)).bytes(s.request).str(s.clientId).str(s.keyType).str(s.walletId);
      w.u32(s.version).u16(s.threshold);
      writeList(w, s.participants);
      writeList(w, s.dealers);
      w.bytes(s.oldPublic);
      writeList(w, s.members);
      break;
    }
    case 'abort':
      w.str(c.reason.slice(0, 1000));
      writeList(w, c.blame);
      break;
    case 'stored':
      w.u8(c.keys.length);
      for (const k of c.keys) w.str(k.keyType).u32(k.version).bytes(k.publicKey);
      break;
    case 'done':
      if (c.ok) w.u8(1).bytes(c.outcome);
      else w.u8(0).str(c.code).str(c.reason.slice(0, 1000));
      break;
    case 'result':
      w.raw(c.requestDigest).bytes(c.result);
      break;
    case 'query':
      w.str(c.keyType)
        .str(c.walletId)
        .u8(c.withPackage ? 1 : 0);
      break;
    case 'info':
      if (c.info === null) w.u8(0);
      else {
        w.u8(1).u32(c.info.version).u16(c.info.threshold);
        writeList(w, c.info.participants);
        w.bytes(c.info.publicKey).bytes(c.info.package);
      }
      break;
    case 'hold-query':
      w.str(c.keyType).str(c.walletId).u32(c.version);
      break;
    case 'hold':
      w.u8(HOLD.indexOf(c.status)).bytes(c.publicKey);
      break;
  }
  return w.finish();
}

/** Decodes a control message. Throws `MalformedError` for anything that is not exactly one valid encoding. */
export function decodeControl(bytes: Uint8Array): Control {
  const r = new ByteReader(bytes);
  r.expectTag(TAG);
  const type = TYPES[r.u8()];
  let c: Control;
  switch (type) {
    case 'start': {
      const op = OPS[r.u8()];
      if (op === undefined) throw new MalformedError('unknown session operation');
      const request = r.bytes(MAX_REQUEST);
      const clientId = r.str();
      const keyType = r.str(16);
      const walletId = r.str();
      const version = r.u32();
      const threshold = r.u16();
      const participants = readList(r);
      const dealers = readList(r);
      const oldPublic = r.bytes(MAX_REQUEST);
      const members = readList(r);
      c = {
        type,
        start: {
          op,
          request,
          clientId,
          keyType,
          walletId,
          version,
          threshold,
          participants,
          dealers,
          oldPublic,
          members,
        },
      };
      break;
    }
    case 'abort':
      c = { type, reason: r.str(MAX_TEXT), blame: readList(r) };
      break;
    case 'stored': {
      const n = r.u8();
      const keys: StoredKey[] = [];
      for (let i = 0; i < n; i++) keys.push({ keyType: r.str(16), version: r.u32(), publicKey: r.bytes(128) });
      c = { type, keys };
      break;
    }
    case 'done': {
      const ok = r.u8();
      if (ok === 1) c = { type, ok: true, outcome: r.bytes(4096) };
      else if (ok === 0) c = { type, ok: false, code: r.str(64), reason: r.str(MAX_TEXT) };
      else throw new MalformedError('bad outcome flag');
      break;
    }
    case 'result':
      c = { type, requestDigest: r.raw(32), result: r.bytes(64 * 1024) };
      break;
    case 'query': {
      const keyType = r.str(16);
      const walletId = r.str();
      const flag = r.u8();
      if (flag > 1) throw new MalformedError('bad flag');
      c = { type, keyType, walletId, withPackage: flag === 1 };
      break;
    }
    case 'info': {
      const found = r.u8();
      if (found === 0) c = { type, info: null };
      else if (found === 1)
        c = {
          type,
          info: {
            version: r.u32(),
            threshold: r.u16(),
            participants: readList(r),
            publicKey: r.bytes(64),
            package: r.bytes(MAX_REQUEST),
          },
        };
      else throw new MalformedError('bad flag');
      break;
    }
    case 'hold-query':
      c = { type, keyType: r.str(16), walletId: r.str(), version: r.u32() };
      break;
    case 'hold': {
      const status = HOLD[r.u8()];
      if (status === undefined) throw new MalformedError('bad hold status');
      c = { type, status, publicKey: r.bytes(64) };
      break;
    }
    default:
      throw new MalformedError('unknown control message type');
  }
  r.end();
  return c;
}
