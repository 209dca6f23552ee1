/**
 * The channel handshake: one request/reply on the bus, each side contributing a fresh ephemeral
 * X25519 key and its boot epoch, each message Ed25519-signed over a domain-separated encoding that
 * names the cluster and both node ids; the reply binds the initiator's hello by its hash.
 *
 * Key schedule (docs/node.md, "Channels"):
 *   shared     = X25519(own ephemeral, peer ephemeral)              (all-zero result refused)
 *   transcript = SHA-256(TAG_TRANSCRIPT ‖ bytes(hello) ‖ bytes(reply body))
 *   okm        = HKDF-SHA256(ikm = shared, salt = transcript, info = TAG_KEYS ‖ cluster ‖ initiator ‖ responder, 80)
 *   initiator → responder key = okm[0..32), responder → initiator key = okm[32..64), channel id = okm[64..80)
 * Pure functions: no bus, no state beyond the returned values.
 */
import {
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { ByteWriter, constantTimeEqual } from '../../common/bytes.js';
import { ChannelError, Refused } from './errors.js';
import { verifyEd25519 } from './signed-broadcast.js';
import { decodeHello, type Hello, helloBody, type SignedHello, withSignature, X25519_BYTES } from './wire.js';

export const TAG_TRANSCRIPT = 'tessera/node/channels/transcript/v1';
export const TAG_KEYS = 'tessera/node/channels/keys/v1';

/** Who this node is, for the handshake. */
export interface HandshakeContext {
  readonly cluster: string;
  readonly self: string;
  readonly epoch: Uint8Array;
  readonly identityKey: KeyObject;
}

/** The keys of a new channel, from this node's side. The caller owns (and wipes) the key buffers. */
export interface ChannelKeys {
  readonly channelId: Uint8Array;
  readonly peer: string;
  readonly peerEpoch: Uint8Array;
  readonly initiator: boolean;
  readonly sendKey: Buffer;
  readonly recvKey: Buffer;
}

/** An initiator's hello on its way, with the ephemeral private key that finishes it. */
export interface PendingHello {
  readonly peer: string;
  readonly bytes: Uint8Array;
  readonly privateKey: KeyObject;
}

function ephemeral(): { privateKey: KeyObject; publicRaw: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicRaw: new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')) };
}

/**
 * X25519 with the peer's raw public key. Throws `Refused` for a key OpenSSL will not use or one
 * whose shared secret is all zeros (a low-order point: the "secret" would be public).
 */
function x25519(privateKey: KeyObject, peerRaw: Uint8Array): Buffer {
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peerRaw).toString('base64url') },
      format: 'jwk',
    });
    shared = diffieHellman({ privateKey, publicKey });
  } catch {
    throw new Refused('low-order or invalid X25519 key');
  }
  if (shared.length !== X25519_BYTES || constantTimeEqual(shared, new Uint8Array(X25519_BYTES))) {
    shared.fill(0);
    throw new Refused('low-order or invalid X25519 key');
  }
  return shared;
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Derives both directions' keys and the channel id; wipes `shared`. */
function deriveKeys(
  shared: Buffer,
  hello: Uint8Array,
  replyBody: Uint8Array,
  cluster: string,
  initiator: string,
  responder: string,
): { i2r: Buffer; r2i: Buffer; channelId: Uint8Array } {
  let okm: Buffer;
  try {
    const transcript = sha256(new ByteWriter().tag(TAG_TRANSCRIPT).bytes(hello).bytes(replyBody).finish());
    const info = new ByteWriter().tag(TAG_KEYS).str(cluster).str(initiator).str(responder).finish();
    okm = Buffer.from(hkdfSync('sha256', shared, transcript, info, 80));
  } finally {
    shared.fill(0);
  }
  const i2r = Buffer.alloc(32);
  const r2i = Buffer.alloc(32);
  okm.copy(i2r, 0, 0, 32);
  okm.copy(r2i, 0, 32, 64);
  const channelId = Uint8Array.from(okm.subarray(64, 80));
  okm.fill(0);
  return { i2r, r2i, channelId };
}

/** A fresh hello to `peer`. Throws `InvalidArgumentError` if an id is not encodable. */
export function createHello(ctx: HandshakeContext, peer: string): PendingHello {
  const eph = ephemeral();
  const h: Hello = {
    cluster: ctx.cluster,
    sender: ctx.self,
    receiver: peer,
    epoch: ctx.epoch,
    ephemeral: eph.publicRaw,
  };
  const body = helloBody(h);
  return { peer, bytes: withSignature(body, signEd25519(ctx.identityKey, body)), privateKey: eph.privateKey };
}

function signEd25519(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, key));
}

/**
 * Checks a decoded hello's names before any cryptography: this cluster, addressed to this node,
 * not from this node. Throws `Refused`.
 */
export function checkHelloNames(ctx: HandshakeContext, h: SignedHello): void {
  if (h.cluster !== ctx.cluster) throw new Refused('hello for another cluster');
  if (h.receiver !== ctx.self) throw new Refused('hello addressed to another node');
  if (h.sender === ctx.self) throw new Refused('hello claims to come from this node');
}

/**
 * The responder's side: verifies `hello` (decoded from `helloBytes`, names checked) with the
 * claimed sender's key, asks `admit` (the rate limit: only validly signed hellos spend it), answers
 * with a fresh ephemeral key and derives the channel. Throws `Refused` (wrong signature, not
 * admitted, low-order key).
 */
export function answerHello(
  ctx: HandshakeContext,
  hello: SignedHello,
  helloBytes: Uint8Array,
  peerKey: KeyObject,
  admit: () => boolean = () => true,
): { reply: Uint8Array; keys: ChannelKeys } {
  if (!verifyEd25519(peerKey, hello.body, hello.signature)) throw new Refused('hello signature does not verify');
  if (!admit()) throw new Refused('too many handshakes from this peer; hello dropped');
  const eph = ephemeral();
  const replyBody = helloBody({
    cluster: ctx.cluster,
    sender: ctx.self,
    receiver: hello.sender,
    epoch: ctx.epoch,
    ephemeral: eph.publicRaw,
    helloHash: sha256(helloBytes),
  });
  const reply = withSignature(replyBody, signEd25519(ctx.identityKey, replyBody));
  const shared = x25519(eph.privateKey, hello.ephemeral);
  const { i2r, r2i, channelId } = deriveKeys(shared, helloBytes, replyBody, ctx.cluster, hello.sender, ctx.self);
  return {
    reply,
    keys: { channelId, peer: hello.sender, peerEpoch: hello.epoch, initiator: false, sendKey: r2i, recvKey: i2r },
  };
}

/**
 * The initiator's side: checks the reply (this cluster, from the peer to this node, answering our
 * hello, signed by the peer) and derives the channel. Throws `ChannelError` naming what was wrong.
 */
export function finishHello(
  ctx: HandshakeContext,
  pending: PendingHello,
  replyBytes: Uint8Array,
  peerKey: KeyObject,
): ChannelKeys {
  let reply: SignedHello;
  try {
    reply = decodeHello(replyBytes, true);
  } catch {
    throw new ChannelError(pending.peer, 'malformed handshake reply');
  }
  if (reply.cluster !== ctx.cluster) throw new ChannelError(pending.peer, 'reply for another cluster');
  if (reply.sender !== pending.peer || reply.receiver !== ctx.self)
    throw new ChannelError(pending.peer, 'reply names other nodes');
  if (!constantTimeEqual(reply.helloHash!, sha256(pending.bytes)))
    throw new ChannelError(pending.peer, 'reply does not answer this hello');
  if (!verifyEd25519(peerKey, reply.body, reply.signature))
    throw new ChannelError(pending.peer, 'reply signature does not verify');
  let shared: Buffer;
  try {
    shared = x25519(pending.privateKey, reply.ephemeral);
  } catch (e) {
    throw new ChannelError(pending.peer, e instanceof Refused ? e.reason : 'X25519 failed');
  }
  const { i2r, r2i, channelId } = deriveKeys(shared, pending.bytes, reply.body, ctx.cluster, ctx.self, pending.peer);
  return { channelId, peer: pending.peer, peerEpoch: reply.epoch, initiator: true, sendKey: i2r, recvKey: r2i };
}
