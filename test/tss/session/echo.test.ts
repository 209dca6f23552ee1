import { describe, expect, it } from 'vitest';
import { broadcastDigest, EchoCollector, echoVector } from '../../../src/tss/session/echo.js';
import { ProtocolAbortedError } from '../../../src/tss/session/errors.js';

const S = ['a', 'b', 'c', 'd', 'e'];
const payloads = new Map(S.map((s) => [s, new TextEncoder().encode(`payload of ${s}`)]));
const honest = echoVector('sess', 1, S, payloads);
const withFor = (sender: string, other: string) => {
  const m = new Map(payloads);
  m.set(sender, new TextEncoder().encode(other));
  return echoVector('sess', 1, S, m);
};

function verdict(self: string, echoes: [string, Uint8Array][], mine = honest): ProtocolAbortedError | undefined {
  const c = new EchoCollector(self, S, mine);
  for (const [k, v] of echoes) c.add(k, v);
  try {
    c.verdict();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolAbortedError);
    return e as ProtocolAbortedError;
  }
}

describe('echo broadcast verdicts', () => {
  it('digests are bound to session, round and sender', () => {
    const p = Uint8Array.of(1);
    const d = Buffer.from(broadcastDigest('s', 1, 'a', p)).toString('hex');
    expect(Buffer.from(broadcastDigest('t', 1, 'a', p)).toString('hex')).not.toBe(d);
    expect(Buffer.from(broadcastDigest('s', 2, 'a', p)).toString('hex')).not.toBe(d);
    expect(Buffer.from(broadcastDigest('s', 1, 'b', p)).toString('hex')).not.toBe(d);
  });

  it('consistent echoes pass', () => {
    expect(
      verdict(
        'a',
        S.slice(1).map((k) => [k, honest]),
      ),
    ).toBeUndefined();
  });

  it('a sender whose own echo contradicts the payload it sent this party is blamed alone', () => {
    // 'a' received another payload from 'b' than c, d, e did, and b's echo of its own broadcast says so.
    const mine = withFor('b', 'forged');
    const e = verdict(
      'a',
      [
        ['b', honest],
        ['c', honest],
        ['d', honest],
        ['e', honest],
      ],
      mine,
    );
    expect(e?.blame).toEqual(['b']);
  });

  it('an echoer that disagrees with everyone about several senders is blamed together with them (two colluding senders could have equivocated towards it)', () => {
    const lie = withFor('c', 'x');
    lie.set(withFor('d', 'y').subarray(96, 128), 96);
    const e = verdict('a', [
      ['b', lie],
      ['c', honest],
      ['d', honest],
      ['e', honest],
    ]);
    expect(e?.blame).toEqual(['b', 'c', 'd']);
  });

  it('3-of-5, two colluders misreporting an honest sender’s digest cannot make the victim blame only that sender (L1)', () => {
    // a is the victim; d and e collude and echo a false digest for honest b; c is honest.
    const fake = withFor('b', 'framed');
    const e = verdict('a', [
      ['b', honest],
      ['c', honest],
      ['d', fake],
      ['e', fake],
    ]);
    expect(e?.blame).toEqual(['b', 'd', 'e']);
    // Same with two different false digests.
    const e2 = verdict('a', [
      ['b', honest],
      ['c', honest],
      ['d', fake],
      ['e', withFor('b', 'other')],
    ]);
    expect(e2?.blame).toEqual(['b', 'd', 'e']);
  });

  it("when every other echoer reports one digest for a sender that differs from this party's view, the sender is blamed together with them: n−2 colluders cannot frame an honest sender alone [3/R-3]", () => {
    // Either b showed 'a' a forged payload, or c, d, e collude and misreport b: 'a' cannot tell.
    const mine = withFor('b', 'forged');
    const e = verdict(
      'a',
      [
        ['c', honest],
        ['d', honest],
        ['e', honest],
      ],
      mine,
    );
    expect(e?.blame).toEqual(['b', 'c', 'd', 'e']);
    // The framing itself: c, d, e report a fake digest for honest b, whose own echo agrees with 'a'.
    const fake = withFor('b', 'framed');
    const f = verdict('a', [
      ['b', honest],
      ['c', fake],
      ['d', fake],
      ['e', fake],
    ]);
    expect(f?.blame).toEqual(['b', 'c', 'd', 'e']);
  });

  it('a single echoer disagreeing about a sender, with nobody to corroborate, blames both ends', () => {
    const S3 = ['a', 'b', 'c'];
    const p3 = new Map(S3.map((s) => [s, new TextEncoder().encode(`payload of ${s}`)]));
    const mine = echoVector('sess', 1, S3, p3);
    const m2 = new Map(p3);
    m2.set('b', new TextEncoder().encode('x'));
    const c = new EchoCollector('a', S3, mine);
    c.add('c', echoVector('sess', 1, S3, m2));
    expect(() => c.verdict()).toThrow(ProtocolAbortedError);
    try {
      c.verdict();
    } catch (e) {
      expect((e as ProtocolAbortedError).blame).toEqual(['b', 'c']);
    }
  });

  it('an echoer that misreports this party’s own broadcast, or its own, is blamed alone', () => {
    expect(
      verdict('a', [
        ['b', withFor('a', 'x')],
        ['c', honest],
      ])?.blame,
    ).toEqual(['b']);
    expect(
      verdict('a', [
        ['b', withFor('b', 'x')],
        ['c', honest],
      ])?.blame,
    ).toEqual(['b']);
  });

  it('a single disagreement that cannot be attributed blames both ends', () => {
    const e = verdict('a', [
      ['b', honest],
      ['c', withFor('d', 'x')],
    ]);
    expect(e?.blame).toEqual(['c', 'd']);
  });

  it('a wrongly sized echo is blamed on its sender', () => {
    const c = new EchoCollector('a', S, honest);
    expect(() => c.add('b', honest.subarray(1))).toThrow(ProtocolAbortedError);
  });
});
