import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError } from '../../../src/common/errors.js';
import { EcdsaDkgParty, ecdsaDkgContext, provePok, verifyPok } from '../../../src/tss/ecdsa/dkg.js';
import { EcdsaKeyShare } from '../../../src/tss/ecdsa/key-share.js';
import { EcdsaOtResetupParty } from '../../../src/tss/ecdsa/ot-resetup.js';
import { EcdsaReshareParty } from '../../../src/tss/ecdsa/reshare.js';
import { EcdsaSignParty, type EcdsaSignResult } from '../../../src/tss/ecdsa/sign.js';
import { mod } from '../../../src/tss/group/group.js';
import { getGroup } from '../../../src/tss/group/index.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { encodeMessage } from '../../../src/tss/session/message.js';
import type { ProtocolParty } from '../../../src/tss/session/party.js';
import { runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { capturePayloads, messageMutation, mutatingFault, type Replays } from '../../helpers/mutations.js';
import { ecdsaDkg, ecdsaSignRun, tamper } from '../../helpers/protocol-runs.js';
import { clone, nobleVerifies, sha256 } from './protocol-helpers.js';

const P = ['n1', 'n2', 'n3'];
const digest = sha256(new TextEncoder().encode('adversarial'));
const keys = ecdsaDkg(P, 1, { seed: 'adv' });
const pk = keys.get('n1')!.groupPublicKey;
const Q = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

type Proto = 'dkg' | 'sign' | 'reshare' | 'resetup';
/** Every message type of DKG, signing, resharing and OT re-setup: round, kind, senders. */
const messageTypes: { proto: Proto; round: number; kind: 'broadcast' | 'direct'; runs: number; senders?: string[] }[] =
  [
    { proto: 'dkg', round: 1, kind: 'broadcast', runs: 4 },
    { proto: 'dkg', round: 1, kind: 'direct', runs: 4 },
    { proto: 'dkg', round: 2, kind: 'direct', runs: 4 },
    { proto: 'dkg', round: 3, kind: 'direct', runs: 3 },
    { proto: 'dkg', round: 4, kind: 'direct', runs: 3 },
    { proto: 'dkg', round: 5, kind: 'direct', runs: 3 },
    { proto: 'dkg', round: 6, kind: 'broadcast', runs: 3 },
    { proto: 'sign', round: 1, kind: 'broadcast', runs: 12 },
    { proto: 'sign', round: 1, kind: 'direct', runs: 12 },
    { proto: 'sign', round: 2, kind: 'direct', runs: 12 },
    { proto: 'sign', round: 3, kind: 'broadcast', runs: 12 },
    // reshare: dealers n1, n2 → new committee n2, n3 (t′ = 1)
    { proto: 'reshare', round: 1, kind: 'broadcast', runs: 3, senders: ['n1', 'n2'] },
    { proto: 'reshare', round: 1, kind: 'direct', runs: 3 },
    { proto: 'reshare', round: 2, kind: 'broadcast', runs: 3 },
    { proto: 'reshare', round: 2, kind: 'direct', runs: 3, senders: ['n2', 'n3'] },
    { proto: 'reshare', round: 3, kind: 'direct', runs: 2, senders: ['n2', 'n3'] },
    { proto: 'reshare', round: 4, kind: 'direct', runs: 2, senders: ['n2', 'n3'] },
    { proto: 'reshare', round: 5, kind: 'direct', runs: 2, senders: ['n2', 'n3'] },
    { proto: 'reshare', round: 6, kind: 'broadcast', runs: 3, senders: ['n2', 'n3'] },
    // pairwise OT re-setup between n1 and n3
    { proto: 'resetup', round: 1, kind: 'direct', runs: 3, senders: ['n1', 'n3'] },
    { proto: 'resetup', round: 2, kind: 'direct', runs: 2, senders: ['n1', 'n3'] },
    { proto: 'resetup', round: 3, kind: 'direct', runs: 2, senders: ['n1', 'n3'] },
    { proto: 'resetup', round: 4, kind: 'direct', runs: 3, senders: ['n1', 'n3'] },
    { proto: 'resetup', round: 5, kind: 'direct', runs: 2, senders: ['n1', 'n3'] },
    { proto: 'resetup', round: 6, kind: 'broadcast', runs: 3, senders: ['n1', 'n3'] },
  ];

function parties(proto: Proto, sessionId: string, seed: string): ProtocolParty<unknown>[] {
  const rng = (p: string) => seededRng(`${seed}/${p}`);
  if (proto === 'dkg')
    return P.map(
      (self) =>
        new EcdsaDkgParty({
          setupLog: new MemorySigningLog(),
          sessionId,
          self,
          participants: P,
          threshold: 1,
          rng: rng(self),
        }),
    );
  const ks = clone(keys);
  if (proto === 'resetup') {
    return ['n1', 'n3'].map(
      (self) =>
        new EcdsaOtResetupParty({
          setupLog: new MemorySigningLog(),
          sessionId,
          self,
          members: ['n1', 'n3'],
          keyShare: ks.get(self)!,
          rng: rng(self),
        }),
    );
  }
  if (proto === 'reshare') {
    return P.map(
      (self) =>
        new EcdsaReshareParty({
          setupLog: new MemorySigningLog(),
          sessionId,
          self,
          dealers: ['n1', 'n2'],
          newParticipants: ['n2', 'n3'],
          newThreshold: 1,
          oldPublic: keys.get('n1')!.public,
          keyShare: self === 'n3' ? undefined : ks.get(self),
          rng: rng(self),
        }),
    );
  }
  return P.map(
    (self) =>
      new EcdsaSignParty({
        signingLog: new MemorySigningLog(),
        sessionId,
        self,
        signers: P,
        keyShare: ks.get(self)!,
        digest,
        rng: rng(self),
      }),
  );
}

/** Payloads of an honest run in another session, for replays. */
function capture(proto: Proto, seed: string): Replays {
  return capturePayloads(parties(proto, 'another-session', seed), seed);
}

/**
 * Aborts that name no one: DKLs23's ψ and final u, w only show up as an invalid signature (round ≥ 2),
 * and a pair whose two ends come from different setups (round 1 direct) may be an honest party's stale state.
 */
const UNATTRIBUTABLE = /not attributable|do not add up/;

describe('adversarial messages: tampering ends in ProtocolAbortedError blaming the tamperer (or, where DKLs23 cannot attribute, nobody), never a crash or a wrong result', () => {
  const replays = new Map<string, Replays>();
  for (const t of messageTypes) {
    it(`${t.proto} round ${t.round} ${t.kind}: mutated field, truncation, extension, replay from another session or impersonation`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...(t.senders ?? P)),
          messageMutation,
          fc.boolean(),
          fc.nat(),
          (bad, mu, allVictims, seedN) => {
            const seed = `s${seedN % 2}`;
            const key = `${t.proto}/${seed}`;
            if (mu.kind === 'replay' && !replays.has(key)) replays.set(key, capture(t.proto, seed));
            const { fault, victims } = mutatingFault(bad, t, mu, {
              allVictims,
              replays: replays.get(key) ?? new Map(),
              participants: P,
            });
            const rep = runParties(parties(t.proto, 'the-session', seed), { rng: seededRng(`order-${seedN}`), fault });
            expect([...rep.crashes.values()]).toEqual([]);
            expect(victims.size).toBeGreaterThan(0);
            // Only honest parties are judged (the tamperer's process believes it sent the original). A party waiting
            // on an aborted peer stalls (the node layer's timeout ends it), so not every honest party must abort.
            for (const [p, e] of rep.aborts) {
              if (p === bad) continue;
              if (e.blame.length === 0) {
                expect(t.proto === 'sign' && (t.round >= 2 || (t.round === 1 && t.kind === 'direct'))).toBe(true);
                expect(e.reason).toMatch(UNATTRIBUTABLE);
              } else expect(e.blame).toContain(bad);
            }
            for (const v of victims) {
              expect(rep.results.has(v)).toBe(false);
              if (mu.kind === 'impersonate' && rep.aborts.has(v)) expect(rep.aborts.get(v)!.blame).toEqual([bad]);
            }
            for (const r of rep.results.values()) {
              if (t.proto === 'sign') expect(nobleVerifies((r as EcdsaSignResult).signature, digest, pk)).toBe(true);
            }
            // Somebody honest either aborts or is left waiting: no honest party finishes with the tampered input.
            expect(rep.aborts.size + rep.stalled.length).toBeGreaterThan(0);
          },
        ),
        { numRuns: t.runs },
      );
    });
  }
});

/** A signer that feeds other inputs into the multiplication than the ones its public points commit to (Alice's γ). */
class CheatingSigner extends EcdsaSignParty {
  constructor(
    opts: ConstructorParameters<typeof EcdsaSignParty>[0],
    private readonly victim: string,
    private readonly which: 'instance' | 'key',
  ) {
    super(opts);
  }
  protected override multiplicationInputs(peer: string, r: bigint, sk: bigint): [bigint, bigint] {
    if (peer !== this.victim) return [r, sk];
    return this.which === 'instance' ? [mod(r + 1n, Q), sk] : [r, mod(sk + 12345n, Q)];
  }
}

describe('DKLs23 consistency checks', () => {
  for (const which of ['instance', 'key'] as const) {
    it(`a signer using an inconsistent ${which === 'instance' ? 'instance key' : 'key share'} in the multiplication (the γ attack) is caught and blamed; the pair is burnt and refuses to sign until re-setup`, () => {
      const ks = clone(keys);
      const rep = ecdsaSignRun(ks, ['n1', 'n2'], digest, {
        seed: `gamma-${which}`,
        make: (self) => (self === 'n2' ? (o) => new CheatingSigner(o, 'n1', which) : undefined),
      });
      expect(rep.crashes.size).toBe(0);
      expect(rep.results.size).toBe(0);
      expect(rep.aborts.get('n1')?.blame).toEqual(['n2']);
      expect(rep.aborts.get('n1')?.reason).toMatch(/multiplication inputs inconsistent/);
      // n1 burnt its pair with n2, and that is what it persists.
      expect(ks.get('n1')!.burntPeers()).toEqual(['n2']);
      const persisted = EcdsaKeyShare.deserialize(ks.get('n1')!.serialize());
      expect(persisted.burntPeers()).toEqual(['n2']);
      expect(
        () =>
          new EcdsaSignParty({
            signingLog: new MemorySigningLog(),
            sessionId: 'next',
            self: 'n1',
            signers: ['n1', 'n2'],
            keyShare: persisted,
            digest,
          }),
      ).toThrow(InvalidStateError);
      // n1 still signs with n3.
      const after = new Map([...ks, ['n1', persisted]]);
      const ok = ecdsaSignRun(after, ['n1', 'n3'], digest, { seed: 'after' });
      expect(ok.results.size).toBe(2);
      // A pairwise re-setup restores the pair; then n1 and n2 sign again.
      const re = runParties(
        ['n1', 'n2'].map(
          (self) =>
            new EcdsaOtResetupParty({
              setupLog: new MemorySigningLog(),
              sessionId: `resetup-${which}`,
              self,
              members: ['n1', 'n2'],
              keyShare: after.get(self)!,
              rng: seededRng(self),
            }),
        ),
        { rng: seededRng('re') },
      );
      expect(re.aborts.size + re.crashes.size + re.stalled.length).toBe(0);
      expect(after.get('n1')!.burntPeers()).toEqual([]);
      const reloaded = new Map([...after].map(([k, v]) => [k, EcdsaKeyShare.deserialize(v.serialize())]));
      const again = ecdsaSignRun(reloaded, ['n2', 'n1'], digest, { seed: 'again' });
      expect(again.results.size).toBe(2);
      expect(nobleVerifies(again.results.get('n1')!.signature, digest, pk)).toBe(true);
    });
  }

  it('a re-setup cannot be repeated with the session id and members of one already installed (its pairs would carry the same setup id)', () => {
    const ks = clone(keys);
    const make = (sid: string) =>
      ['n1', 'n2'].map(
        (self) =>
          new EcdsaOtResetupParty({
            setupLog: new MemorySigningLog(),
            sessionId: sid,
            self,
            members: ['n1', 'n2'],
            keyShare: ks.get(self)!,
            rng: seededRng(self),
          }),
      );
    expect(runParties(make('resetup-once'), { rng: seededRng('once') }).results.size).toBe(2);
    expect(() => make('resetup-once')).toThrow(InvalidArgumentError);
    expect(
      () =>
        new EcdsaOtResetupParty({
          setupLog: new MemorySigningLog(),
          sessionId: 'resetup-once',
          self: 'n1',
          members: ['n1', 'n2', 'n3'],
          keyShare: ks.get('n1')!,
        }),
    ).not.toThrow();
    expect(runParties(make('resetup-twice'), { rng: seededRng('twice') }).results.size).toBe(2);
  });

  it('a tampered re-setup flight aborts with blame and installs nothing', () => {
    const ks = clone(keys);
    const before = ks.get('n1')!.serialize();
    const rep = runParties(
      ['n1', 'n2'].map(
        (self) =>
          new EcdsaOtResetupParty({
            setupLog: new MemorySigningLog(),
            sessionId: 'resetup-bad',
            self,
            members: ['n1', 'n2'],
            keyShare: ks.get(self)!,
            rng: seededRng(self),
          }),
      ),
      {
        rng: seededRng('re'),
        fault: tamper(
          (d) => d.from === 'n2' && d.message.round === 2,
          (p) => {
            p[p.length - 1] = p[p.length - 1]! ^ 1;
            return p;
          },
        ),
      },
    );
    expect(rep.crashes.size).toBe(0);
    expect(rep.results.has('n1')).toBe(false);
    expect(rep.aborts.get('n1')?.blame).toEqual(['n2']);
    expect(ks.get('n1')!.serialize()).toEqual(before);
  });

  it('a re-setup that one member confirmed to some peers only leaves pairs out of sync: the next signing aborts before any answer naming no honest party, burns the pair, and a re-setup restores signing [2/L1]', () => {
    const ks = clone(keys);
    const re = runParties(
      ['n1', 'n2', 'n3'].map(
        (self) =>
          new EcdsaOtResetupParty({
            setupLog: new MemorySigningLog(),
            sessionId: 'resetup-withheld',
            self,
            members: ['n1', 'n2', 'n3'],
            keyShare: ks.get(self)!,
            rng: seededRng(self),
          }),
      ),
      // n3 withholds its confirmation from n2: n1 and n3 install the new pairs, n2 keeps its old ones.
      {
        rng: seededRng('withheld'),
        fault: (d) =>
          d.from === 'n3' && d.to === 'n2' && d.message.round === 6 ? { kind: 'drop' } : { kind: 'deliver' },
      },
    );
    expect([...re.results.keys()].sort()).toEqual(['n1', 'n3']);
    expect(re.stalled).toEqual(['n2']);
    const rep = ecdsaSignRun(ks, ['n1', 'n2'], digest, { seed: 'out-of-sync' });
    expect(rep.crashes.size).toBe(0);
    expect(rep.results.size).toBe(0);
    for (const p of ['n1', 'n2']) {
      expect(rep.aborts.get(p)?.blame).toEqual([]);
      expect(rep.aborts.get(p)?.reason).toMatch(/different setup .* run an OT re-setup/);
    }
    expect(ks.get('n1')!.burntPeers()).toEqual(['n2']);
    expect(ks.get('n2')!.burntPeers()).toEqual(['n1']);
    const fix = runParties(
      ['n1', 'n2'].map(
        (self) =>
          new EcdsaOtResetupParty({
            setupLog: new MemorySigningLog(),
            sessionId: 'resetup-fix',
            self,
            members: ['n1', 'n2'],
            keyShare: ks.get(self)!,
            rng: seededRng(self),
          }),
      ),
      { rng: seededRng('fix') },
    );
    expect(fix.results.size).toBe(2);
    const ok = ecdsaSignRun(ks, ['n2', 'n1'], digest, { seed: 'resynced' });
    expect(ok.results.size).toBe(2);
    expect(nobleVerifies(ok.results.get('n2')!.signature, digest, pk)).toBe(true);
  });

  it('a multiplication request claiming another OT setup is refused before any answer and burns the pair (not attributable: it may be stale state)', () => {
    const ks = clone(keys);
    const off = 4 + 'tessera/ecdsa/sign/r1d/v1'.length + 32;
    const rep = ecdsaSignRun(ks, ['n1', 'n2'], digest, {
      seed: 'setup-id',
      fault: tamper(
        (d) => d.from === 'n2' && d.message.round === 1 && d.message.to !== null,
        (p) => {
          p[off + 5] = p[off + 5]! ^ 0x40;
          return p;
        },
      ),
    });
    expect(rep.crashes.size).toBe(0);
    expect(rep.results.size).toBe(0);
    expect(rep.aborts.get('n1')?.blame).toEqual([]);
    expect(rep.aborts.get('n1')?.reason).toMatch(/different setup/);
    expect(ks.get('n1')!.burntPeers()).toEqual(['n2']);
  });

  it('a signer who opens a different instance point than it committed to is blamed', () => {
    const ks = clone(keys);
    // n2's round-2 payload: tag, echo, R (33), salt … — flip a bit of R's x coordinate via a re-encoded valid point is hard; flip the salt instead.
    const rep = ecdsaSignRun(ks, ['n1', 'n2'], digest, {
      seed: 'open',
      fault: tamper(
        (d) => d.from === 'n2' && d.message.round === 2,
        (p) => {
          const off = 4 + 'tessera/ecdsa/sign/r2/v1'.length + 32 + 4 + 32 * 2 + 33;
          p[off] = p[off]! ^ 1;
          return p;
        },
      ),
    });
    expect(rep.aborts.get('n1')?.blame).toEqual(['n2']);
    expect(rep.aborts.get('n1')?.reason).toMatch(/does not match its commitment/);
  });

  it('a tampered multiplication answer (KOS / multiplication check) blames the sender and burns the pair', () => {
    const ks = clone(keys);
    const rep = ecdsaSignRun(ks, ['n1', 'n2'], digest, {
      seed: 'mul',
      fault: tamper(
        (d) => d.from === 'n2' && d.message.round === 2,
        (p) => {
          p[p.length - 100] = p[p.length - 100]! ^ 1;
          return p;
        },
      ),
    });
    expect(rep.aborts.get('n1')?.blame).toEqual(['n2']);
    expect(ks.get('n1')!.burntPeers()).toEqual(['n2']);
  });
});

describe('no continuation after an abort (BitForge)', () => {
  it('an aborted signer re-throws the same abort for every later message, sends nothing and never yields a result', () => {
    const ks = clone(keys);
    const signers = ['n1', 'n2'];
    const ps = signers.map(
      (self) =>
        new EcdsaSignParty({
          signingLog: new MemorySigningLog(),
          sessionId: 'bf',
          self,
          signers,
          keyShare: ks.get(self)!,
          digest,
          rng: seededRng(self),
        }),
    );
    const m1 = ps[0]!.start();
    const m2 = ps[1]!.start();
    // n2's round-1 broadcast arrives with a wrong context: n1 aborts.
    const bad = m2.find((m) => m.to === null)!;
    const p = Uint8Array.from(bad.payload);
    p[p.length - 40] = p[p.length - 40]! ^ 1;
    let first: unknown;
    try {
      for (const m of m2) ps[0]!.receive(m === bad ? { ...bad, payload: p } : m, 'n2');
    } catch (e) {
      first = e;
    }
    expect(ps[0]!.status).toBe('aborted');
    for (const m of m2) expect(() => ps[0]!.receive(m, 'n2')).toThrow(first as Error);
    expect(() => ps[0]!.result()).toThrow(InvalidStateError);
    expect(m1.length).toBe(2);
    // a context mismatch is no OT evidence: the pair is kept (review R-A; this test asserted a burn before)
    expect(ks.get('n1')!.burntPeers()).toEqual([]);
  });
});

describe('DKG checks', () => {
  it('a proof of knowledge verifies only for its own context and prover id (no ambiguous Fiat–Shamir input)', () => {
    const g = getGroup('secp256k1');
    const ctx = ecdsaDkgContext('sid', 1, P);
    const a0 = 12345n;
    const C0 = g.baseMul(a0);
    const proof = provePok(g, ctx, 'n1', a0, C0, seededRng('pok'));
    expect(verifyPok(g, ctx, 'n1', C0, proof)).toBe(true);
    expect(verifyPok(g, ctx, 'n2', C0, proof)).toBe(false);
    expect(verifyPok(g, ecdsaDkgContext('sid', 1, ['n1', 'n2']), 'n1', C0, proof)).toBe(false);
    expect(verifyPok(g, ecdsaDkgContext('sid2', 1, P), 'n1', C0, proof)).toBe(false);
    expect(verifyPok(g, ctx, 'n1', g.baseMul(a0 + 1n), proof)).toBe(false);
  });

  it('a Shamir share that does not match its dealer commitment names the dealer', () => {
    const fault = tamper(
      (d) => d.from === 'n3' && d.to === 'n1' && d.message.round === 2,
      (p) => {
        const off = 4 + 'tessera/ecdsa/dkg/r2/v1'.length + 32 + 4 + 32 * 3;
        p[off + 31] = p[off + 31]! ^ 1;
        return p;
      },
    );
    const rep = runParties(
      P.map(
        (self) =>
          new EcdsaDkgParty({
            setupLog: new MemorySigningLog(),
            sessionId: 'bad-share',
            self,
            participants: P,
            threshold: 1,
            rng: seededRng(self),
          }),
      ),
      { rng: seededRng('b'), fault },
    );
    expect(rep.aborts.get('n1')?.blame).toEqual(['n3']);
    expect(rep.aborts.get('n1')?.reason).toMatch(/does not match the dealer commitment/);
    expect(rep.results.size).toBe(0);
  });

  it('a DKG package from another session is refused (its proof of knowledge is bound to session and committee)', () => {
    for (const [sid, committee] of [
      ['old-session', P],
      ['new-session', ['n1', 'n2', 'n4']],
    ] as const) {
      const other = new EcdsaDkgParty({
        setupLog: new MemorySigningLog(),
        sessionId: sid,
        self: 'n2',
        participants: [...committee],
        threshold: 1,
        rng: seededRng('o'),
      });
      const stale = other.start().find((m) => m.to === null)!;
      const rep = runParties(
        P.map(
          (self) =>
            new EcdsaDkgParty({
              setupLog: new MemorySigningLog(),
              sessionId: 'new-session',
              self,
              participants: P,
              threshold: 1,
              rng: seededRng(self),
            }),
        ),
        {
          rng: seededRng('x'),
          fault: (d) =>
            d.from === 'n2' && d.message.round === 1 && d.message.to === null
              ? { kind: 'replace', bytes: encodeMessage({ ...stale, sessionId: 'new-session' }) }
              : { kind: 'deliver' },
        },
      );
      for (const p of ['n1', 'n3']) {
        expect(rep.aborts.get(p)?.blame).toEqual(['n2']);
        expect(rep.aborts.get(p)?.reason).toMatch(/proof of knowledge/);
      }
    }
  });
});
