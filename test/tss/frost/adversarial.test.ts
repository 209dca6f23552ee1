import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrostDkgParty } from '../../../src/tss/frost/dkg.js';
import type { FrostKeyShare } from '../../../src/tss/frost/key-share.js';
import { FrostReshareParty } from '../../../src/tss/frost/reshare.js';
import { FrostSignParty, type SignResult } from '../../../src/tss/frost/sign.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { ProtocolAbortedError } from '../../../src/tss/session/errors.js';
import { decodeMessage, encodeMessage } from '../../../src/tss/session/message.js';
import type { ProtocolParty } from '../../../src/tss/session/party.js';
import { type FaultInjector, runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { capturePayloads, messageMutation, mutatingFault, type Replays } from '../../helpers/mutations.js';
import { frostDkg } from '../../helpers/protocol-runs.js';
import { verifiesEverywhere } from './helpers.js';

const P = ['n1', 'n2', 'n3'];
const msg = new TextEncoder().encode('adversarial');
const keys = frostDkg(P, 1, { seed: 'adv' });
const pk = keys.get('n1')!.groupPublicKey;

type Proto = 'dkg' | 'sign' | 'reshare';
/** Every message type: protocol, round, kind, and who sends it. */
const messageTypes: { proto: Proto; round: number; kind: 'broadcast' | 'direct'; senders: string[] }[] = [
  { proto: 'dkg', round: 1, kind: 'broadcast', senders: P },
  { proto: 'dkg', round: 2, kind: 'direct', senders: P },
  { proto: 'dkg', round: 3, kind: 'broadcast', senders: P },
  { proto: 'sign', round: 1, kind: 'broadcast', senders: P },
  { proto: 'sign', round: 2, kind: 'broadcast', senders: P },
  { proto: 'reshare', round: 1, kind: 'broadcast', senders: ['n1', 'n2'] },
  { proto: 'reshare', round: 1, kind: 'direct', senders: ['n1', 'n2'] },
  { proto: 'reshare', round: 2, kind: 'broadcast', senders: P },
  { proto: 'reshare', round: 3, kind: 'broadcast', senders: P },
];

function parties(proto: Proto, sessionId: string, seed: string): ProtocolParty<unknown>[] {
  const rng = (p: string) => seededRng(`${seed}/${p}`);
  if (proto === 'dkg')
    return P.map((self) => new FrostDkgParty({ sessionId, self, participants: P, threshold: 1, rng: rng(self) }));
  if (proto === 'sign')
    return P.map(
      (self) =>
        new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId,
          self,
          signers: P,
          keyShare: keys.get(self)!,
          message: msg,
          rng: rng(self),
        }),
    );
  return P.map(
    (self) =>
      new FrostReshareParty({
        sessionId,
        self,
        dealers: ['n1', 'n2'],
        newParticipants: P,
        newThreshold: 1,
        oldPublic: keys.get('n1')!.public,
        keyShare: self === 'n3' ? undefined : keys.get(self),
        rng: rng(self),
      }),
  );
}

/** Payloads of an honest run in another session, for replays. */
function capture(proto: Proto, seed: string): Replays {
  return capturePayloads(parties(proto, 'another-session', seed), seed);
}

describe('adversarial messages: every tampering ends in ProtocolAbortedError blaming the tamperer, never a crash or a wrong result', () => {
  for (const t of messageTypes) {
    it(`${t.proto} round ${t.round} ${t.kind}: mutated field, truncation, extension, replay from another session or impersonation`, () => {
      const replays: Replays = new Map();
      fc.assert(
        fc.property(
          fc.constantFrom(...t.senders),
          messageMutation,
          fc.boolean(),
          fc.nat(),
          (bad, mu, allVictims, seedN) => {
            const seed = `s${seedN % 4}`;
            if (mu.kind === 'replay' && !replays.has(seed))
              for (const [k, v] of capture(t.proto, seed)) replays.set(`${seed}#${k}`, v);
            const seedReplays = new Map(
              [...replays].filter(([k]) => k.startsWith(`${seed}#`)).map(([k, v]) => [k.slice(seed.length + 1), v]),
            );
            const { fault, victims } = mutatingFault(bad, t, mu, { allVictims, replays: seedReplays, participants: P });
            const rep = runParties(parties(t.proto, 'the-session', seed), { rng: seededRng(`order-${seedN}`), fault });
            expect([...rep.crashes.values()]).toEqual([]);
            expect(victims.size).toBeGreaterThan(0);
            // The tamperer's own process believes it sent the original, so only honest parties are judged.
            const honestAborts = [...rep.aborts].filter(([p]) => p !== bad);
            // Somebody honest notices (a party waiting on an aborted peer may stall instead: the node layer's timeout ends it).
            expect(honestAborts.length).toBeGreaterThan(0);
            for (const [, e] of honestAborts) expect(e.blame).toContain(bad);
            for (const v of victims) {
              expect(rep.results.has(v)).toBe(false);
              if (mu.kind === 'impersonate' && rep.aborts.has(v)) expect(rep.aborts.get(v)!.blame).toEqual([bad]);
            }
            for (const r of rep.results.values()) {
              if (t.proto === 'sign') expect(verifiesEverywhere((r as SignResult).signature, msg, pk)).toBe(true);
              if (t.proto === 'dkg') expect((r as FrostKeyShare).groupPublicKey).toHaveLength(32);
            }
          },
        ),
        { numRuns: Number(process.env.ADV_RUNS ?? 40) },
      );
    });
  }
});

describe('every received point is validated', () => {
  const order8 = new Uint8Array(Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex'));
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const mixed = ed25519.Point.BASE.add(ed25519.Point.fromBytes(order8)).toBytes(); // on the curve, outside the prime-order subgroup
  const nonCanonical = new Uint8Array(32).fill(0xff);
  nonCanonical[31] = 0x7f; // y = 2^255 - 1 ≥ p
  for (const [name, bad] of [
    ['a small-order point', order8],
    ['the identity', identity],
    ['a point with a torsion component', mixed],
    ['a non-canonical encoding', nonCanonical],
  ] as const) {
    it(`${name} as a signing commitment, DKG commitment or reshare commitment aborts blaming the sender`, () => {
      const cases: [Proto, number][] = [
        ['sign', 4 + 'tessera/frost/sign/r1/v1'.length + 32],
        ['dkg', 4 + 'tessera/frost/dkg/r1/v1'.length + 2 + 32],
        ['reshare', 4 + 'tessera/frost/reshare/commit/v1'.length + 32 + 2 + 32],
      ];
      for (const [proto, offset] of cases) {
        const rep = runParties(parties(proto, `pt-${proto}`, 'pt'), {
          rng: seededRng('pt'),
          fault: (d) => {
            if (d.from !== 'n2' || d.message.round !== 1 || d.message.to !== null) return { kind: 'deliver' };
            const m = decodeMessage(d.bytes);
            const p = Uint8Array.from(m.payload);
            p.set(bad, offset);
            return { kind: 'replace', bytes: encodeMessage({ ...m, payload: p }) };
          },
        });
        expect(rep.crashes.size).toBe(0);
        for (const v of ['n1', 'n3']) {
          expect(rep.aborts.get(v)?.blame, `${proto} at ${v}`).toEqual(['n2']);
          expect(rep.aborts.get(v)?.reason).toMatch(/malformed/);
        }
      }
    });
  }
});

describe('echo broadcast', () => {
  it('a party that equivocates in a broadcast (different valid packages to different peers) is detected and blamed', () => {
    const N = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const mk = (self: string, rngSeed: string) =>
      new FrostDkgParty({ sessionId: 'eq', self, participants: N, threshold: 2, rng: seededRng(rngSeed) });
    // n1's second face: a fully valid round-1 package from the same identity and session, other randomness.
    const twin = mk('n1', 'twin');
    const twinR1 = twin.start()[0]!;
    const rep = runParties(
      N.map((p) => mk(p, p)),
      {
        rng: seededRng('eq'),
        fault: (d) =>
          d.from === 'n1' && d.to === 'n5' && d.message.round === 1
            ? { kind: 'replace', bytes: encodeMessage(twinR1) }
            : { kind: 'deliver' },
      },
    );
    expect(rep.crashes.size).toBe(0);
    expect(rep.results.size).toBe(0);
    expect(rep.aborts.get('n5')?.blame).toEqual(['n1']);
    for (const p of ['n2', 'n3', 'n4']) expect(rep.aborts.get(p)?.blame).toContain('n1');
    for (const e of rep.aborts.values()) expect(e.reason).toMatch(/inconsistent broadcast/);
  });
});

describe('signing share verification', () => {
  it('a signature share from a cheating signer is refused and the cheater named by every honest signer', () => {
    const fault: FaultInjector = (d) => {
      if (d.from !== 'n2' || d.message.round !== 2) return { kind: 'deliver' };
      const m = decodeMessage(d.bytes);
      // n2 sends the same (wrong) share to everyone: z + 1, consistent echo, so only verifyShare catches it.
      const p = Uint8Array.from(m.payload);
      p[p.length - 32] = (p[p.length - 32]! + 1) & 0xff;
      return { kind: 'replace', bytes: encodeMessage({ ...m, payload: p }) };
    };
    const rep = runParties(parties('sign', 'cheat', 'c'), { rng: seededRng('c'), fault });
    expect(rep.results.has('n1') || rep.results.has('n3')).toBe(false);
    for (const p of ['n1', 'n3']) {
      expect(rep.aborts.get(p)?.blame).toEqual(['n2']);
      expect(rep.aborts.get(p)?.reason).toMatch(/invalid signature share/);
    }
  });

  it('a signature share from a party outside the signing set is refused and blamed', () => {
    const signers = ['n1', 'n2'];
    const ps = signers.map(
      (self) =>
        new FrostSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 'outside',
          self,
          signers,
          keyShare: keys.get(self)!,
          message: msg,
          rng: seededRng(self),
        }),
    );
    const r1 = ps.map((p) => p.start()[0]!);
    const r2 = ps[1]!.receive(r1[0]!)[0]!;
    // n3 holds a share of the key but is not in this signing set; it sends n2's share as its own.
    let err: unknown;
    try {
      ps[0]!.receiveBytes('n3', encodeMessage({ ...r2, from: 'n3' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolAbortedError);
    expect((err as ProtocolAbortedError).blame).toEqual(['n3']);
    expect(ps[0]!.status).toBe('aborted');
  });

  it('a DKG share that does not match its dealer commitment names the dealer', () => {
    const fault: FaultInjector = (d) => {
      if (d.from !== 'n3' || d.to !== 'n1' || d.message.round !== 2) return { kind: 'deliver' };
      const m = decodeMessage(d.bytes);
      const p = Uint8Array.from(m.payload);
      p[p.length - 32] = p[p.length - 32]! ^ 1;
      return { kind: 'replace', bytes: encodeMessage({ ...m, payload: p }) };
    };
    const rep = runParties(parties('dkg', 'bad-share', 'b'), { rng: seededRng('b'), fault });
    expect(rep.aborts.get('n1')?.blame).toEqual(['n3']);
    expect(rep.aborts.get('n1')?.reason).toMatch(/does not match the dealer commitment/);
  });

  it('a DKG package from another session is refused (its proof of knowledge is bound to the session)', () => {
    const other = new FrostDkgParty({
      sessionId: 'old-session',
      self: 'n2',
      participants: P,
      threshold: 1,
      rng: seededRng('o'),
    });
    const stale = other.start()[0]!;
    const rep = runParties(parties('dkg', 'new-session', 'x'), {
      rng: seededRng('x'),
      fault: (d) =>
        d.from === 'n2' && d.message.round === 1
          ? { kind: 'replace', bytes: encodeMessage({ ...stale, sessionId: 'new-session' }) }
          : { kind: 'deliver' },
    });
    for (const p of ['n1', 'n3']) {
      expect(rep.aborts.get(p)?.blame).toEqual(['n2']);
      expect(rep.aborts.get(p)?.reason).toMatch(/proof of knowledge/);
    }
  });
});
