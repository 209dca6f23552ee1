/**
 * Deterministic DKG, signing and resharing runs for both curves. Party `p` draws from
 * `seededRng('<seed>/<p>')` and the runner's delivery order from `seededRng('<seed>/order')`, so a
 * run is a function of its seed. The `…Run` functions return the run report; the others assert a
 * clean run and return its result.
 */
import { expect } from 'vitest';
import { EcdsaDkgParty } from '../../src/tss/ecdsa/dkg.js';
import type { EcdsaDerivation } from '../../src/tss/ecdsa/hd.js';
import type { EcdsaKeyShare } from '../../src/tss/ecdsa/key-share.js';
import { EcdsaReshareParty, type EcdsaReshareResult } from '../../src/tss/ecdsa/reshare.js';
import { EcdsaSignParty, type EcdsaSignResult } from '../../src/tss/ecdsa/sign.js';
import { FrostDkgParty } from '../../src/tss/frost/dkg.js';
import type { FrostKeyShare } from '../../src/tss/frost/key-share.js';
import { FrostReshareParty, type ReshareResult } from '../../src/tss/frost/reshare.js';
import { type Derivation, FrostSignParty, type SignResult } from '../../src/tss/frost/sign.js';
import { type BackendName, getGroup } from '../../src/tss/group/index.js';
import { type Rng, seededRng } from '../../src/tss/math/rng.js';
import { decodeMessage, encodeMessage } from '../../src/tss/session/message.js';
import type { ProtocolParty } from '../../src/tss/session/party.js';
import { type Delivery, type FaultInjector, type RunReport, runParties } from '../../src/tss/session/runner.js';
import { MemorySigningLog, type SigningLog } from '../../src/tss/session/signing-log.js';

export const names = (n: number, prefix = 'node') => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

/** Asserts that no party crashed, aborted or stalled. */
export function expectClean<R>(rep: RunReport<R>): void {
  expect([...rep.crashes.values()]).toEqual([]);
  expect([...rep.aborts.entries()].map(([k, e]) => `${k}: ${e.reason} [${e.blame.join(',')}]`)).toEqual([]);
  expect(rep.stalled).toEqual([]);
}

/** All k-subsets of a list. */
export function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...rest] = xs;
  return [...subsets(rest, k - 1).map((s) => [h!, ...s]), ...subsets(rest, k)];
}

/** A fault injector that rewrites the payload of matching deliveries. */
export function tamper(match: (d: Delivery) => boolean, edit: (payload: Uint8Array) => Uint8Array): FaultInjector {
  return (d) => {
    if (!match(d)) return { kind: 'deliver' };
    const m = decodeMessage(d.bytes);
    return { kind: 'replace', bytes: encodeMessage({ ...m, payload: edit(Uint8Array.from(m.payload)) }) };
  };
}

/** Builds one party per member with its seeded rng and runs them in seeded order. */
function run<R, P extends ProtocolParty<R>>(
  members: readonly string[],
  seed: string,
  make: (self: string, rng: Rng) => P,
  fault?: FaultInjector,
): RunReport<R> & { parties: P[] } {
  const parties = members.map((self) => make(self, seededRng(`${seed}/${self}`)));
  return { ...runParties(parties, { rng: seededRng(`${seed}/order`), fault }), parties };
}

/** A reshare's parties: the dealers, then the new participants that are not dealers. */
function reshareMembers(dealers: readonly string[], newParticipants: readonly string[]): string[] {
  return [...dealers, ...newParticipants.filter((p) => !dealers.includes(p))];
}

/** The one signature every signer output (asserting a clean run). */
function agreedSignature<S extends { signature: Uint8Array }>(rep: RunReport<S>, signers: readonly string[]): S {
  expectClean(rep);
  const sigs = [...rep.results.values()];
  expect(sigs).toHaveLength(signers.length);
  for (const s of sigs) expect(Buffer.from(s.signature).equals(Buffer.from(sigs[0]!.signature))).toBe(true);
  return sigs[0]!;
}

/** The new committee's shares (asserting a clean run that gave every new participant a share). */
function newShares<K>(rep: RunReport<{ share?: K }>, newParticipants: readonly string[]): Map<string, K> {
  expectClean(rep);
  const out = new Map<string, K>();
  for (const [p, r] of rep.results) if (r.share) out.set(p, r.share);
  expect([...out.keys()].sort()).toEqual([...newParticipants].sort());
  return out;
}

// ECDSA (DKLs23 over secp256k1)

export type EcdsaSignPartyFactory = (opts: ConstructorParameters<typeof EcdsaSignParty>[0]) => EcdsaSignParty;

export function ecdsaDkgRun(
  participants: string[],
  t: number,
  opts: { seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<EcdsaKeyShare> & { parties: EcdsaDkgParty[] } {
  const seed = opts.seed ?? 'dkg';
  return run(
    participants,
    seed,
    (self, rng) =>
      new EcdsaDkgParty({
        setupLog: new MemorySigningLog(),
        sessionId: opts.sessionId ?? `dkg-${seed}`,
        self,
        participants,
        threshold: t,
        rng,
      }),
    opts.fault,
  );
}

export function ecdsaDkg(
  participants: string[],
  t: number,
  opts: { seed?: string; sessionId?: string } = {},
): Map<string, EcdsaKeyShare> {
  const rep = ecdsaDkgRun(participants, t, opts);
  expectClean(rep);
  return rep.results;
}

export function ecdsaSignRun(
  shares: Map<string, EcdsaKeyShare>,
  signers: string[],
  digest: Uint8Array,
  opts: {
    seed?: string;
    sessionId?: string;
    derivation?: EcdsaDerivation;
    fault?: FaultInjector;
    /** A signer's own party class (e.g. a cheating one); default `EcdsaSignParty`. */
    make?: (self: string) => EcdsaSignPartyFactory | undefined;
    /** Each signer's signing log (default: a fresh in-memory one per run). */
    logs?: Map<string, SigningLog>;
  } = {},
): RunReport<EcdsaSignResult> & { parties: EcdsaSignParty[] } {
  const seed = opts.seed ?? 'sign';
  return run(
    signers,
    seed,
    (self, rng) => {
      const o = {
        sessionId: opts.sessionId ?? `sign-${seed}`,
        self,
        signers,
        keyShare: shares.get(self)!,
        digest,
        derivation: opts.derivation,
        signingLog: opts.logs?.get(self) ?? new MemorySigningLog(),
        rng,
      };
      const f = opts.make?.(self);
      return f ? f(o) : new EcdsaSignParty(o);
    },
    opts.fault,
  );
}

export function ecdsaSign(
  shares: Map<string, EcdsaKeyShare>,
  signers: string[],
  digest: Uint8Array,
  opts: Parameters<typeof ecdsaSignRun>[3] = {},
): EcdsaSignResult {
  return agreedSignature(ecdsaSignRun(shares, signers, digest, opts), signers);
}

export function ecdsaReshareRun(
  oldShares: Map<string, EcdsaKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: { seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<EcdsaReshareResult> & { parties: EcdsaReshareParty[] } {
  const seed = opts.seed ?? 'reshare';
  const oldPublic = oldShares.get(dealers[0]!)!.public;
  return run(
    reshareMembers(dealers, newParticipants),
    seed,
    (self, rng) =>
      new EcdsaReshareParty({
        setupLog: new MemorySigningLog(),
        sessionId: opts.sessionId ?? `reshare-${seed}`,
        self,
        dealers,
        newParticipants,
        newThreshold,
        oldPublic,
        keyShare: dealers.includes(self) ? oldShares.get(self) : undefined,
        rng,
      }),
    opts.fault,
  );
}

export function ecdsaReshare(
  oldShares: Map<string, EcdsaKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: Parameters<typeof ecdsaReshareRun>[4] = {},
): Map<string, EcdsaKeyShare> {
  return newShares(ecdsaReshareRun(oldShares, dealers, newParticipants, newThreshold, opts), newParticipants);
}

// FROST (Ed25519); `backend` picks the group implementation (default 'fast')

export function frostDkgRun(
  participants: string[],
  t: number,
  opts: { backend?: BackendName; seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<FrostKeyShare> & { parties: FrostDkgParty[] } {
  const group = getGroup('ed25519', opts.backend ?? 'fast');
  const seed = opts.seed ?? 'dkg';
  return run(
    participants,
    seed,
    (self, rng) =>
      new FrostDkgParty({
        sessionId: opts.sessionId ?? `dkg-${seed}`,
        self,
        participants,
        threshold: t,
        rng,
        group,
      }),
    opts.fault,
  );
}

export function frostDkg(
  participants: string[],
  t: number,
  opts: { backend?: BackendName; seed?: string; sessionId?: string } = {},
): Map<string, FrostKeyShare> {
  const rep = frostDkgRun(participants, t, opts);
  expectClean(rep);
  return rep.results;
}

export function frostSignRun(
  shares: Map<string, FrostKeyShare>,
  signers: string[],
  message: Uint8Array,
  opts: {
    backend?: BackendName;
    seed?: string;
    sessionId?: string;
    derivation?: Derivation;
    fault?: FaultInjector;
    /** Each signer's rng (default: the seeded one). */
    rng?: (self: string) => Rng;
  } = {},
): RunReport<SignResult> & { parties: FrostSignParty[] } {
  const group = getGroup('ed25519', opts.backend ?? 'fast');
  const seed = opts.seed ?? 'sign';
  return run(
    signers,
    seed,
    (self, rng) =>
      new FrostSignParty({
        signingLog: new MemorySigningLog(),
        sessionId: opts.sessionId ?? `sign-${seed}`,
        self,
        signers,
        keyShare: shares.get(self)!,
        message,
        derivation: opts.derivation,
        rng: opts.rng ? opts.rng(self) : rng,
        group,
      }),
    opts.fault,
  );
}

export function frostSign(
  shares: Map<string, FrostKeyShare>,
  signers: string[],
  message: Uint8Array,
  opts: Parameters<typeof frostSignRun>[3] = {},
): SignResult {
  return agreedSignature(frostSignRun(shares, signers, message, opts), signers);
}

export function frostReshareRun(
  oldShares: Map<string, FrostKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: { backend?: BackendName; seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<ReshareResult> & { parties: FrostReshareParty[] } {
  const group = getGroup('ed25519', opts.backend ?? 'fast');
  const seed = opts.seed ?? 'reshare';
  const oldPublic = oldShares.get(dealers[0]!)!.public;
  return run(
    reshareMembers(dealers, newParticipants),
    seed,
    (self, rng) =>
      new FrostReshareParty({
        sessionId: opts.sessionId ?? `reshare-${seed}`,
        self,
        dealers,
        newParticipants,
        newThreshold,
        oldPublic,
        keyShare: dealers.includes(self) ? oldShares.get(self) : undefined,
        rng,
        group,
      }),
    opts.fault,
  );
}

export function frostReshare(
  oldShares: Map<string, FrostKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: Parameters<typeof frostReshareRun>[4] = {},
): Map<string, FrostKeyShare> {
  return newShares(frostReshareRun(oldShares, dealers, newParticipants, newThreshold, opts), newParticipants);
}
