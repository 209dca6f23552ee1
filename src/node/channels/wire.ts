/**
 * The wire encodings of node-to-node channels (docs/node.md, "Channels"), all with the canonical
 * codec: each starts with its own domain tag, ids are u32-length-prefixed UTF-8, integers big-endian.
 *
 *   hello  = TAG_HELLO ‖ cluster ‖ initiator ‖ responder ‖ epoch[16] ‖ x25519[32] ‖ sig[64]
 *   reply  = TAG_REPLY ‖ cluster ‖ responder ‖ initiator ‖ epoch[16] ‖ x25519[32] ‖ SHA-256(hello)[32] ‖ sig[64]
 *   data   = TAG_DATA ‖ channelId[16] ‖ from ‖ to ‖ sessionId ‖ kind u8 ‖ round u16 ‖ mode u8 ‖ seq u32
 *            ‖ counter u32 ‖ sealed (u32 length ‖ AES-256-GCM ciphertext ‖ tag[16])
 *   rekey  = TAG_REKEY ‖ cluster ‖ from ‖ to ‖ channelId[16] ‖ sig[64]
 * Each signature covers every byte before it; a data frame's AAD is every byte before `sealed`.
 * Decoding is strict (`ByteReader`, trailing bytes refused): a malformed input is a `MalformedError`.
 */
import { ByteReader, ByteWriter, MalformedError } from '../../common/bytes.js';
import { MAX_CHANNEL_PAYLOAD_BYTES, MAX_NODE_ID_BYTES, MAX_SESSION_ID_BYTES } from './types.js';

export const TAG_HELLO = 'tessera/node/channels/hello/v1';
export const TAG_REPLY = 'tessera/node/channels/reply/v1';
export const TAG_DATA = 'tessera/node/channels/data/v1';
export const TAG_REKEY = 'tessera/node/channels/rekey/v1';

export const EPOCH_BYTES = 16;
export const X25519_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const CHANNEL_ID_BYTES = 16;
export const GCM_TAG_BYTES = 16;
const HASH_BYTES = 32;
/** Longest prefix a subject may have (bytes). */
const MAX_CLUSTER_BYTES = 256;

/** A data frame's payload is the message's own bytes (0) or a signed broadcast: signature[64] ‖ payload (1). */
export const MODE_DIRECT = 0;
export const MODE_BROADCAST = 1;
/** The largest sealed field: a broadcast's plaintext plus the GCM tag. */
const MAX_SEALED_BYTES = MAX_CHANNEL_PAYLOAD_BYTES + SIGNATURE_BYTES + GCM_TAG_BYTES;

/** One side's signed hello (`TAG_HELLO`) or reply (`TAG_REPLY`; `helloHash` set). */
export interface Hello {
  readonly cluster: string;
  /** The node that signed it. */
  readonly sender: string;
  /** The node it is addressed to. */
  readonly receiver: string;
  readonly epoch: Uint8Array;
  readonly ephemeral: Uint8Array;
  /** Replies only: SHA-256 of the whole hello they answer. */
  readonly helloHash?: Uint8Array;
}

/** The bytes a hello or reply signs: the encoding without its signature. Throws `InvalidArgumentError` on a bad field. */
export function helloBody(h: Hello): Uint8Array {
  const w = new ByteWriter().tag(h.helloHash === undefined ? TAG_HELLO : TAG_REPLY);
  w.str(h.cluster).str(h.sender).str(h.receiver).raw(h.epoch).raw(h.ephemeral);
  if (h.helloHash !== undefined) w.raw(h.helloHash);
  return w.finish();
}

/** A decoded hello or reply, with the bytes its signature covers. */
export interface SignedHello extends Hello {
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** Decodes a hello (`reply` false) or a reply. Throws `MalformedError` on anything else. */
export function decodeHello(bytes: Uint8Array, reply: boolean): SignedHello {
  const r = new ByteReader(bytes);
  r.expectTag(reply ? TAG_REPLY : TAG_HELLO);
  const cluster = r.str(MAX_CLUSTER_BYTES);
  const sender = r.str(MAX_NODE_ID_BYTES);
  const receiver = r.str(MAX_NODE_ID_BYTES);
  const epoch = r.raw(EPOCH_BYTES);
  const ephemeral = r.raw(X25519_BYTES);
  const helloHash = reply ? r.raw(HASH_BYTES) : undefined;
  const body = bytes.slice(0, r.offset);
  const signature = r.raw(SIGNATURE_BYTES);
  r.end();
  return { cluster, sender, receiver, epoch, ephemeral, ...(helloHash ? { helloHash } : {}), body, signature };
}

/** The header of a data frame (everything the AAD binds). */
export interface DataHeader {
  readonly channelId: Uint8Array;
  readonly from: string;
  readonly to: string;
  readonly sessionId: string;
  readonly kind: number;
  readonly round: number;
  readonly mode: number;
  /** Per-(session, sender → receiver) sequence number, from 0. */
  readonly seq: number;
  /** Per-channel-direction message counter, from 1: the GCM nonce. */
  readonly counter: number;
}

/** The header's encoding, which is also the frame's AAD. Throws `InvalidArgumentError` on an out-of-range field. */
export function encodeDataHeader(h: DataHeader): Uint8Array {
  return new ByteWriter()
    .tag(TAG_DATA)
    .raw(h.channelId)
    .str(h.from)
    .str(h.to)
    .str(h.sessionId)
    .u8(h.kind)
    .u16(h.round)
    .u8(h.mode)
    .u32(h.seq)
    .u32(h.counter)
    .finish();
}

/** A data frame: its header encoding (the AAD) followed by the sealed plaintext. Throws as `ByteWriter` does. */
export function encodeDataFrame(aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  return new ByteWriter(aad.length + sealed.length + 8).raw(aad).bytes(sealed).finish();
}

/** A decoded data frame; `aad` and `sealed` are views of the input. */
export interface DataFrame extends DataHeader {
  readonly aad: Uint8Array;
  readonly sealed: Uint8Array;
}

/** Decodes a data frame. Throws `MalformedError` on anything that is not a canonical frame. */
export function decodeDataFrame(bytes: Uint8Array): DataFrame {
  const r = new ByteReader(bytes);
  r.expectTag(TAG_DATA);
  const channelId = r.raw(CHANNEL_ID_BYTES);
  const from = r.str(MAX_NODE_ID_BYTES);
  const to = r.str(MAX_NODE_ID_BYTES);
  const sessionId = r.str(MAX_SESSION_ID_BYTES);
  const kind = r.u8();
  const round = r.u16();
  const mode = r.u8();
  if (mode !== MODE_DIRECT && mode !== MODE_BROADCAST) throw new MalformedError('unknown data frame mode');
  const seq = r.u32();
  const counter = r.u32();
  const aad = bytes.subarray(0, r.offset);
  const sealed = r.bytesView(MAX_SEALED_BYTES);
  if (sealed.length < GCM_TAG_BYTES) throw new MalformedError('sealed field shorter than its tag');
  r.end();
  return { channelId, from, to, sessionId, kind, round, mode, seq, counter, aad, sealed };
}

/** A rekey notice: "I hold no channel `channelId` with you". */
export interface RekeyNotice {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly channelId: Uint8Array;
}

/** The bytes a rekey notice signs. Throws `InvalidArgumentError` on a bad field. */
export function rekeyBody(n: RekeyNotice): Uint8Array {
  return new ByteWriter().tag(TAG_REKEY).str(n.cluster).str(n.from).str(n.to).raw(n.channelId).finish();
}

/** Decodes a rekey notice. Throws `MalformedError` on anything else. */
export function decodeRekey(bytes: Uint8Array): RekeyNotice & { body: Uint8Array; signature: Uint8Array } {
  const r = new ByteReader(bytes);
  r.expectTag(TAG_REKEY);
  const cluster = r.str(MAX_CLUSTER_BYTES);
  const from = r.str(MAX_NODE_ID_BYTES);
  const to = r.str(MAX_NODE_ID_BYTES);
  const channelId = r.raw(CHANNEL_ID_BYTES);
  const body = bytes.slice(0, r.offset);
  const signature = r.raw(SIGNATURE_BYTES);
  r.end();
  return { cluster, from, to, channelId, body, signature };
}

/** A signed item: its body followed by the 64-byte signature. Does not throw. */
export function withSignature(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return new ByteWriter(body.length + signature.length).raw(body).raw(signature).finish();
}
