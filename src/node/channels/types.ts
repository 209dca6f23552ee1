/**
 * The public shapes of node-to-node channels (see `channels.ts`) and the limits every frame obeys.
 */
import type { KeyObject } from 'node:crypto';
import type { Bus } from '../../transport/index.js';

/** What the session manager hands to {@link Channels.send}. */
export interface ChannelMessage {
  /** At most {@link MAX_SESSION_ID_BYTES} UTF-8 bytes, well-formed Unicode. */
  readonly sessionId: string;
  /** u8: what the session manager carries (1 = tss protocol message, 2 = control, …). */
  readonly kind: number;
  /** u16. */
  readonly round: number;
  /** The receiving node's id for a direct message; `null` for a broadcast to the send's `recipients`. */
  readonly to: string | null;
  /** At most {@link MAX_CHANNEL_PAYLOAD_BYTES}. */
  readonly payload: Uint8Array;
}

/** A verified inbound message. */
export interface InboundMessage extends ChannelMessage {
  /** The authenticated sender: the peer of the channel the frame decrypted on, never a field of the payload. */
  readonly from: string;
  /** Broadcasts only: the sender's Ed25519 signature, transferable evidence (check it with `verifyBroadcast`). */
  readonly signature?: Uint8Array;
}

/** An inbound frame or handshake that was refused, and why (never secret material). */
export interface ChannelRejection {
  /**
   * The authenticated peer when the frame arrived on a known channel; otherwise the member it claims
   * to come from (unauthenticated), or `undefined` if it names none.
   */
  readonly peer: string | undefined;
  readonly sessionId: string | undefined;
  readonly reason: string;
  /**
   * True only when the frame decrypted on the peer's channel and failed a later check (broadcast
   * signature, session sequence, size): the peer sent it. Anything else may come from anyone on
   * the bus and proves nothing about the peer named.
   */
  readonly authenticated: boolean;
}

export interface ChannelsOptions {
  /** This node's id: 1–128 of `A-Z a-z 0-9 _ -` (it is a subject token). */
  readonly self: string;
  /** This node's Ed25519 private key. */
  readonly identityKey: KeyObject;
  /** Node id → 32-byte Ed25519 public key of every member (may include self). */
  readonly peers: ReadonlyMap<string, Uint8Array>;
  readonly bus: Bus;
  /** E.g. `tessera.cluster1`; this node listens on `${prefix}.node.${self}.{hs,msg,rekey}`. */
  readonly subjectPrefix: string;
  /** How long a handshake waits for the peer's reply (default 5000). */
  readonly handshakeTimeoutMs?: number;
  /** Bound of the messages queued while handshakes run, all peers together (default 10 000). */
  readonly maxPendingSends?: number;
  /** Bound of the (peer, session) sequence counters kept per direction (default 10 000; least recently used go). */
  readonly maxTrackedSessions?: number;
  /** This process's boot epoch (16 bytes); default: fresh random bytes per instance. */
  readonly bootEpoch?: Uint8Array;
}

/** Upper bound on a session id (UTF-8 bytes). */
export const MAX_SESSION_ID_BYTES = 256;
/** Upper bound on a node id (bytes); ids are subject tokens. */
export const MAX_NODE_ID_BYTES = 128;
/** Upper bound on a payload: 1 MiB (the tss message payload limit) plus room for its envelope. */
export const MAX_CHANNEL_PAYLOAD_BYTES = (1 << 20) + 4096;
