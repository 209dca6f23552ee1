/**
 * Authenticated, encrypted node-to-node channels over the transport's `Bus`: signed X25519
 * handshakes, AES-256-GCM frames bound to (channel, session, sender, receiver, kind, round,
 * sequence), signed broadcasts as transferable evidence (docs/node.md, "Channels").
 */

export { Channels } from './channels.js';
export { ChannelError } from './errors.js';
export { verifyBroadcast } from './signed-broadcast.js';
export {
  type ChannelMessage,
  type ChannelRejection,
  type ChannelsOptions,
  type InboundMessage,
  MAX_CHANNEL_PAYLOAD_BYTES,
  MAX_SESSION_ID_BYTES,
} from './types.js';
