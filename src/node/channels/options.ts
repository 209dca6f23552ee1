/**
 * Validation of what callers hand to `Channels`: its options (once) and each message to send.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../../common/errors.js';
import { secureRandomBytes } from '../../common/random.js';
import { checkPublishSubject } from '../../transport/index.js';
import { ed25519PublicKey } from '../crypto/ed25519.js';
import type { HandshakeContext } from './handshake.js';
import {
  type ChannelMessage,
  type ChannelsOptions,
  MAX_CHANNEL_PAYLOAD_BYTES,
  MAX_NODE_ID_BYTES,
  MAX_SESSION_ID_BYTES,
} from './types.js';
import { EPOCH_BYTES } from './wire.js';

const NODE_ID_RE = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_NODE_ID_BYTES}}$`);
/** Longest subject prefix (bytes): the wire allows 256 for the cluster name, subjects add the rest. */
const MAX_PREFIX_BYTES = 200;

/** The checked options. */
export interface ResolvedOptions {
  readonly ctx: HandshakeContext;
  /** Every member but self → its Ed25519 public key. */
  readonly peerKeys: ReadonlyMap<string, KeyObject>;
  readonly timeoutMs: number;
  readonly maxPending: number;
  readonly maxTracked: number;
}

/**
 * Checks `opts` (no I/O). Throws `InvalidArgumentError`: a node id that is not 1–128 of
 * `A-Z a-z 0-9 _ -`, an identity key that is not an Ed25519 private key, a peer key that is not 32
 * bytes of an Ed25519 key, self listed with another key, a bad subject prefix, timeout, bound or
 * boot epoch.
 */
export function resolveOptions(opts: ChannelsOptions): ResolvedOptions {
  if (typeof opts.self !== 'string' || !NODE_ID_RE.test(opts.self))
    throw new InvalidArgumentError("a node id is 1-128 letters, digits, '_' or '-'");
  const k = opts.identityKey;
  if (k?.type !== 'private' || k.asymmetricKeyType !== 'ed25519')
    throw new InvalidArgumentError('identityKey must be an Ed25519 private key');
  if (typeof opts.subjectPrefix !== 'string' || Buffer.byteLength(opts.subjectPrefix) > MAX_PREFIX_BYTES)
    throw new InvalidArgumentError(`subjectPrefix must be a subject of at most ${MAX_PREFIX_BYTES} bytes`);
  checkPublishSubject(`${opts.subjectPrefix}.node.${opts.self}.msg`);
  const timeoutMs = opts.handshakeTimeoutMs ?? 5000;
  const maxPending = opts.maxPendingSends ?? 10_000;
  const maxTracked = opts.maxTrackedSessions ?? 10_000;
  for (const [name, v] of [
    ['handshakeTimeoutMs', timeoutMs],
    ['maxPendingSends', maxPending],
    ['maxTrackedSessions', maxTracked],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  }
  const epoch = opts.bootEpoch ?? secureRandomBytes(EPOCH_BYTES);
  if (!(epoch instanceof Uint8Array) || epoch.length !== EPOCH_BYTES)
    throw new InvalidArgumentError(`bootEpoch must be ${EPOCH_BYTES} bytes`);
  const ownPublic = Buffer.from(createPublicKey(k).export({ format: 'jwk' }).x!, 'base64url');
  const peerKeys = new Map<string, KeyObject>();
  for (const [id, raw] of opts.peers) {
    if (typeof id !== 'string' || !NODE_ID_RE.test(id))
      throw new InvalidArgumentError("a peer's node id is 1-128 letters, digits, '_' or '-'");
    if (!(raw instanceof Uint8Array) || raw.length !== 32)
      throw new InvalidArgumentError(`the public key of ${id} must be 32 bytes`);
    if (id === opts.self) {
      if (!ownPublic.equals(raw)) throw new InvalidArgumentError('peers lists this node with another public key');
      continue;
    }
    try {
      peerKeys.set(id, ed25519PublicKey(raw));
    } catch {
      throw new InvalidArgumentError(`the public key of ${id} is not an Ed25519 key`);
    }
  }
  return {
    ctx: { cluster: opts.subjectPrefix, self: opts.self, epoch: Uint8Array.from(epoch), identityKey: k },
    peerKeys,
    timeoutMs,
    maxPending,
    maxTracked,
  };
}

/** Checks a message to send. Throws `InvalidArgumentError` naming the bad field. */
export function checkMessage(msg: ChannelMessage): void {
  const s = msg.sessionId;
  if (typeof s !== 'string' || !s.isWellFormed() || Buffer.byteLength(s) > MAX_SESSION_ID_BYTES)
    throw new InvalidArgumentError(`sessionId must be well-formed Unicode of at most ${MAX_SESSION_ID_BYTES} bytes`);
  if (!Number.isInteger(msg.kind) || msg.kind < 0 || msg.kind > 0xff)
    throw new InvalidArgumentError('kind must be an integer in 0..255');
  if (!Number.isInteger(msg.round) || msg.round < 0 || msg.round > 0xffff)
    throw new InvalidArgumentError('round must be an integer in 0..65535');
  if (!(msg.payload instanceof Uint8Array) || msg.payload.length > MAX_CHANNEL_PAYLOAD_BYTES)
    throw new InvalidArgumentError(`payload must be at most ${MAX_CHANNEL_PAYLOAD_BYTES} bytes`);
  if (msg.to !== null && typeof msg.to !== 'string') throw new InvalidArgumentError('to must be a node id or null');
}
