/**
 * Benchmark of threshold ECDSA (DKLs23): DKG 2-of-3 and 3-of-5 including the pairwise OT setup,
 * signing 2-of-3 (CPU per signature across all parties, signatures/s in one process, bytes
 * exchanged per signature), signing as a node runs it (vault-backed signing log, share written back
 * before every batch of messages), reshare 2-of-3 → 3-of-5, a pairwise OT re-setup; each with a same-run ratio to one single-key
 * secp256k1 sign + verify with @noble/curves. All parties run in this process through the local
 * runner (wire encoding included). The machine is shared: baseline and case batches alternate and
 * medians are reported. One JSON line per case.
 * Run: npm run bench:ecdsa
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointed, ecdsa, type ProtocolParty } from '../src/tss/index.js';
import { MemorySigningLog, runParties, seededRng } from '../src/tss/testing.js';
import { Vault } from '../src/vault/index.js';
import { type Comparison, compareCpu, cpuLine, emitter, medianWall, round, secp256k1SignVerify } from './harness.js';

const emit = emitter('ecdsa');

function compare(fn: () => number, caseMs: number, rounds: number, minIters: number): Comparison<number> {
  return compareCpu(fn, secp256k1SignVerify, { rounds, caseMs, minIters });
}

let counter = 0;

/** Runs the parties; returns total bytes delivered (each broadcast counted once per recipient). Throws on any failure. */
function run<R>(parties: ProtocolParty<R>[]): { bytes: number; results: Map<string, R> } {
  let bytes = 0;
  const rep = runParties(parties, {
    rng: seededRng(`order-${counter}`),
    fault: (d) => {
      bytes += d.bytes.length;
      return { kind: 'deliver' };
    },
  });
  if (rep.results.size !== parties.length)
    throw new Error(`benchmark run failed: ${[...rep.aborts.values()].map((e) => e.message).join('; ')}`);
  return { bytes, results: rep.results };
}

function dkg(n: number, t: number): { bytes: number; shares: Map<string, ecdsa.KeyShare> } {
  const P = Array.from({ length: n }, (_, i) => `node-${i + 1}`);
  const sid = `bench-dkg-${counter++}`;
  const r = run(
    P.map(
      (self) =>
        new ecdsa.DkgParty({ setupLog: new MemorySigningLog(), sessionId: sid, self, participants: P, threshold: t }),
    ),
  );
  return { bytes: r.bytes, shares: r.results };
}

/** One line: CPU ms per operation (all parties) against one noble secp256k1 sign + verify. */
function line(name: string, r: Comparison<number>, extra: Record<string, unknown> = {}): void {
  emit(cpuLine(name, r, 'cpu / noble secp256k1 sign+verify', extra));
}

line(
  'DKG 2-of-3 incl. pairwise OT and zero-seed setup (all parties)',
  compare(() => dkg(3, 1).bytes, 1500, 3, 1),
);
line(
  'DKG 3-of-5 incl. pairwise OT and zero-seed setup (all parties)',
  compare(() => dkg(5, 2).bytes, 1500, 3, 1),
);

const keys = dkg(3, 1).shares;
const signers = ['node-1', 'node-2'];
/** One signature by both signers (with `derivation`, of a child key); bytes exchanged. */
const signOnce = (tag: string, derivation?: ecdsa.Derivation): number => {
  const digest = randomBytes(32);
  const sid = `bench-${tag}-${counter++}`;
  return run(
    signers.map(
      (self) =>
        new ecdsa.SignParty({
          signingLog: new MemorySigningLog(),
          sessionId: sid,
          self,
          signers,
          keyShare: keys.get(self)!,
          digest,
          derivation,
        }),
    ),
  ).bytes;
};
const sign = (): number => signOnce('sign');
const s = compare(sign, 600, 7, 3);
line('sign 2-of-3 (3 rounds, both signers, incl. two multiplications, checks and final verification)', s, {
  target: '<= 25',
  signatures_per_s: round(1000 / s.value, 1),
});
const hdDerivation = { chainCode: new Uint8Array(32).fill(7), path: [44, 60, 0, 0, 5] };
const hdSign = (): number => signOnce('sign-hd', hdDerivation);
line('sign 2-of-3 with HD derivation (path of 5)', compare(hdSign, 600, 5, 3));
const resetup = (): number => {
  const sid = `bench-resetup-${counter++}`;
  return run(
    signers.map(
      (self) =>
        new ecdsa.OtResetupParty({
          setupLog: new MemorySigningLog(),
          sessionId: sid,
          self,
          members: signers,
          keyShare: keys.get(self)!,
        }),
    ),
  ).bytes;
};
line('pairwise OT re-setup, one pair (both directions, both parties)', compare(resetup, 600, 3, 1));
const reshare = (): number => {
  const sid = `bench-reshare-${counter++}`;
  const dealers = ['node-1', 'node-2'];
  const newParticipants = ['node-2', 'node-3', 'node-4', 'node-5', 'node-6'];
  const union = [...dealers, ...newParticipants.filter((p) => !dealers.includes(p))];
  const oldPublic = keys.get('node-1')!.public;
  return run(
    union.map(
      (self) =>
        new ecdsa.ReshareParty({
          setupLog: new MemorySigningLog(),
          sessionId: sid,
          self,
          dealers,
          newParticipants,
          newThreshold: 2,
          oldPublic,
          keyShare: dealers.includes(self) ? keys.get(self) : undefined,
        }),
    ),
  ).bytes;
};
line(
  'reshare 2-of-3 -> 3-of-5 incl. pairwise OT and zero-seed setup of the new committee (all parties)',
  compare(reshare, 1500, 3, 1),
);

// Signing as a node runs it: each signer claims the context in its own vault (one fsynced commit)
// and writes its share back (one fsynced commit) before every batch of messages leaves. CPU as
// above, plus wall-clock time, since fsync waits are not CPU.
const dirs = signers.map(() => mkdtempSync(join(tmpdir(), 'tessera-bench-ecdsa-')));
const vaults = await Promise.all(
  signers.map(async (self, i) => {
    const v = await Vault.create(
      dirs[i]!,
      { kind: 'password', password: new TextEncoder().encode('bench') },
      { argon2: { opsLimit: 1, memLimit: 8192 } },
    );
    const ks = keys.get(self)!;
    v.putShare({
      keyType: 'ecdsa',
      walletId: 'bench',
      version: 1,
      threshold: ks.threshold,
      participants: [...ks.participants],
      publicKey: ks.groupPublicKey,
      share: ks.serialize(),
      activate: true,
    });
    return v;
  }),
);
let commits = 0;
const nodeSign = (): number => {
  const digest = randomBytes(32);
  const sid = `bench-sign-node-${counter++}`;
  return run(
    signers.map((self, i) => {
      const v = vaults[i]!;
      const ks = keys.get(self)!;
      const signingLog = {
        claim: (c: Uint8Array) => {
          commits++;
          return v.claimSigningContext('ecdsa', 'bench', 1, c);
        },
      };
      const party = new ecdsa.SignParty({ sessionId: sid, self, signers, keyShare: ks, digest, signingLog });
      return checkpointed(
        party,
        ecdsa.shareCheckpoint(ks, (bytes) => {
          commits++;
          v.updateShare('ecdsa', 'bench', 1, bytes);
        }),
      );
    }),
  ).bytes;
};
commits = 0;
nodeSign();
const commitsPerSignature = commits;
const nodeCpu = compare(nodeSign, 600, 5, 3);
line(
  'sign 2-of-3 as a node runs it (vault signing log + share written back when changed, before messages leave; both signers)',
  nodeCpu,
  {
    target: '<= 25',
    wall_ms: round(medianWall(25, nodeSign)),
    wall_ms_in_memory: round(medianWall(25, sign)),
    vault_commits_per_signature: commitsPerSignature,
  },
);
for (const v of vaults) v.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
