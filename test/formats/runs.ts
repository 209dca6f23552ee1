/**
 * The deterministic protocol runs whose outputs (key shares) and wire messages the format pins
 * fix. Every party draws from `seededRng`, the runner's delivery order from a seeded rng, and the
 * signing / setup logs are in memory, so a run is a pure function of its seeds. Written out here
 * (not via the protocol test helpers) so that the pinned runs do not move when those helpers do.
 */
import { expect } from 'vitest';
import { EcdsaDkgParty } from '../../src/tss/ecdsa/dkg.js';
import { EcdsaKeyShare } from '../../src/tss/ecdsa/key-share.js';
import { EcdsaOtResetupParty, type EcdsaOtResetupResult } from '../../src/tss/ecdsa/ot-resetup.js';
import { EcdsaReshareParty, type EcdsaReshareResult } from '../../src/tss/ecdsa/reshare.js';
import { EcdsaSignParty, type EcdsaSignResult } from '../../src/tss/ecdsa/sign.js';
import { FrostDkgParty } from '../../src/tss/frost/dkg.js';
import type { FrostKeyShare } from '../../src/tss/frost/key-share.js';
import { FrostReshareParty, type ReshareResult } from '../../src/tss/frost/reshare.js';
import { FrostSignParty, type SignResult } from '../../src/tss/frost/sign.js';
import { getGroup } from '../../src/tss/group/index.js';
import { seededRng } from '../../src/tss/math/rng.js';
import type { ProtocolParty } from '../../src/tss/session/party.js';
import { type Delivery, type RunReport, runParties } from '../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../src/tss/session/signing-log.js';

export const P = ['node-1', 'node-2', 'node-3'];
export const THRESHOLD = 1;
export const FROST_MESSAGE = new TextEncoder().encode('tessera format pin: frost message');
/** SHA-256("tessera format pin: ecdsa message") is not needed: any 32 bytes are a digest. */
export const ECDSA_DIGEST = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);

/** Every delivery the runner made, in the order it handed them to the fault hook. */
export type Transcript = Delivery[];

function run<R>(parties: ProtocolParty<R>[], seed: string, transcript?: Transcript): RunReport<R> {
  const rep = runParties(parties, {
    rng: seededRng(`${seed}/order`),
    fault: (d) => {
      transcript?.push(d);
      return { kind: 'deliver' };
    },
  });
  expect([...rep.crashes.values()]).toEqual([]);
  expect([...rep.aborts.entries()].map(([k, e]) => `${k}: ${e.reason}`)).toEqual([]);
  expect(rep.stalled).toEqual([]);
  return rep;
}

const ed = () => getGroup('ed25519', 'fast');

// ------------------------------------------------------------------------------------- FROST

export function frostDkg(t?: Transcript): Map<string, FrostKeyShare> {
  const seed = 'pins/frost/dkg';
  const parties = P.map(
    (self) =>
      new FrostDkgParty({
        sessionId: seed,
        self,
        participants: P,
        threshold: THRESHOLD,
        rng: seededRng(`${seed}/${self}`),
        group: ed(),
      }),
  );
  return run(parties, seed, t).results;
}

export function frostSign(shares: Map<string, FrostKeyShare>, t?: Transcript): Map<string, SignResult> {
  const seed = 'pins/frost/sign';
  const signers = ['node-1', 'node-2'];
  const parties = signers.map(
    (self) =>
      new FrostSignParty({
        signingLog: new MemorySigningLog(),
        sessionId: seed,
        self,
        signers,
        keyShare: shares.get(self)!,
        message: FROST_MESSAGE,
        rng: seededRng(`${seed}/${self}`),
        group: ed(),
      }),
  );
  return run(parties, seed, t).results;
}

/** Refresh of the same committee by two dealers: version 2. */
export function frostReshare(shares: Map<string, FrostKeyShare>, t?: Transcript): Map<string, FrostKeyShare> {
  const seed = 'pins/frost/reshare';
  const dealers = ['node-1', 'node-2'];
  const parties = P.map(
    (self) =>
      new FrostReshareParty({
        sessionId: seed,
        self,
        dealers,
        newParticipants: P,
        newThreshold: THRESHOLD,
        oldPublic: shares.get('node-1')!.public,
        keyShare: dealers.includes(self) ? shares.get(self) : undefined,
        rng: seededRng(`${seed}/${self}`),
        group: ed(),
      }),
  );
  const out = new Map<string, FrostKeyShare>();
  for (const [p, r] of run<ReshareResult>(parties, seed, t).results) if (r.share) out.set(p, r.share);
  return out;
}

// ------------------------------------------------------------------------------------- ECDSA

/** Independent copies (serialize/deserialize), so a run can move OT state without touching the input. */
export function cloneEcdsa(shares: Map<string, EcdsaKeyShare>): Map<string, EcdsaKeyShare> {
  return new Map([...shares].map(([k, v]) => [k, EcdsaKeyShare.deserialize(v.serialize())]));
}

export function ecdsaDkg(t?: Transcript): Map<string, EcdsaKeyShare> {
  const seed = 'pins/ecdsa/dkg';
  const parties = P.map(
    (self) =>
      new EcdsaDkgParty({
        setupLog: new MemorySigningLog(),
        sessionId: seed,
        self,
        participants: P,
        threshold: THRESHOLD,
        rng: seededRng(`${seed}/${self}`),
      }),
  );
  return run(parties, seed, t).results;
}

/** Signs with node-1 and node-2; moves the OT state of the given shares (clone first). */
export function ecdsaSign(shares: Map<string, EcdsaKeyShare>, t?: Transcript): Map<string, EcdsaSignResult> {
  const seed = 'pins/ecdsa/sign';
  const signers = ['node-1', 'node-2'];
  const parties = signers.map(
    (self) =>
      new EcdsaSignParty({
        signingLog: new MemorySigningLog(),
        sessionId: seed,
        self,
        signers,
        keyShare: shares.get(self)!,
        digest: ECDSA_DIGEST,
        rng: seededRng(`${seed}/${self}`),
      }),
  );
  return run(parties, seed, t).results;
}

/** Refresh of the same committee by two dealers: version 2. */
export function ecdsaReshare(shares: Map<string, EcdsaKeyShare>, t?: Transcript): Map<string, EcdsaKeyShare> {
  const seed = 'pins/ecdsa/reshare';
  const dealers = ['node-1', 'node-2'];
  const parties = P.map(
    (self) =>
      new EcdsaReshareParty({
        setupLog: new MemorySigningLog(),
        sessionId: seed,
        self,
        dealers,
        newParticipants: P,
        newThreshold: THRESHOLD,
        oldPublic: shares.get('node-1')!.public,
        keyShare: dealers.includes(self) ? shares.get(self) : undefined,
        rng: seededRng(`${seed}/${self}`),
      }),
  );
  const out = new Map<string, EcdsaKeyShare>();
  for (const [p, r] of run<EcdsaReshareResult>(parties, seed, t).results) if (r.share) out.set(p, r.share);
  return out;
}

/** OT re-setup between node-1 and node-3 (installs fresh pairs into the given shares; clone first). */
export function ecdsaOtResetup(shares: Map<string, EcdsaKeyShare>, t?: Transcript): Map<string, EcdsaOtResetupResult> {
  const seed = 'pins/ecdsa/ot-resetup';
  const members = ['node-1', 'node-3'];
  const parties = members.map(
    (self) =>
      new EcdsaOtResetupParty({
        setupLog: new MemorySigningLog(),
        sessionId: seed,
        self,
        members,
        keyShare: shares.get(self)!,
        rng: seededRng(`${seed}/${self}`),
      }),
  );
  return run(parties, seed, t).results;
}
