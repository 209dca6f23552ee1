/**
 * What the session layer needs from the channels (declared here, by the consumer): send a message
 * of a session to some members, and the shape of what arrives. `channels/` implements it.
 */

/** A message of a session, as the channels carry it. */
export interface ChannelMessage {
  readonly sessionId: string;
  /** `KIND_TSS` or `KIND_CONTROL` (sessions/control.ts). */
  readonly kind: number;
  readonly round: number;
  /** null: a broadcast (signed by the sender). */
  readonly to: string | null;
  readonly payload: Uint8Array;
}

/** A message as it arrives: `from` is the channel-authenticated sender. */
export interface InboundMessage extends ChannelMessage {
  readonly from: string;
  /** A broadcast's Ed25519 signature by its sender (evidence for others). */
  readonly signature?: Uint8Array;
}

/** Sends one message from this node to `recipients` (this node skipped). */
export interface MessageSender {
  /** Rejects with a typed error if a recipient is unknown or unreachable, or the channels are closed. */
  send(msg: ChannelMessage, recipients: readonly string[]): Promise<void>;
}
