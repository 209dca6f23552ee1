import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import { FrostDkgParty } from '../../../src/tss/frost/dkg.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { ProtocolAbortedError } from '../../../src/tss/session/errors.js';
import { encodeMessage, type Message } from '../../../src/tss/session/message.js';
import { runParties } from '../../../src/tss/session/runner.js';

const P = ['n1', 'n2', 'n3'];
const mk = (self: string, sessionId = 'sess') =>
  new FrostDkgParty({ sessionId, self, participants: P, threshold: 1, rng: seededRng(self) });

/** Starts all three parties and returns them with their first-round messages. */
function started() {
  const parties = P.map((p) => mk(p));
  const r1 = parties.map((p) => p.start());
  return { parties, r1: r1.map((m) => m[0]!) };
}

function abortOf(fn: () => unknown): ProtocolAbortedError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolAbortedError);
    return e as ProtocolAbortedError;
  }
  throw new Error('expected an abort');
}

describe('the round state machine enforces the envelope rules', () => {
  it('a message from a sender outside the participant set aborts blaming that sender', () => {
    const { parties, r1 } = started();
    const e = abortOf(() => parties[0]!.receive({ ...r1[1]!, from: 'stranger' }));
    expect(e.blame).toEqual(['stranger']);
    expect(e.reason).toMatch(/unknown sender/);
  });

  it('a message of another session aborts blaming its sender', () => {
    const { parties, r1 } = started();
    const e = abortOf(() => parties[0]!.receive({ ...r1[1]!, sessionId: 'other' }, 'n2'));
    expect(e.blame).toEqual(['n2']);
  });

  it('a message for a round that is over or does not exist aborts blaming its sender', () => {
    for (const round of [0, 4, 9]) {
      const { parties, r1 } = started();
      const e = abortOf(() => parties[0]!.receive({ ...r1[1]!, round }));
      expect(e.blame).toEqual(['n2']);
      expect(e.reason).toMatch(/wrong round/);
    }
  });

  it('an exact duplicate of a round message is ignored (no abort), also after its round was processed', () => {
    const { parties, r1 } = started();
    expect(parties[0]!.receive(r1[1]!, 'n2')).toEqual([]);
    expect(parties[0]!.receive(r1[1]!, 'n2')).toEqual([]);
    expect(parties[0]!.status).toBe('running');
    // completing round 1 processes it; the same bytes again are still a harmless duplicate
    const r2 = parties[0]!.receive(r1[2]!, 'n3');
    expect(r2.length).toBeGreaterThan(0);
    expect(parties[0]!.receive(r1[1]!, 'n2')).toEqual([]);
    expect(parties[0]!.receive(r1[2]!, 'n3')).toEqual([]);
    expect(parties[0]!.status).toBe('running');
  });

  it('a different message for the same round slot still aborts with blame (before and after the round was processed)', () => {
    const a = started();
    a.parties[0]!.receive(a.r1[1]!, 'n2');
    const other = Uint8Array.from(a.r1[1]!.payload);
    other[other.length - 1] = other[other.length - 1]! ^ 1;
    const e = abortOf(() => a.parties[0]!.receive({ ...a.r1[1]!, payload: other }, 'n2'));
    expect(e.blame).toEqual(['n2']);
    expect(e.reason).toMatch(/duplicate message with different content/);
    expect(a.parties[0]!.status).toBe('aborted');
    const b = started();
    b.parties[0]!.receive(b.r1[1]!, 'n2');
    b.parties[0]!.receive(b.r1[2]!, 'n3');
    const e2 = abortOf(() => b.parties[0]!.receive({ ...b.r1[1]!, payload: other }, 'n2'));
    expect(e2.blame).toEqual(['n2']);
    expect(e2.reason).toMatch(/duplicate message with different content/);
  });

  it('an oversized payload aborts blaming its sender', () => {
    const { parties, r1 } = started();
    const e = abortOf(() => parties[0]!.receive({ ...r1[1]!, payload: new Uint8Array(1 << 20) }));
    expect(e.blame).toEqual(['n2']);
    expect(e.reason).toMatch(/oversized/);
  });

  it('a direct message where a broadcast is expected, or one addressed to someone else, aborts blaming its sender', () => {
    const a = started();
    expect(abortOf(() => a.parties[0]!.receive({ ...a.r1[1]!, to: 'n1' })).reason).toMatch(/unexpected direct/);
    const b = started();
    expect(abortOf(() => b.parties[0]!.receive({ ...b.r1[1]!, to: 'n3' })).reason).toMatch(/addressed to another/);
  });

  it('a structurally broken message object aborts with ProtocolAbortedError, not a TypeError', () => {
    for (const bad of [null, undefined, 42, { from: 7 }, { from: 'n2' }]) {
      const { parties } = started();
      const e = abortOf(() => parties[0]!.receive(bad as unknown as Message, 'n2'));
      expect(e.blame).toEqual(['n2']);
    }
  });

  it('undecodable bytes are blamed on the authenticated sender', () => {
    const { parties } = started();
    const e = abortOf(() => parties[0]!.receiveBytes('n3', Uint8Array.of(1, 2, 3)));
    expect(e.blame).toEqual(['n3']);
  });

  it('a message claiming to be from another party is blamed on the party that actually sent it', () => {
    const { parties, r1 } = started();
    const e = abortOf(() => parties[0]!.receiveBytes('n3', encodeMessage(r1[1]!)));
    expect(e.blame).toEqual(['n3']);
    expect(e.reason).toMatch(/another party/);
  });

  it('a malformed payload is blamed on its sender and never yields a result', () => {
    const { parties, r1 } = started();
    parties[0]!.receive(r1[1]!);
    const e = abortOf(() => parties[0]!.receive({ ...r1[2]!, payload: r1[2]!.payload.subarray(0, 10) }));
    expect(e.blame).toEqual(['n3']);
    expect(parties[0]!.status).toBe('aborted');
    expect(() => parties[0]!.result()).toThrow(InvalidStateError);
  });

  it('once aborted, a party keeps throwing the same abort and sends nothing more', () => {
    const { parties, r1 } = started();
    const e = abortOf(() => parties[0]!.receive({ ...r1[1]!, from: 'x' }));
    expect(abortOf(() => parties[0]!.receive(r1[2]!))).toBe(e);
    expect(abortOf(() => parties[0]!.receiveBytes('n2', encodeMessage(r1[1]!)))).toBe(e);
    expect(parties[0]!.abortError).toBe(e);
  });

  it('a party aborted from outside (timeout, abort notice) ends without blame, keeps throwing, and wipes its secrets; a finished party is unaffected', () => {
    const { parties, r1 } = started();
    parties[0]!.abort('session timed out after 30 s');
    expect(parties[0]!.status).toBe('aborted');
    expect(parties[0]!.abortError?.blame).toEqual([]);
    expect(parties[0]!.abortError?.reason).toBe('session timed out after 30 s');
    expect(abortOf(() => parties[0]!.receive(r1[1]!))).toBe(parties[0]!.abortError);
    expect(() => parties[0]!.result()).toThrow(InvalidStateError);
    expect(parties[0]!.pendingResult()).toBeUndefined();
    const finished = P.map((p) => mk(p, 'finish'));
    expect(runParties(finished, { rng: seededRng('o') }).results.size).toBe(3);
    finished[0]!.abort('too late');
    expect(finished[0]!.status).toBe('done');
    expect(finished[0]!.result()).toBeDefined();
    const again = mk('n1', 'not-started');
    again.abort('');
    expect(again.abortError?.reason).toBe('aborted by the node');
    expect(() => again.start()).toThrow(ProtocolAbortedError);
  });

  it('messages of a later round that arrive early are buffered and processed in order', () => {
    const { parties, r1 } = started();
    // n2 and n3 finish round 1 first, so their round-2 messages exist before n1 saw round 1.
    const r2: Message[] = [];
    r2.push(...parties[1]!.receive(r1[0]!), ...parties[1]!.receive(r1[2]!));
    r2.push(...parties[2]!.receive(r1[0]!), ...parties[2]!.receive(r1[1]!));
    const toN1 = r2.filter((m) => m.to === 'n1');
    expect(toN1).toHaveLength(2);
    for (const m of toN1) expect(parties[0]!.receive(m)).toEqual([]);
    expect(parties[0]!.status).toBe('running');
    parties[0]!.receive(r1[1]!);
    const out = parties[0]!.receive(r1[2]!);
    // Round 1 and the buffered round 2 are processed in order: two round-2 shares, then the round-3 confirmation.
    expect(out.map((m) => `${m.round}:${m.to}`)).toEqual(['2:n2', '2:n3', '3:null']);
    expect(parties[0]!.status).toBe('running');
  });

  it('a party that completes a round and aborts in the next within one call still hands out the completed round’s messages', () => {
    const { parties, r1 } = started();
    const r2: Message[] = [];
    r2.push(...parties[1]!.receive(r1[0]!), ...parties[1]!.receive(r1[2]!));
    r2.push(...parties[2]!.receive(r1[0]!), ...parties[2]!.receive(r1[1]!));
    const [fromN2, fromN3] = [
      r2.find((m) => m.from === 'n2' && m.to === 'n1')!,
      r2.find((m) => m.from === 'n3' && m.to === 'n1')!,
    ];
    parties[0]!.receive({ ...fromN2, payload: fromN2.payload.subarray(0, 5) }); // garbage, buffered for round 2
    parties[0]!.receive(fromN3);
    parties[0]!.receive(r1[1]!);
    const e = abortOf(() => parties[0]!.receive(r1[2]!)); // completes round 1, then round 2 fails
    expect(e.blame).toEqual(['n2']);
    // The completed round's messages, then the DKG's complaint (attached to the abort with withOutbound).
    expect(e.outbound.map((m) => `${m.round}:${m.to}`)).toEqual(['2:n2', '2:n3', '3:null']);
  });

  it('messages that arrive before start() are kept and processed once the party starts', () => {
    const parties = P.map((p) => mk(p));
    const r1b = parties[1]!.start();
    const r1c = parties[2]!.start();
    const late = parties[0]!;
    expect(late.receive(r1b[0]!)).toEqual([]);
    expect(late.receive(r1c[0]!)).toEqual([]);
    expect(late.status).toBe('created');
    const out = late.start();
    expect(out.filter((m) => m.round === 1)).toHaveLength(1);
    expect(out.filter((m) => m.round === 2)).toHaveLength(2);
  });

  it('bad session inputs are refused at construction with InvalidArgumentError', () => {
    expect(() => new FrostDkgParty({ sessionId: 's', self: 'n9', participants: P, threshold: 1 })).toThrow(
      InvalidArgumentError,
    );
    expect(
      () => new FrostDkgParty({ sessionId: 's', self: 'n1', participants: ['n1', 'n1', 'n2'], threshold: 1 }),
    ).toThrow(/duplicates/);
    expect(() => new FrostDkgParty({ sessionId: 's', self: 'n1', participants: P, threshold: 3 })).toThrow(/threshold/);
    expect(() => new FrostDkgParty({ sessionId: 's', self: 'n1', participants: P, threshold: 0 })).toThrow(/threshold/);
    expect(() => new FrostDkgParty({ sessionId: '', self: 'n1', participants: P, threshold: 1 })).toThrow(/session id/);
    const p = mk('n1');
    p.start();
    expect(() => p.start()).toThrow(InvalidStateError);
  });

  it('start() after an abort before start throws the stored ProtocolAbortedError, not InvalidStateError', () => {
    const { r1 } = started();
    const p = mk('n1');
    const e = abortOf(() => p.receive({ ...r1[1]!, from: 'stranger' }));
    expect(p.start).toBeDefined();
    let thrown: unknown;
    try {
      p.start();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(e);
    expect(p.status).toBe('aborted');
  });
});

describe('the local runner', () => {
  it('the same parties reach the same result whatever the delivery order', () => {
    const keys = ['a', 'b', 'c'].map((seed) => {
      const rep = runParties(
        P.map((p) => mk(p)),
        { rng: seededRng(`order-${seed}`) },
      );
      return Buffer.from(rep.results.get('n1')!.groupPublicKey).toString('hex');
    });
    expect(new Set(keys).size).toBe(1);
  });

  it('a dropped message leaves its receiver stalled without any partial result (and, in a DKG, the others wait for its confirmation)', () => {
    const rep = runParties(
      P.map((p) => mk(p)),
      {
        rng: seededRng('drop'),
        fault: (d) =>
          d.from === 'n2' && d.to === 'n3' && d.message.round === 2 ? { kind: 'drop' } : { kind: 'deliver' },
      },
    );
    expect(rep.stalled).toContain('n3');
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
  });

  it('messages the transport delivers twice (every message of every round) are ignored and the run completes', () => {
    const rep = runParties(
      P.map((p) => mk(p)),
      { rng: seededRng('dup'), fault: () => ({ kind: 'duplicate' }) },
    );
    expect(rep.aborts.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    expect(rep.stalled).toEqual([]);
    expect(rep.results.size).toBe(3);
  });
});
