/**
 * The typed error of a channel that could not be set up with a peer, and the internal refusal of
 * an inbound frame.
 */
import { TesseraError } from '../../common/errors.js';

/**
 * A peer's handshake answer was refused (malformed, wrong signature, names another node or cluster,
 * does not answer our hello, a low-order X25519 key). `peer` names the node, `reason` what was
 * wrong; neither holds key material.
 */
export class ChannelError extends TesseraError {
  readonly peer: string;
  readonly reason: string;
  constructor(peer: string, reason: string) {
    super(
      'CHANNEL_REFUSED',
      `the channel with ${peer} could not be set up: ${reason}; ` +
        'check that both nodes share the same peers and identity keys',
    );
    this.peer = peer;
    this.reason = reason;
  }
}

/** @internal An inbound hello, frame or notice is refused; its fields become a `ChannelRejection`. */
export class Refused extends Error {
  constructor(
    readonly reason: string,
    readonly peer?: string,
    readonly sessionId?: string,
    /** The frame decrypted on the peer's channel: the peer itself sent what failed. */
    readonly authenticated = false,
  ) {
    super(reason);
    this.name = 'Refused';
  }
}
