/**
 * Micro-benchmark of the threshold-ECDSA foundation: base OT setup per pair, one OT extension of
 * the size a multiplication needs, one two-party multiplication (L = 2, as DKLs23 signing uses),
 * each with a same-run ratio to one single-key secp256k1 sign + verify with @noble/curves.
 * Prints one JSON line per case (CPU time of this process, medians over alternating rounds).
 * Run: npm run bench:ecdsa-ot
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { mulReceiverFinish, mulReceiverStart, mulSenderRespond, XI } from '../src/tss/ecdsa/multiply.js';
import { zeroShare } from '../src/tss/ecdsa/zero-share.js';
import { KAPPA, type OtExtReceiver, type OtExtSender, OtSetupAsReceiver, OtSetupAsSender } from '../src/tss/ot/kos.js';
import { encodeScalar, randomScalar } from '../src/tss/ot/scalar.js';
import { systemRandom } from '../src/tss/ot/wire.js';

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Runs `fn` for at least `minMs` of CPU and `minIters` iterations; CPU ms per iteration. */
function timed(fn: () => number | undefined, minMs: number, minIters: number): { perOp: number; iterations: number; bytes: number } {
  let iterations = 0;
  let bytes = 0;
  const c0 = cpuMs();
  while (cpuMs() - c0 < minMs || iterations < minIters) {
    bytes = fn() ?? 0;
    iterations++;
  }
  return { perOp: (cpuMs() - c0) / iterations, iterations, bytes };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function signVerify(): number {
  const sk = secp256k1.utils.randomSecretKey();
  const msg = randomBytes(32);
  const sig = secp256k1.sign(msg, sk, { prehash: false });
  if (!secp256k1.verify(sig, msg, secp256k1.getPublicKey(sk), { prehash: false })) throw new Error('baseline failed');
  return 0;
}

/**
 * The machine is shared, so a single measurement is noisy: alternate short batches of the
 * baseline and the case (ROUNDS times) and report medians of the per-round CPU time and ratio.
 */
const ROUNDS = 7;
function compare(fn: () => number | undefined, caseMs: number): { meanMs: number; ratio: number; baselineMs: number; iterations: number; bytes: number } {
  for (let i = 0; i < 3; i++) {
    fn();
    signVerify();
  }
  const ratios: number[] = [];
  const times: number[] = [];
  const bases: number[] = [];
  let iterations = 0;
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const base = timed(signVerify, 150, 10);
    const c = timed(fn, caseMs, 2);
    ratios.push(c.perOp / base.perOp);
    times.push(c.perOp);
    bases.push(base.perOp);
    iterations += c.iterations;
    bytes = c.bytes;
  }
  return { meanMs: median(times), ratio: median(ratios), baselineMs: median(bases), iterations, bytes };
}

const enc = new TextEncoder();
let counter = 0;

function setupPair(): { sender: OtExtSender; receiver: OtExtReceiver; bytes: number } {
  const params = { setupId: enc.encode(`bench-${counter++}`), senderId: 'alice', receiverId: 'bob' };
  const a = new OtSetupAsSender(params);
  const b = new OtSetupAsReceiver(params);
  const m1 = b.baseOt.setupMessage();
  const m2 = a.baseOt.onSetup(m1);
  const m3 = b.baseOt.onChoices(m2);
  const m4 = a.baseOt.onChallenges(m3);
  const { message: m5, output } = b.baseOt.onResponses(m4);
  const rho = a.baseOt.onOpenings(m5);
  return { sender: a.finish(rho), receiver: b.finish(output), bytes: m1.length + m2.length + m3.length + m4.length + m5.length };
}

const line = (name: string, r: ReturnType<typeof compare>, extra: Record<string, unknown> = {}) =>
  console.log(
    JSON.stringify({
      case: name,
      ms: Number(r.meanMs.toFixed(3)),
      ratio_to_noble_sign_verify: Number(r.ratio.toFixed(2)),
      baseline_ms: Number(r.baselineMs.toFixed(3)),
      bytes_exchanged: r.bytes,
      iterations: r.iterations,
      ...extra,
    }),
  );

line('base OT setup per pair (VSOT x128 incl. Fischlin proof, one direction, both sides)', compare(() => setupPair().bytes, 400), { base_ots: KAPPA });

const pair = setupPair();
line(
  `OT extension of ${XI} (KOS, both sides)`,
  compare(() => {
    const sid = enc.encode(`ext-${counter++}`);
    const { message } = pair.receiver.extend(sid, XI);
    pair.sender.extend(sid, message, XI);
    return message.length;
  }, 150),
  { ots: XI },
);

line(
  'two-party multiplication L=2 (RVOLE incl. extension, both sides)',
  compare(() => {
    const sid = enc.encode(`mul-${counter++}`);
    const bob = mulReceiverStart(pair.receiver, sid, 2);
    const alice = mulSenderRespond(pair.sender, sid, [encodeScalar(randomScalar(systemRandom)), encodeScalar(randomScalar(systemRandom))], bob.message);
    mulReceiverFinish(pair.receiver, bob.pending, alice.message);
    return bob.message.length + alice.message.length;
  }, 250),
  { L: 2 },
);

const seeds = new Map([
  ['p2', randomBytes(32)],
  ['p3', randomBytes(32)],
]);
line(
  'zero share, 3 participants (one party)',
  compare(() => {
    zeroShare('p1', seeds, ['p1', 'p2', 'p3'], enc.encode(`z-${counter++}`));
    return 0;
  }, 50),
);
