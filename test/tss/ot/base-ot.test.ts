import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../../src/common/errors.js';
import { type BaseOtParams, BaseOtReceiver, BaseOtSender } from '../../../src/tss/ot/base-ot.js';
import { MalformedMessageError, OtCheckFailedError, OtStateBurnedError } from '../../../src/tss/ot/errors.js';
import { seededRandom } from './helpers.js';

const params = (count: number, sid = 'sid-1'): BaseOtParams => ({
  sessionId: new TextEncoder().encode(sid),
  senderId: 'S',
  receiverId: 'R',
  count,
});

function start(count: number, choices: Uint8Array, seed = 'x') {
  const s = new BaseOtSender(params(count), seededRandom(`s/${seed}`));
  const r = new BaseOtReceiver(params(count), choices, seededRandom(`r/${seed}`));
  return { s, r };
}

function run(count: number, choices: Uint8Array, seed = 'x') {
  const { s, r } = start(count, choices, seed);
  const m2 = r.onSetup(s.setupMessage());
  const m4 = r.onChallenges(s.onChoices(m2));
  const { message: m5, output } = s.onResponses(m4);
  return { sOut: output, rOut: r.onOpenings(m5) };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
function flip(m: Uint8Array, at: number): Uint8Array {
  const c = m.slice();
  c[at]! ^= 1;
  return c;
}

describe('base OT (verified Simplest OT)', () => {
  it('the receiver gets exactly the sender string at its choice, for random choices', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12, max: 1 }), fc.string(), (choices, seed) => {
        const { sOut, rOut } = run(12, choices, seed);
        for (let i = 0; i < 12; i++) {
          const want = choices[i] ? sOut.rho1[i]! : sOut.rho0[i]!;
          const other = choices[i] ? sOut.rho0[i]! : sOut.rho1[i]!;
          expect(hex(rOut[i]!)).toBe(hex(want));
          expect(hex(rOut[i]!)).not.toBe(hex(other));
        }
      }),
      { numRuns: 8 },
    );
  });

  it('rejects an invalid sender point B (not on the curve, bad prefix, identity encoding) blaming the sender', () => {
    const { s } = start(4, new Uint8Array(4));
    const setup = s.setupMessage();
    const bad = [
      (() => {
        const m = setup.slice();
        m[2] = 0x04;
        return m;
      })(),
      (() => {
        const m = setup.slice();
        m.fill(0, 2, 35);
        return m;
      })(),
      (() => {
        const m = setup.slice();
        m.fill(0xff, 3, 35);
        return m;
      })(),
    ];
    for (const m of bad) {
      const r = new BaseOtReceiver(params(4), new Uint8Array(4), seededRandom('r'));
      const e = (() => {
        try {
          r.onSetup(m);
        } catch (err) {
          return err;
        }
      })() as MalformedMessageError;
      expect(e).toBeInstanceOf(MalformedMessageError);
      expect(e.blame).toBe('S');
      expect(e.code).toBe('PROTOCOL_ABORTED');
    }
  });

  it('rejects a proof of knowledge that does not verify, or a response not below q, blaming the sender', () => {
    const { s } = start(4, new Uint8Array(4));
    const setup = s.setupMessage();
    const zBad = setup.slice();
    zBad.fill(0xff, 70, 102); // first repetition's response ≥ q
    for (const m of [flip(setup, setup.length - 1), zBad]) {
      const r = new BaseOtReceiver(params(4), new Uint8Array(4), seededRandom('r'));
      expect(() => r.onSetup(m)).toThrow(OtCheckFailedError);
    }
  });

  it('a setup from another session does not verify (the proof is bound to the session and parties)', () => {
    const s = new BaseOtSender(params(4, 'session-A'), seededRandom('s'));
    const r = new BaseOtReceiver(params(4, 'session-B'), new Uint8Array(4), seededRandom('r'));
    const setup = s.setupMessage();
    expect(() => r.onSetup(setup)).toThrow(OtCheckFailedError);
    const swapped = new BaseOtReceiver(
      { ...params(4, 'session-A'), senderId: 'R', receiverId: 'S' },
      new Uint8Array(4),
      seededRandom('r'),
    );
    expect(() => swapped.onSetup(setup)).toThrow(OtCheckFailedError);
  });

  it('rejects invalid receiver points A_i (invalid encoding, A_i = B) blaming the receiver, and burns the sender', () => {
    const { s, r } = start(4, Uint8Array.of(0, 1, 0, 1));
    const setup = s.setupMessage();
    const m2 = r.onSetup(setup);
    const bad = m2.slice();
    bad.fill(0xff, 2 + 33 + 1, 2 + 66);
    const e = (() => {
      try {
        s.onChoices(bad);
      } catch (err) {
        return err;
      }
    })() as MalformedMessageError;
    expect(e).toBeInstanceOf(MalformedMessageError);
    expect(e.blame).toBe('R');
    expect(() => s.onResponses(new Uint8Array(0))).toThrow(OtStateBurnedError);

    const s2 = new BaseOtSender(params(1), seededRandom('s2'));
    const B = s2.setupMessage().subarray(2, 35);
    const m = Uint8Array.of(1, 0x12, ...B);
    expect(() => s2.onChoices(m)).toThrow(MalformedMessageError);
  });

  it('rejects truncated, extended and mistyped messages', () => {
    const { s, r } = start(4, new Uint8Array(4));
    const setup = s.setupMessage();
    for (const m of [
      setup.subarray(0, setup.length - 1),
      Uint8Array.of(...setup, 0),
      Uint8Array.of(2, ...setup.subarray(1)),
      Uint8Array.of(1, 0x12, ...setup.subarray(2)),
    ]) {
      const rr = new BaseOtReceiver(params(4), new Uint8Array(4), seededRandom('r'));
      expect(() => rr.onSetup(m)).toThrow(MalformedMessageError);
    }
    const m2 = r.onSetup(setup);
    expect(() => s.onChoices(m2.subarray(0, m2.length - 33))).toThrow(MalformedMessageError);
  });

  it('catches a receiver whose verification response is wrong, and the sender state is then burnt', () => {
    const { s, r } = start(4, Uint8Array.of(1, 0, 1, 1));
    const m4 = r.onChallenges(s.onChoices(r.onSetup(s.setupMessage())));
    const e = (() => {
      try {
        s.onResponses(flip(m4, 2 + 32 + 5));
      } catch (err) {
        return err;
      }
    })() as OtCheckFailedError;
    expect(e).toBeInstanceOf(OtCheckFailedError);
    expect(e.blame).toBe('R');
    expect(() => s.onResponses(m4)).toThrow(OtStateBurnedError);
  });

  it('catches a sender who cheats in the challenge: one side always aborts, whatever the choice bit', () => {
    for (const bit of [0, 1]) {
      const { s, r } = start(1, Uint8Array.of(bit));
      const m3 = s.onChoices(r.onSetup(s.setupMessage()));
      const m4 = r.onChallenges(flip(m3, 2));
      let caught = false;
      try {
        const { message } = s.onResponses(m4);
        r.onOpenings(message);
      } catch (e) {
        expect(e).toBeInstanceOf(OtCheckFailedError);
        caught = true;
      }
      expect(caught).toBe(true);
    }
  });

  it('catches a sender whose openings are wrong, blaming the sender, and burns the receiver', () => {
    const { s, r } = start(3, Uint8Array.of(0, 1, 0));
    const m4 = r.onChallenges(s.onChoices(r.onSetup(s.setupMessage())));
    const { message } = s.onResponses(m4);
    for (const at of [2, 2 + 32 + 3, message.length - 1]) {
      const { s: s2, r: r2 } = start(3, Uint8Array.of(0, 1, 0));
      const { message: m5 } = s2.onResponses(r2.onChallenges(s2.onChoices(r2.onSetup(s2.setupMessage()))));
      const e = (() => {
        try {
          r2.onOpenings(flip(m5, at));
        } catch (err) {
          return err;
        }
      })() as OtCheckFailedError;
      expect(e).toBeInstanceOf(OtCheckFailedError);
      expect(e.blame).toBe('S');
      expect(() => r2.onOpenings(m5)).toThrow(OtStateBurnedError);
    }
    expect(r.onOpenings(message)).toHaveLength(3);
  });

  it('each step runs once and in order', () => {
    const { s, r } = start(2, Uint8Array.of(0, 1));
    expect(() => r.onChallenges(new Uint8Array(0))).toThrow(InvalidStateError);
    const setup = s.setupMessage();
    expect(() => s.setupMessage()).toThrow(InvalidStateError);
    r.onSetup(setup);
    expect(() => r.onSetup(setup)).toThrow(InvalidStateError);
  });
});
