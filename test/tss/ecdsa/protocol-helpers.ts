import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { expect } from 'vitest';
import { EcdsaDkgParty } from '../../../src/tss/ecdsa/dkg.js';
import type { EcdsaDerivation } from '../../../src/tss/ecdsa/hd.js';
import { EcdsaKeyShare } from '../../../src/tss/ecdsa/key-share.js';
import { EcdsaReshareParty, type EcdsaReshareResult } from '../../../src/tss/ecdsa/reshare.js';
import { EcdsaSignParty, type EcdsaSignResult } from '../../../src/tss/ecdsa/sign.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { decodeMessage, encodeMessage } from '../../../src/tss/session/message.js';
import { type Delivery, type FaultInjector, type RunReport, runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog, type SigningLog } from '../../../src/tss/session/signing-log.js';

export const names = (n: number, prefix = 'node') => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

export function expectClean<R>(rep: RunReport<R>): void {
  expect([...rep.crashes.values()]).toEqual([]);
  expect([...rep.aborts.entries()].map(([k, e]) => `${k}: ${e.reason} [${e.blame.join(',')}]`)).toEqual([]);
  expect(rep.stalled).toEqual([]);
}

export function dkgRun(
  participants: string[],
  t: number,
  opts: { seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<EcdsaKeyShare> {
  const seed = opts.seed ?? 'dkg';
  const parties = participants.map(
    (self) =>
      new EcdsaDkgParty({
        setupLog: new MemorySigningLog(),
        sessionId: opts.sessionId ?? `dkg-${seed}`,
        self,
        participants,
        threshold: t,
        rng: seededRng(`${seed}/${self}`),
      }),
  );
  return runParties(parties, { rng: seededRng(`${seed}/order`), fault: opts.fault });
}

/** Runs a DKG (asserting success). */
export function dkg(
  participants: string[],
  t: number,
  opts: { seed?: string; sessionId?: string } = {},
): Map<string, EcdsaKeyShare> {
  const rep = dkgRun(participants, t, opts);
  expectClean(rep);
  return rep.results;
}

/** Independent copies of a set of shares (serialize/deserialize), so a test can consume OT state without affecting others. */
export function clone(shares: Map<string, EcdsaKeyShare>): Map<string, EcdsaKeyShare> {
  return new Map([...shares].map(([k, v]) => [k, EcdsaKeyShare.deserialize(v.serialize())]));
}

export type SignPartyFactory = (opts: ConstructorParameters<typeof EcdsaSignParty>[0]) => EcdsaSignParty;

export function signRun(
  shares: Map<string, EcdsaKeyShare>,
  signers: string[],
  digest: Uint8Array,
  opts: {
    seed?: string;
    sessionId?: string;
    derivation?: EcdsaDerivation;
    fault?: FaultInjector;
    make?: (self: string) => SignPartyFactory | undefined;
    /** Each signer's signing log (default: a fresh in-memory one per run). */
    logs?: Map<string, SigningLog>;
  } = {},
): RunReport<EcdsaSignResult> {
  const seed = opts.seed ?? 'sign';
  const parties = signers.map((self) => {
    const signingLog = opts.logs?.get(self) ?? new MemorySigningLog();
    const o = {
      sessionId: opts.sessionId ?? `sign-${seed}`,
      self,
      signers,
      keyShare: shares.get(self)!,
      digest,
      derivation: opts.derivation,
      signingLog,
      rng: seededRng(`${seed}/${self}`),
    };
    const f = opts.make?.(self);
    return f ? f(o) : new EcdsaSignParty(o);
  });
  return runParties(parties, { rng: seededRng(`${seed}/order`), fault: opts.fault });
}

export function sign(
  shares: Map<string, EcdsaKeyShare>,
  signers: string[],
  digest: Uint8Array,
  opts: Parameters<typeof signRun>[3] = {},
): EcdsaSignResult {
  const rep = signRun(shares, signers, digest, opts);
  expectClean(rep);
  const sigs = [...rep.results.values()];
  expect(sigs).toHaveLength(signers.length);
  for (const s of sigs) expect(Buffer.from(s.signature).equals(Buffer.from(sigs[0]!.signature))).toBe(true);
  return sigs[0]!;
}

export const sha256 = (m: Uint8Array) => new Uint8Array(createHash('sha256').update(m).digest());

/** Verifies (r ‖ s) over a digest with noble (prehash: false, lowS). */
export function nobleVerifies(sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  return secp256k1.verify(sig, digest, publicKey, { prehash: false, lowS: true });
}

/** Verifies (r ‖ s) over the SHA-256 of `msg` with node:crypto. */
export function nodeVerifies(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  const spki = Buffer.concat([
    Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex'),
    Buffer.from(publicKey),
  ]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return nodeVerify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig);
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

/** Runs a reshare; returns the report. */
export function reshareRun(
  oldShares: Map<string, EcdsaKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: { seed?: string; sessionId?: string; fault?: FaultInjector } = {},
): RunReport<EcdsaReshareResult> {
  const seed = opts.seed ?? 'reshare';
  const oldPublic = oldShares.get(dealers[0]!)!.public;
  const union = [...dealers, ...newParticipants.filter((p) => !dealers.includes(p))];
  const parties = union.map(
    (self) =>
      new EcdsaReshareParty({
        setupLog: new MemorySigningLog(),
        sessionId: opts.sessionId ?? `reshare-${seed}`,
        self,
        dealers,
        newParticipants,
        newThreshold,
        oldPublic,
        keyShare: dealers.includes(self) ? oldShares.get(self) : undefined,
        rng: seededRng(`${seed}/${self}`),
      }),
  );
  return runParties(parties, { rng: seededRng(`${seed}/order`), fault: opts.fault });
}

/** Reshares and returns the new committee's shares (asserting success). */
export function reshare(
  oldShares: Map<string, EcdsaKeyShare>,
  dealers: string[],
  newParticipants: string[],
  newThreshold: number,
  opts: Parameters<typeof reshareRun>[4] = {},
): Map<string, EcdsaKeyShare> {
  const rep = reshareRun(oldShares, dealers, newParticipants, newThreshold, opts);
  expectClean(rep);
  const out = new Map<string, EcdsaKeyShare>();
  for (const [p, r] of rep.results) if (r.share) out.set(p, r.share);
  expect([...out.keys()].sort()).toEqual([...newParticipants].sort());
  return out;
}
