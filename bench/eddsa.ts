/**
 * Threshold EdDSA (FROST) benchmark. Prints one JSON line per case with the ratio to a baseline
 * measured in the same run: a single-key Ed25519 sign + verify with @noble/curves.
 *
 *   npm run bench:eddsa            (BENCH_SCALE=0.2 for a quick run)
 *
 * All parties run in this one process, so CPU time per operation is the total across parties.
 */
import { ed25519, ed25519_FROST } from '@noble/curves/ed25519.js';
import { type BackendName, getGroup } from '../src/tss/group/index.js';
import { frost } from '../src/tss/index.js';
import { MemorySigningLog, runParties, seededRng } from '../src/tss/testing.js';
import { type BatchTiming, bestOfBatches, emitter, round } from './harness.js';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const names = (n: number, p = 'node') => Array.from({ length: n }, (_, i) => `${p}-${i + 1}`);

function measure(iterations: number, fn: (i: number) => void): BatchTiming {
  return bestOfBatches(Math.max(5, Math.round(iterations * scale)), fn);
}

function must<R>(rep: ReturnType<typeof runParties<R>>): Map<string, R> {
  if (rep.aborts.size > 0 || rep.crashes.size > 0 || rep.stalled.length > 0)
    throw new Error('benchmark protocol run failed');
  return rep.results;
}

function dkg(parts: string[], t: number, seed: string, backend: BackendName = 'fast'): Map<string, frost.KeyShare> {
  const group = getGroup('ed25519', backend);
  return must(
    runParties(
      parts.map(
        (self) =>
          new frost.DkgParty({
            sessionId: `dkg-${seed}`,
            self,
            participants: parts,
            threshold: t,
            rng: seededRng(`${seed}/${self}`),
            group,
          }),
      ),
      { rng: seededRng(seed) },
    ),
  );
}

function sign(
  shares: Map<string, frost.KeyShare>,
  signers: string[],
  msg: Uint8Array,
  seed: string,
  backend: BackendName,
): Uint8Array {
  const group = getGroup('ed25519', backend);
  const res = must(
    runParties(
      signers.map(
        (self) =>
          new frost.SignParty({
            signingLog: new MemorySigningLog(),
            sessionId: `sign-${seed}`,
            self,
            signers,
            keyShare: shares.get(self)!,
            message: msg,
            rng: seededRng(`${seed}/${self}`),
            group,
          }),
      ),
      { rng: seededRng(seed) },
    ),
  );
  return res.get(signers[0]!)!.signature;
}

const emit = emitter('eddsa');

const msg = new TextEncoder().encode('benchmark message: a 32+ byte Solana-like transaction payload');

// Baseline: single-key Ed25519 sign + verify with noble.
const sk = ed25519.utils.randomSecretKey();
const pub = ed25519.getPublicKey(sk);
const base = measure(400, () => {
  const s = ed25519.sign(msg, sk);
  if (!ed25519.verify(s, msg, pub)) throw new Error('baseline failed');
});
const report = (name: string, m: BatchTiming, extra: Record<string, unknown> = {}) =>
  emit({
    case: name,
    unit: 'cpu ms/op',
    value: m.cpuMs,
    baseline: base.cpuMs,
    ratio: m.cpuMs / base.cpuMs,
    ratioOf: 'cpu / noble ed25519 sign+verify (single key)',
    ...extra,
    ops_per_s: round(1000 / m.wallMs, 1),
    iterations: m.iterations,
  });

// Threshold signing 2-of-3 (two signers), fast backend (default) and noble backend.
const p3 = names(3);
const k3 = dkg(p3, 1, 'bench-k3');
for (const backend of ['fast', 'noble'] as const) {
  const m = measure(backend === 'fast' ? 300 : 40, (i) => {
    sign(k3, [p3[0]!, p3[2]!], msg, `s${i}`, backend);
  });
  report('sign 2-of-3 (total CPU across both signers, incl. share checks and final verify)', m, {
    backend,
    target: '<= 8',
  });
}

// noble's own ed25519_FROST for reference: commit ×2, signShare ×2, aggregate (verifies).
{
  const deal = ed25519_FROST.trustedDealer({ min: 2, max: 3 });
  const ids = Object.keys(deal.secretShares).slice(0, 2);
  const m = measure(20, () => {
    const c = ids.map((id) => ed25519_FROST.commit(deal.secretShares[id]!));
    const list = c.map((x) => x.commitments);
    const shares = Object.fromEntries(
      ids.map((id, j) => [id, ed25519_FROST.signShare(deal.secretShares[id]!, deal.public, c[j]!.nonces, list, msg)]),
    );
    for (const id of ids)
      if (!ed25519_FROST.verifyShare(deal.public, list, msg, id, shares[id]!)) throw new Error('noble share');
    ed25519_FROST.aggregate(deal.public, list, msg, shares);
  });
  report('reference: noble ed25519_FROST 2-of-3 commit+signShare+verifyShare+aggregate', m, { backend: 'noble-frost' });
}

// DKG 2-of-3 and 3-of-5.
for (const [n, t] of [
  [3, 1],
  [5, 2],
] as const) {
  const parts = names(n);
  const m = measure(n === 3 ? 60 : 25, (i) => {
    dkg(parts, t, `d${n}-${i}`);
  });
  report(`dkg ${t + 1}-of-${n} (total CPU across all parties)`, m, { backend: 'fast' });
}

// Reshare 2-of-3 → 3-of-5 (two dealers, five new members, two overlapping).
{
  const newParts = [p3[1]!, p3[2]!, 'new-1', 'new-2', 'new-3'];
  const dealers = [p3[0]!, p3[1]!];
  const group = getGroup('ed25519', 'fast');
  const union = [...dealers, ...newParts.filter((p) => !dealers.includes(p))];
  const m = measure(25, (i) => {
    must(
      runParties(
        union.map(
          (self) =>
            new frost.ReshareParty({
              sessionId: `r-${i}`,
              self,
              dealers,
              newParticipants: newParts,
              newThreshold: 2,
              oldPublic: k3.get(p3[0]!)!.public,
              keyShare: dealers.includes(self) ? k3.get(self) : undefined,
              rng: seededRng(`r${i}/${self}`),
              group,
            }),
        ),
        { rng: seededRng(`r${i}`) },
      ),
    );
  });
  report('reshare 2-of-3 -> 3-of-5 (total CPU across all parties)', m, { backend: 'fast' });
}
