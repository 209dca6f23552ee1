import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { expect } from 'vitest';
import { FrostDkgParty } from '../../../src/tss/frost/dkg.js';
import type { FrostKeyShare } from '../../../src/tss/frost/key-share.js';
import { FrostReshareParty, type ReshareResult } from '../../../src/tss/frost/reshare.js';
import { type Derivation, FrostSignParty, type SignResult } from '../../../src/tss/frost/sign.js';
import { type BackendName, getGroup } from '../../../src/tss/group/index.js';
import { type Rng, seededRng } from '../../../src/tss/math/rng.js';
import { decodeMessage, encodeMessage } from '../../../src/tss/session/message.js';
import { type Delivery, type FaultInjector, type RunReport, runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';

export const names = (n: number, prefix = 'node') => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

/** Runs a DKG among `participants` and returns each party's share (asserting success). */
export function dkg(
  participants: string[],
  t: number,
  opts: { backend?: BackendName; seed?: string; sessionId?: string } = {},
): Map<string, FrostKeyShare> {
  const group = getGroup('ed25519', opts.backend ?? 'fast');
  const seed = opts.seed ?? 'dkg';
  const parties = participants.map(
    (self) =>
      new FrostDkgParty({
        sessionId: opts.sessionId ?? `dkg-${seed}`,
        self,
        participants,
        threshold: t,
        rng: seededRng(`${seed}/${self}`),
        group,
      }),
  );
  const rep = runParties(parties, { rng: seededRng(`${seed}/order`) });
  expectClean(rep);
  return rep.results;
}

/** Runs a DKG with an optional fault injector; returns the run report and the parties. */
export function dkgRun(
  participants: string[],
  t: number,
  seed: string,
  fault?: FaultInjector,
  backend: BackendName = 'fast',
): RunReport<FrostKeyShare> & { parties: FrostDkgParty[] } {
  const group = getGroup('ed25519', backend);
  const parties = participants.map(
    (self) =>
      new FrostDkgParty({
        sessionId: `dkg-${seed}`,
        self,
        participants,
        threshold: t,
        rng: seededRng(`${seed}/${self}`),
        group,
      }),
  );
  return { ...runParties(parties, { rng: seededRng(`${seed}/order`), fault }), parties };
}

/** Runs a signing session; returns the run report. */
export function signRun(
  shares: Map<string, FrostKeyShare>,
  signers: string[],
  message: Uint8Array,
  opts: {
    backend?: BackendName;
    seed?: string;
    sessionId?: string;
    derivation?: Derivation;
    fault?: FaultInjector;
    rng?: (self: string) => Rng;
  } = {},
): RunReport<SignResult> {
  const group = getGroup('ed25519', opts.backend ?? 'fast');
  const seed = opts.seed ?? 'sign';
  const parties = signers.map(
    (self) =>
      new FrostSignParty({
        signingLog: new MemorySigningLog(),
        sessionId: opts.sessionId ?? `sign-${seed}`,
        self,
        signers,
        keyShare: shares.get(self)!,
        message,
        derivation: opts.derivation,
        rng: opts.rng ? opts.rng(self) : seededRng(`${seed}/${self}`),
        group,
      }),
  );
  return runParties(parties, { rng: seededRng(`${seed}/order`), fault: opts.fault });
}

/** Signs and returns the one signature all signers agree on. */
export function sign(
  shares: Map<string, FrostKeyShare>,
  signers: string[],
  message: Uint8Array,
  opts: Parameters<typeof signRun>[3] = {},
): SignResult {
  const rep = signRun(shares, signers, message, opts);
  expectClean(rep);
  const sigs = [...rep.results.values()];
  expect(sigs).toHaveLength(signers.length);
  for (const s of sigs) expect(Buffer.from(s.signature).equals(Buffer.from(sigs[0]!.signature))).toBe(true);
  return sigs[0]!;
}

export function expectClean<R>(rep: RunReport<R>): void {
  expect([...rep.crashes.values()]).toEqual([]);
  expect([...rep.aborts.entries()].map(([k, e]) => `${k}: ${e.reason} [${e.blame.join(',')}]`)).toEqual([]);
  expect(rep.stalled).toEqual([]);
}

/** Verifies an Ed25519 signature with noble AND node:crypto. */
export function verifiesEverywhere(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  const noble = ed25519.verify(sig, msg, publicKey);
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const node = nodeVerify(null, msg, key, sig);
  return noble && node;
}

/** All k-subsets of a list. */
export function subsets<T>(xs: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (xs.length < k) return [];
  const [h, ...rest] = xs;
  return [...subsets(rest, k - 1).map((s) => [h!, ...s]), ...subsets(rest, k)];
}

/** Runs a reshare; returns the report. */
export function reshareRun(
  oldShares: Map<string, FrostKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: { backend?: BackendName; seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<ReshareResult> & { parties: FrostReshareParty[] } {
  const group = getGroup('ed25519', opts.backend ?? 'fast');
  const seed = opts.seed ?? 'reshare';
  const oldPublic = oldShares.get(dealers[0]!)!.public;
  const union = [...dealers, ...newParticipants.filter((p) => !dealers.includes(p))];
  const parties = union.map(
    (self) =>
      new FrostReshareParty({
        sessionId: opts.sessionId ?? `reshare-${seed}`,
        self,
        dealers,
        newParticipants,
        newThreshold,
        oldPublic,
        keyShare: dealers.includes(self) ? oldShares.get(self) : undefined,
        rng: seededRng(`${seed}/${self}`),
        group,
      }),
  );
  return { ...runParties(parties, { rng: seededRng(`${seed}/order`), fault: opts.fault }), parties };
}

/** Reshares and returns the new committee's shares (asserting success). */
export function reshare(
  oldShares: Map<string, FrostKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: Parameters<typeof reshareRun>[4] = {},
): Map<string, FrostKeyShare> {
  const rep = reshareRun(oldShares, dealers, newParticipants, newThreshold, opts);
  expectClean(rep);
  const out = new Map<string, FrostKeyShare>();
  for (const [p, r] of rep.results) if (r.share) out.set(p, r.share);
  expect([...out.keys()].sort()).toEqual([...newParticipants].sort());
  return out;
}

/** A fault injector that rewrites the payload of matching deliveries. */
export function tamper(match: (d: Delivery) => boolean, edit: (payload: Uint8Array) => Uint8Array): FaultInjector {
  return (d) => {
    if (!match(d)) return { kind: 'deliver' };
    const m = decodeMessage(d.bytes);
    return { kind: 'replace', bytes: encodeMessage({ ...m, payload: edit(Uint8Array.from(m.payload)) }) };
  };
}
