/**
 * The record of signing contexts a key share has started — the node's defence against a signing
 * session being run twice with the same inputs (docs/tss.md) [2/F2].
 *
 * Why: every signer's nonce contribution is derived from fresh randomness hedged with its secret
 * share and the signing context. If the randomness repeats (a process or VM resumed from a memory
 * snapshot, a broken RNG) and the *same* context is signed again, the honest signer's nonce
 * repeats while a malicious co-signer changes its own: two signatures with a known nonce
 * difference (ECDSA) or a repeated nonce pair under new binding factors (FROST) give away the key.
 * No hedge can prevent that — the nonce is committed before the peers' values are known — so a
 * signer must refuse to start a context twice. The signing parties call {@link SigningLog.claim}
 * before their first message exists.
 *
 * The same holds *within* a session: a process resumed from a memory snapshot taken mid-session
 * continues the in-memory party with its secrets already drawn, and a co-signer that answers the
 * two timelines differently learns the key from the two sets of secret-dependent messages [4/M-1].
 * So the parties also claim a **step marker** H(context, step) before each step whose messages
 * depend on their secrets (`claimSigningStep`); a second timeline finds the step taken in the
 * durable log and aborts before computing anything. (If the disk is rolled back with the memory, no
 * log can help: docs/tss.md's deployment rule.)
 */

import { taggedHash } from '../math/hash.js';
import { errorCode, ProtocolAbortedError } from './errors.js';

/** Where a signer records the signing contexts it has started. */
export interface SigningLog {
  /**
   * Records the 32-byte `context` of a signing session (or a step marker of one) and returns true,
   * or returns false if it was recorded before. In a node the record must be **durable** (on disk,
   * fsynced) before anything the party computes after the claim leaves the process: either before
   * this returns (the vault's `claimSigningContext`), or — the node's group commit — before the
   * party's returned messages are published (docs/node.md, "Durability rules"). Throws if it cannot
   * record (the signing party then aborts without sending anything).
   */
  claim(context: Uint8Array): boolean;
}

/** A signing party was asked to start a signing context its share had started before. */
export class SigningContextReusedError extends ProtocolAbortedError {
  constructor() {
    super(
      'this key share has already started this signing context (same session id, ' +
        'key version, digest, derivation and signers); retry with a new session id',
    );
  }
}

/**
 * A signing party was asked to take a step of a session that this share had already taken (a
 * process resumed from a snapshot, or a duplicated party).
 */
export class SigningStepReplayedError extends ProtocolAbortedError {
  constructor(step: number) {
    super(
      `this key share already took step ${step} of this signing session (a process resumed from ` +
        `a snapshot, or a second copy of the party); nothing of this step was computed or sent`,
    );
  }
}

/**
 * A {@link SigningLog} in memory: for tests and benchmarks, and for one process's lifetime only —
 * it forgets everything on restart, so a node must use a durable log.
 */
export class MemorySigningLog implements SigningLog {
  private readonly seen = new Set<string>();
  /** Throws `RangeError` on a context that is not 32 bytes. */
  claim(context: Uint8Array): boolean {
    if (!(context instanceof Uint8Array) || context.length !== 32)
      throw new RangeError('a signing context is 32 bytes');
    const k = Buffer.from(context).toString('hex');
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
  /** Number of contexts recorded. Does not throw. */
  get size(): number {
    return this.seen.size;
  }
}

/**
 * Claims `context` in `log` for a signing party. Throws `SigningContextReusedError` if the log
 * says it was started before, `ProtocolAbortedError` (no blame) if the log could not record it.
 */
export function claimSigningContext(log: SigningLog, context: Uint8Array): void {
  if (!claim(log, Uint8Array.from(context), 'signing context')) throw new SigningContextReusedError();
}

/**
 * The 32-byte marker of step `step` (the round whose messages are about to be produced) of the
 * signing session `context`. Does not throw.
 */
export function signingStepMarker(context: Uint8Array, step: number): Uint8Array {
  return taggedHash('sha256', 'tessera/sign/step/v1', context, Uint8Array.of(step));
}

/**
 * Claims the marker of step `step` of the session `context` in `log`, before the step computes
 * anything secret-dependent. Throws `SigningStepReplayedError` if it was claimed before,
 * `ProtocolAbortedError` (no blame) if the log could not record it.
 */
export function claimSigningStep(log: SigningLog, context: Uint8Array, step: number): void {
  if (!claim(log, signingStepMarker(context, step), `step ${step} of the signing session`))
    throw new SigningStepReplayedError(step);
}

/**
 * Where a node records the key-setup contexts (ECDSA DKG, reshare, OT re-setup) its parties have
 * started, and their step markers — node-wide, since a DKG has no key share yet (the vault's
 * `claimSetupContext`). Same contract as {@link SigningLog}: durable before `claim` returns.
 *
 * Why: the setup's randomness is hedged with its context (`setupRng`), so another context draws
 * independent secrets; but within one context a party answers its peer's messages with secrets it
 * fixed before (the base-OT receiver's answer to the challenge ξ is H2(ρ_i) ⊕ Δ_i·ξ_i: two
 * different ξ answered from one state reveal Δ, hence the party's OT-extension sender state and,
 * through its multiplications, its key share). A setup context must therefore run once, and each
 * answering step once, exactly like a signing session [5/R-D].
 */
export type SetupLog = SigningLog;

/** A setup party was asked to start a setup context this node had started before. */
export class SetupContextReusedError extends ProtocolAbortedError {
  constructor() {
    super(
      'this node has already started this key-setup session (same session id and inputs); retry with a new session id',
    );
  }
}

/** A setup party was asked to take a step of a setup session that this node had already taken. */
export class SetupStepReplayedError extends ProtocolAbortedError {
  constructor(step: number) {
    super(
      `this node already took step ${step} of this key-setup session (a process resumed from a snapshot, or ` +
        `a second copy of the party); nothing of this step was computed or sent — retry with a new session id`,
    );
  }
}

/**
 * Claims the setup `context` in `log` before the party draws any secret. Throws
 * `SetupContextReusedError` if it was claimed before, `ProtocolAbortedError` (no blame) if the
 * log could not record it.
 */
export function claimSetupContext(log: SetupLog, context: Uint8Array): void {
  if (!claim(log, Uint8Array.from(context), 'key-setup context')) throw new SetupContextReusedError();
}

/**
 * The 32-byte marker of step `step` of the setup session `context` (distinct from every signing
 * marker). Does not throw.
 */
export function setupStepMarker(context: Uint8Array, step: number): Uint8Array {
  return taggedHash('sha256', 'tessera/setup/step/v1', context, Uint8Array.of(step));
}

/**
 * Claims the marker of step `step` of the setup `context` before the step answers a peer's message
 * with secret-dependent data. Throws `SetupStepReplayedError` if claimed before,
 * `ProtocolAbortedError` (no blame) if the log could not record it.
 */
export function claimSetupStep(log: SetupLog, context: Uint8Array, step: number): void {
  if (!claim(log, setupStepMarker(context, step), `step ${step} of the key-setup session`))
    throw new SetupStepReplayedError(step);
}

function claim(log: SigningLog, marker: Uint8Array, what: string): boolean {
  let fresh: boolean;
  try {
    fresh = log.claim(marker);
  } catch (e) {
    throw new ProtocolAbortedError(
      `the ${what} could not be recorded (${errorCode(e)}); ` +
        `nothing was sent — check the vault and retry with a new session id`,
    );
  }
  return fresh === true;
}
