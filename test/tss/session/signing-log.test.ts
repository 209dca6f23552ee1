import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { EcdsaSignParty } from '../../../src/tss/ecdsa/sign.js';
import { FrostSignParty } from '../../../src/tss/frost/sign.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { ProtocolAbortedError } from '../../../src/tss/session/errors.js';
import {
  MemorySigningLog,
  SigningContextReusedError,
  type SigningLog,
  SigningStepReplayedError,
  signingStepMarker,
} from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, frostDkg, names } from '../../helpers/protocol-runs.js';
import { sha256 } from '../ecdsa/protocol-helpers.js';

const ecdsaShares = ecdsaDkg(names(3), 1, { seed: 'signing-log' });

function ecdsaParty(
  log: SigningLog,
  over: { sessionId?: string; digest?: Uint8Array; signers?: string[] } = {},
): EcdsaSignParty {
  const signers = over.signers ?? ['node-1', 'node-2'];
  return new EcdsaSignParty({
    sessionId: over.sessionId ?? 's',
    self: 'node-1',
    signers,
    keyShare: ecdsaShares.get('node-1')!,
    digest: over.digest ?? sha256(Uint8Array.of(1)),
    signingLog: log,
    rng: seededRng('x'),
  });
}

describe('the signing log refuses a signing context or step claimed before [2/F2]', () => {
  it('an ECDSA signer refuses to start a signing context it started before, before any message exists', () => {
    const log = new MemorySigningLog();
    expect(ecdsaParty(log).start().length).toBeGreaterThan(0);
    const again = ecdsaParty(log);
    expect(() => again.start()).toThrow(SigningContextReusedError);
    expect(again.status).toBe('aborted');
    expect(again.abortError).toBeInstanceOf(ProtocolAbortedError);
    expect(again.abortError!.outbound).toHaveLength(0);
    expect(again.abortError!.blame).toEqual([]);
  });

  it('contexts differing in session id, digest or signer set are distinct entries', () => {
    const log = new MemorySigningLog();
    ecdsaParty(log).start();
    ecdsaParty(log, { sessionId: 's2' }).start();
    ecdsaParty(log, { digest: sha256(Uint8Array.of(2)) }).start();
    ecdsaParty(log, { signers: ['node-1', 'node-3'] }).start();
    ecdsaParty(log, { signers: ['node-2', 'node-1'] }).start();
    expect(log.size).toBe(5);
  });

  it("the log records the party's signing context (32 bytes), which the node can use as the request's identity", () => {
    const seen: Uint8Array[] = [];
    const p = ecdsaParty({
      claim: (c) => {
        seen.push(Uint8Array.from(c));
        return true;
      },
    });
    p.start();
    expect(seen).toHaveLength(1);
    expect(Buffer.from(seen[0]!).equals(Buffer.from(p.context))).toBe(true);
  });

  it('a log that cannot record aborts the signer without a message and names no one', () => {
    const p = ecdsaParty({
      claim: () => {
        throw Object.assign(new Error('disk full'), { code: 'IO_ERROR' });
      },
    });
    expect(() => p.start()).toThrow(ProtocolAbortedError);
    expect(p.abortError).not.toBeInstanceOf(SigningContextReusedError);
    expect(p.abortError!.message).toContain('IO_ERROR');
    expect(p.abortError!.message).not.toContain('disk full');
    expect(p.abortError!.outbound).toHaveLength(0);
  });

  it('a log answering anything but true counts as a refusal', () => {
    for (const answer of [false, undefined, 1, 'yes']) {
      const p = ecdsaParty({ claim: () => answer as unknown as boolean });
      expect(() => p.start()).toThrow(SigningContextReusedError);
    }
  });

  it('a signer cannot be built without a signing log', () => {
    expect(() => ecdsaParty(undefined as unknown as SigningLog)).toThrow(InvalidArgumentError);
    const shares = frostDkg(['a', 'b', 'c'], 1, { seed: 'signing-log' });
    expect(
      () =>
        new FrostSignParty({
          sessionId: 's',
          self: 'a',
          signers: ['a', 'b'],
          keyShare: shares.get('a')!,
          message: Uint8Array.of(1),
          signingLog: {} as SigningLog,
        }),
    ).toThrow(InvalidArgumentError);
  });

  it('a FROST signer refuses to start a signing context it started before', () => {
    const shares = frostDkg(['a', 'b', 'c'], 1, { seed: 'signing-log' });
    const log = new MemorySigningLog();
    const make = (message: Uint8Array) =>
      new FrostSignParty({
        sessionId: 's',
        self: 'a',
        signers: ['a', 'b'],
        keyShare: shares.get('a')!,
        message,
        signingLog: log,
        rng: seededRng('y'),
      });
    make(Uint8Array.of(1)).start();
    const again = make(Uint8Array.of(1));
    expect(() => again.start()).toThrow(SigningContextReusedError);
    expect(again.abortError!.outbound).toHaveLength(0);
    make(Uint8Array.of(2)).start();
    expect(log.size).toBe(2);
  });

  it('a FROST signer resumed after its commitments (the durable log already holds its step 2) refuses to compute a second signature share', () => {
    const shares = frostDkg(['a', 'b', 'c'], 1, { seed: 'signing-log-step' });
    const durable = new MemorySigningLog();
    const make = (self: string, log: SigningLog) =>
      new FrostSignParty({
        sessionId: 's',
        self,
        signers: ['a', 'b'],
        keyShare: shares.get(self)!,
        message: Uint8Array.of(1),
        signingLog: log,
        rng: seededRng(self),
      });
    const b = make('b', new MemorySigningLog());
    const fromB = b.start();
    const a1 = make('a', durable);
    a1.start();
    expect(a1.receive(fromB[0]!, 'b').length).toBeGreaterThan(0); // z_a sent: step 2 taken
    let resumed = false;
    const a2 = make('a', { claim: (c) => (resumed ? durable.claim(c) : true) });
    a2.start();
    resumed = true;
    expect(() => a2.receive(fromB[0]!, 'b')).toThrow(SigningStepReplayedError);
    expect(a2.abortError!.outbound).toHaveLength(0);
  });

  it('step markers are distinct from the context and from each other', () => {
    const c = sha256(Uint8Array.of(9));
    const marks = [
      c,
      signingStepMarker(c, 2),
      signingStepMarker(c, 3),
      signingStepMarker(sha256(Uint8Array.of(8)), 2),
    ].map((x) => Buffer.from(x).toString('hex'));
    expect(new Set(marks).size).toBe(4);
  });

  it('the in-memory log refuses contexts that are not 32 bytes', () => {
    expect(() => new MemorySigningLog().claim(new Uint8Array(31))).toThrow(RangeError);
  });
});
