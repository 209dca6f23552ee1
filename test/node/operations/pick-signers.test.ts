/**
 * The coordinator's choice of t+1 signers (`pickSigners`), in particular for the retry of an
 * attempt that failed without blame: the failed attempt's other signers are avoided, not
 * excluded, so a 2-of-3 cluster whose coordinator was not a signer still finds a set when one of
 * them died (the dead one is no longer among the ready candidates by then).
 */
import { describe, expect, it } from 'vitest';
import { pickSigners } from '../../../src/node/operations/sign.js';

const ctx = (self: string, load: Record<string, number> = {}) => ({ self, load: new Map(Object.entries(load)) });
const none = new Set<string>();

describe('choosing the signers of an attempt', () => {
  it('takes the least loaded, sorted; undefined when too few candidates', () => {
    expect(pickSigners(ctx('a', { a: 3, b: 0, c: 1 }), ['a', 'b', 'c'], 2, none, new Map())).toEqual(['b', 'c']);
    expect(pickSigners(ctx('a'), ['a'], 2, none, new Map())).toBeUndefined();
  });

  it('avoids the signers of a failed attempt while others can make the set', () => {
    // a 2-of-3 retry where c was a co-signer of the failed attempt: a and b sign, whatever the load
    for (let i = 0; i < 20; i++)
      expect(pickSigners(ctx('a', { b: 5 }), ['a', 'b', 'c'], 2, none, new Map([['c', 2]]))).toEqual(['a', 'b']);
  });

  it('takes avoided signers back rather than give up: coordinator a was not a signer of {b, c}, c died', () => {
    // c is no longer ready, so only a and b are candidates; b was avoided but is taken back
    expect(
      pickSigners(
        ctx('a'),
        ['a', 'b'],
        2,
        none,
        new Map([
          ['b', 2],
          ['c', 2],
        ]),
      ),
    ).toEqual(['a', 'b']);
  });

  it('prefers a signer that reported the failure over one that stayed silent', () => {
    // b reported (rank 1), c stayed silent (rank 2): the retry is {a, b}
    for (let i = 0; i < 20; i++)
      expect(
        pickSigners(
          ctx('a', { b: 9 }),
          ['a', 'b', 'c'],
          2,
          none,
          new Map([
            ['b', 1],
            ['c', 2],
          ]),
        ),
      ).toEqual(['a', 'b']);
  });

  it('never forms a pair the coordinator knows is burnt', () => {
    expect(pickSigners(ctx('a'), ['a', 'b'], 2, new Set(['b']), new Map())).toBeUndefined();
    for (let i = 0; i < 20; i++) {
      const set = pickSigners(ctx('a'), ['a', 'b', 'c'], 2, new Set(['b']), new Map([['c', 2]]));
      expect(set?.length).toBe(2);
      expect(set?.includes('a') && set.includes('b')).toBe(false);
    }
  });
});
