/**
 * What the session layer needs from the channels (declared here, by the consumer): send a message
 * of a session to some members. The message shapes are the channels' own.
 */
import type { ChannelMessage } from '../channels/index.js';

export type { ChannelMessage, InboundMessage } from '../channels/index.js';

/** Sends one message from this node to `recipients` (this node skipped). */
export interface MessageSender {
  /** Rejects with a typed error if a recipient is unknown or unreachable, or the channels are closed. */
  send(msg: ChannelMessage, recipients: readonly string[]): Promise<void>;
}
