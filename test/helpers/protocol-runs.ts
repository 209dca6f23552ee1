/**
 * Deterministic DKG, signing and resharing runs for both curves. Party `p` draws from
 * `seededRng('<seed>/<p>')` and the runner's delivery order from `seededRng('<seed>/order')`, so a
 * run is a function of its seed. `ecdsaDkgRun`, `frostSignRun`, … return the run report; their
 * twins without `Run` take the same arguments, assert a clean run and return its result: the
 * shares, the one signature all signers agree on, or the new committee's shares.
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

interface RunOptions {
  seed?: string;
  sessionId?: string;
  fault?: FaultInjector;
}

/** A DKG run function whose parties `make` builds from the options both curves' DKG parties take. */
function dkgRunner<O extends RunOptions, R, P extends ProtocolParty<R>>(
  make: (o: { sessionId: string; self: string; participants: string[]; threshold: number; rng: Rng }, opts: O) => P,
) {
  return (participants: string[], t: number, opts: O = {} as O): RunReport<R> & { parties: P[] } => {
    const seed = opts.seed ?? 'dkg';
    const sessionId = opts.sessionId ?? `dkg-${seed}`;
    return run(
      participants,
      seed,
      (self, rng) => make({ sessionId, self, participants, threshold: t, rng }, opts),
      opts.fault,
    );
  };
}

/** A signing session whose parties `make` builds from the options both curves' signing parties take. */
function signRun<K, R, P extends ProtocolParty<R>>(
  shares: Map<string, K>,
  signers: string[],
  opts: RunOptions,
  make: (o: { sessionId: string; self: string; signers: string[]; keyShare: K; rng: Rng }) => P,
): RunReport<R> & { parties: P[] } {
  const seed = opts.seed ?? 'sign';
  const sessionId = opts.sessionId ?? `sign-${seed}`;
  return run(
    signers,
    seed,
    (self, rng) => make({ sessionId, self, signers, keyShare: shares.get(self)!, rng }),
    opts.fault,
  );
}

/**
 * A reshare run function among the dealers and the new participants that are not dealers, whose
 * parties `make` builds from the options both curves' reshare parties take.
 */
function reshareRunner<K extends { public: unknown }, O extends RunOptions, R, P extends ProtocolParty<R>>(
  make: (
    o: {
      sessionId: string;
      self: string;
      dealers: string[];
      newParticipants: string[];
      newThreshold: number;
      oldPublic: K['public'];
      keyShare: K | undefined;
      rng: Rng;
    },
    opts: O,
  ) => P,
) {
  return (
    oldShares: Map<string, K>,
    dealers: string[],
    newParticipants: string[],
    newThreshold: number,
    opts: O = {} as O,
  ): RunReport<R> & { parties: P[] } => {
    const seed = opts.seed ?? 'reshare';
    const sessionId = opts.sessionId ?? `reshare-${seed}`;
    const oldPublic = oldShares.get(dealers[0]!)!.public;
    const members = [...dealers, ...newParticipants.filter((p) => !dealers.includes(p))];
    return run(
      members,
      seed,
      (self, rng) =>
        make(
          {
            sessionId,
            self,
            dealers,
            newParticipants,
            newThreshold,
            oldPublic,
            keyShare: dealers.includes(self) ? oldShares.get(self) : undefined,
            rng,
          },
          opts,
        ),
      opts.fault,
    );
  };
}

/** The results of a clean run (asserting it was clean). */
function cleanResults<R>(rep: RunReport<R>): Map<string, R> {
  expectClean(rep);
  return rep.results;
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

// ECDSA (DKLs23 over secp256k1); every party gets a fresh in-memory setup or signing log

export type EcdsaSignPartyFactory = (opts: ConstructorParameters<typeof EcdsaSignParty>[0]) => EcdsaSignParty;

export const ecdsaDkgRun = dkgRunner<RunOptions, EcdsaKeyShare, EcdsaDkgParty>(
  (o) => new EcdsaDkgParty({ ...o, setupLog: new MemorySigningLog() }),
);
export const ecdsaDkg = (...a: Parameters<typeof ecdsaDkgRun>) => cleanResults(ecdsaDkgRun(...a));

export function ecdsaSignRun(
  shares: Map<string, EcdsaKeyShare>,
  signers: string[],
  digest: Uint8Array,
  opts: RunOptions & {
    derivation?: EcdsaDerivation;
    /** A signer's own party class (e.g. a cheating one); default `EcdsaSignParty`. */
    make?: (self: string) => EcdsaSignPartyFactory | undefined;
    /** Each signer's signing log (default: a fresh in-memory one per run). */
    logs?: Map<string, SigningLog>;
  } = {},
): RunReport<EcdsaSignResult> & { parties: EcdsaSignParty[] } {
  return signRun(shares, signers, opts, (common) => {
    const o = {
      ...common,
      digest,
      derivation: opts.derivation,
      signingLog: opts.logs?.get(common.self) ?? new MemorySigningLog(),
    };
    const f = opts.make?.(common.self);
    return f ? f(o) : new EcdsaSignParty(o);
  });
}
export const ecdsaSign = (...a: Parameters<typeof ecdsaSignRun>) => agreedSignature(ecdsaSignRun(...a), a[1]);

export const ecdsaReshareRun = reshareRunner<EcdsaKeyShare, RunOptions, EcdsaReshareResult, EcdsaReshareParty>(
  (o) => new EcdsaReshareParty({ ...o, setupLog: new MemorySigningLog() }),
);
export const ecdsaReshare = (...a: Parameters<typeof ecdsaReshareRun>) => newShares(ecdsaReshareRun(...a), a[2]);

// FROST (Ed25519); `backend` picks the group implementation (default 'fast')

interface FrostRunOptions extends RunOptions {
  backend?: BackendName;
}

const ed25519 = (opts: FrostRunOptions) => getGroup('ed25519', opts.backend ?? 'fast');

export const frostDkgRun = dkgRunner<FrostRunOptions, FrostKeyShare, FrostDkgParty>(
  (o, opts) => new FrostDkgParty({ ...o, group: ed25519(opts) }),
);
export const frostDkg = (...a: Parameters<typeof frostDkgRun>) => cleanResults(frostDkgRun(...a));

export function frostSignRun(
  shares: Map<string, FrostKeyShare>,
  signers: string[],
  message: Uint8Array,
  opts: FrostRunOptions & {
    derivation?: Derivation;
    /** Each signer's rng (default: the seeded one). */
    rng?: (self: string) => Rng;
  } = {},
): RunReport<SignResult> & { parties: FrostSignParty[] } {
  return signRun(
    shares,
    signers,
    opts,
    (o) =>
      new FrostSignParty({
        ...o,
        message,
        derivation: opts.derivation,
        signingLog: new MemorySigningLog(),
        rng: opts.rng ? opts.rng(o.self) : o.rng,
        group: ed25519(opts),
      }),
  );
}
export const frostSign = (...a: Parameters<typeof frostSignRun>) => agreedSignature(frostSignRun(...a), a[1]);

export const frostReshareRun = reshareRunner<FrostKeyShare, FrostRunOptions, ReshareResult, FrostReshareParty>(
  (o, opts) => new FrostReshareParty({ ...o, group: ed25519(opts) }),
);
export const frostReshare = (...a: Parameters<typeof frostReshareRun>) => newShares(frostReshareRun(...a), a[2]);
