import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../src/tss/session/message.js';
import type { FaultInjector } from '../../../src/tss/session/runner.js';
import { frostDkg, frostDkgRun, frostReshareRun, frostSign, tamper } from '../../helpers/protocol-runs.js';
import { verifiesEverywhere } from './helpers.js';

const P = ['n1', 'n2', 'n3'];
const flipShareByte = (p: Uint8Array) => {
  p[p.length - 32] = p[p.length - 32]! ^ 1; // lowest byte of the scalar: still canonical, wrong value
  return p;
};
const isConfirm = (payload: Uint8Array) => Buffer.from(payload).includes(Buffer.from('tessera/frost/dkg/confirm/v1'));

describe('DKG confirmation round (M1): no split outcome', () => {
  it('a bad share sent to one victim leaves NO party with a result: the victim complains and everyone aborts', () => {
    const fault = tamper((d) => d.from === 'n1' && d.to === 'n2' && d.message.round === 2, flipShareByte);
    const rep = frostDkgRun(P, 1, { seed: 'dkg-split', fault });
    expect(rep.crashes.size).toBe(0);
    expect(rep.stalled).toEqual([]);
    expect(rep.results.size).toBe(0);
    expect(rep.aborts.get('n2')?.blame).toEqual(['n1']);
    expect(rep.aborts.get('n2')?.reason).toMatch(/does not match the dealer commitment/);
    // n3 cannot tell a cheating dealer from a false complaint: it names both ends.
    expect(rep.aborts.get('n3')?.reason).toMatch(/complaint/);
    expect(rep.aborts.get('n3')?.blame).toEqual(['n1', 'n2']);
    // n1's own process believes it is honest: it names the complainer.
    expect(rep.aborts.get('n1')?.reason).toMatch(/complaint/);
    expect(rep.aborts.get('n1')?.blame).toEqual(['n2']);
  });

  it('the same split with t+1 = n (3-of-3) also leaves no party with a result', () => {
    const fault = tamper((d) => d.from === 'n3' && d.to === 'n1' && d.message.round === 2, flipShareByte);
    const rep = frostDkgRun(P, 2, { seed: 'dkg-split-3', fault });
    expect(rep.results.size).toBe(0);
    expect(rep.crashes.size).toBe(0);
    expect(rep.aborts.get('n1')?.blame).toEqual(['n3']);
    expect(rep.aborts.get('n2')?.blame).toContain('n3');
  });

  it('a confirmation of another key package aborts its receiver, blaming the sender', () => {
    const fault = tamper(
      (d) => d.from === 'n3' && d.to === 'n1' && d.message.round === 3,
      (p) => {
        p[p.length - 1] = p[p.length - 1]! ^ 1;
        return p;
      },
    );
    const rep = frostDkgRun(P, 1, { seed: 'dkg-confirm', fault });
    expect(rep.crashes.size).toBe(0);
    expect(rep.aborts.get('n1')?.blame).toEqual(['n3']);
    expect(rep.aborts.get('n1')?.reason).toMatch(/different key package/);
    expect(rep.results.has('n1')).toBe(false);
  });

  it('a missing confirmation leaves its receiver waiting (node-layer timeout), never with a result', () => {
    const fault: FaultInjector = (d) =>
      d.from === 'n2' && d.to === 'n3' && d.message.round === 3 ? { kind: 'drop' } : { kind: 'deliver' };
    const rep = frostDkgRun(P, 1, { seed: 'dkg-missing', fault });
    expect(rep.stalled).toEqual(['n3']);
    expect(rep.results.has('n3')).toBe(false);
  });

  it('the confirmation is a tagged digest of the public key package, the same for every party', () => {
    const seen: Uint8Array[] = [];
    const rep = frostDkgRun(P, 1, {
      seed: 'dkg-digest',
      fault: (d) => {
        if (d.message.round === 3) seen.push(decodeMessage(d.bytes).payload);
        return { kind: 'deliver' };
      },
    });
    expect(rep.results.size).toBe(3);
    expect(seen.length).toBe(6);
    expect(seen.every(isConfirm)).toBe(true);
    expect(new Set(seen.map((p) => Buffer.from(p).toString('hex'))).size).toBe(1);
  });
});

describe('pending results (M2): a validated share survives a failed confirmation round', () => {
  it('DKG: a party whose confirmation round failed keeps its validated share as pending (not wiped); a party whose own checks failed has none', () => {
    const fault = tamper((d) => d.from === 'n1' && d.to === 'n2' && d.message.round === 2, flipShareByte);
    const rep = frostDkgRun(P, 1, { seed: 'dkg-pending', fault });
    const [p1, p2, p3] = rep.parties;
    expect(p2!.pendingResult()).toBeUndefined();
    for (const p of [p1!, p3!]) {
      expect(p.status).toBe('aborted');
      const share = p.pendingResult()!;
      expect(share.isDisposed).toBe(false);
      expect(share.serialize().length).toBeGreaterThan(0);
    }
    expect(
      Buffer.from(p1!.pendingResult()!.groupPublicKey).equals(Buffer.from(p3!.pendingResult()!.groupPublicKey)),
    ).toBe(true);
  });

  it('DKG: on success the result is the pending share', () => {
    const rep = frostDkgRun(P, 1, { seed: 'dkg-ok' });
    for (const p of rep.parties) expect(p.result()).toBe(p.pendingResult());
  });

  it('reshare: a member denied one confirmation stalls but keeps a valid pending v+1 share that signs with the others', () => {
    const old = frostDkg(P, 1, { seed: 'pending-reshare' });
    const newP = ['n1', 'n2', 'n3', 'n4'];
    // n4 withholds its confirmation from n1 only: n2, n3, n4 finish, n1 waits.
    const fault: FaultInjector = (d) =>
      d.from === 'n4' && d.to === 'n1' && d.message.round === 3 ? { kind: 'drop' } : { kind: 'deliver' };
    const rep = frostReshareRun(old, ['n1', 'n2'], newP, 2, { seed: 'withhold', fault });
    expect(rep.crashes.size).toBe(0);
    expect(rep.stalled).toEqual(['n1']);
    expect([...rep.results.keys()].sort()).toEqual(['n2', 'n3', 'n4']);
    const stalled = rep.parties.find((p) => p.self === 'n1')!;
    const pending = stalled.pendingResult()!;
    expect(pending.share!.version).toBe(old.get('n1')!.version + 1);
    const shares = new Map([...rep.results].map(([p, r]) => [p, r.share!]));
    shares.set('n1', pending.share!);
    const msg = new TextEncoder().encode('pending share signs');
    const sig = frostSign(shares, ['n1', 'n2', 'n4'], msg, { seed: 'pending-sign' });
    expect(verifiesEverywhere(sig.signature, msg, old.get('n1')!.groupPublicKey)).toBe(true);
  });

  it('reshare: a mismatching confirmation aborts the receiver without wiping its pending share', () => {
    const old = frostDkg(P, 1, { seed: 'pending-reshare-2' });
    const fault = tamper(
      (d) => d.from === 'n3' && d.to === 'n2' && d.message.round === 3,
      (p) => {
        p[p.length - 1] = p[p.length - 1]! ^ 1;
        return p;
      },
    );
    const rep = frostReshareRun(old, ['n1', 'n2'], P, 1, { seed: 'mismatch', fault });
    expect(rep.aborts.get('n2')?.blame).toEqual(['n3']);
    const p2 = rep.parties.find((p) => p.self === 'n2')!;
    const share = p2.pendingResult()!.share!;
    expect(share.isDisposed).toBe(false);
    expect(share.sameSecretAs(share)).toBe(true);
  });

  it('reshare: the confirmation round names every party at fault — one whose confirmation is malformed and one that confirmed another package — whichever is read first', () => {
    const old = frostDkg(P, 1, { seed: 'pending-reshare-3' });
    const truncate = tamper(
      () => true,
      (p) => p.subarray(0, p.length - 1),
    );
    const flip = tamper(
      () => true,
      (p) => {
        p[p.length - 1] = p[p.length - 1]! ^ 1;
        return p;
      },
    );
    const rep = frostReshareRun(old, ['n1', 'n2'], P, 1, {
      seed: 'mismatch-and-malformed',
      fault: (d) => {
        if (d.to !== 'n2' || d.message.round !== 3) return { kind: 'deliver' };
        if (d.from === 'n1') return truncate(d); // read first: malformed
        if (d.from === 'n3') return flip(d); // read later: another package
        return { kind: 'deliver' };
      },
    });
    expect([...(rep.aborts.get('n2')?.blame ?? [])].sort()).toEqual(['n1', 'n3']);
  });

  it('reshare: a party whose own round-1 checks failed has no pending result', () => {
    const old = frostDkg(P, 1, { seed: 'pending-reshare-3' });
    const fault = tamper(
      (d) => d.from === 'n1' && d.to === 'n3' && d.message.round === 1 && d.message.to !== null,
      flipShareByte,
    );
    const rep = frostReshareRun(old, ['n1', 'n2'], P, 1, { seed: 'bad-dealer', fault });
    expect(rep.aborts.get('n3')?.blame).toEqual(['n1']);
    expect(rep.parties.find((p) => p.self === 'n3')!.pendingResult()).toBeUndefined();
  });
});
