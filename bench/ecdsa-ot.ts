/**
 * Micro-benchmark of the threshold-ECDSA foundation: base OT setup per pair, one OT extension of
 * the size a multiplication needs, one two-party multiplication (L = 2, as DKLs23 signing uses),
 * each with a same-run ratio to one single-key secp256k1 sign + verify with @noble/curves.
 * Prints one JSON line per case (CPU time of this process, medians over alternating rounds).
 * Run: npm run bench:ecdsa-ot
 */
import { randomBytes } from 'node:crypto';
import { mulReceiverFinish, mulReceiverStart, mulSenderRespond, XI } from '../src/tss/ecdsa/multiply.js';
import { zeroShare } from '../src/tss/ecdsa/zero-share.js';
import { getGroup } from '../src/tss/group/index.js';
import { randomScalar, systemRng } from '../src/tss/math/rng.js';
import { KAPPA, type OtExtReceiver, type OtExtSender, OtSetupAsReceiver, OtSetupAsSender } from '../src/tss/ot/kos.js';
import { encodeScalar } from '../src/tss/ot/scalar.js';
import { type Comparison, compareCpu, cpuLine, emitter, secp256k1SignVerify } from './harness.js';

const emit = emitter('ecdsa-ot');

/** Medians over 7 alternating rounds of baseline and case (the machine is shared). */
function compare(fn: () => number, caseMs: number): Comparison<number> {
  return compareCpu(fn, secp256k1SignVerify, { rounds: 7, caseMs, minIters: 2 });
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
  return {
    sender: a.finish(rho),
    receiver: b.finish(output),
    bytes: m1.length + m2.length + m3.length + m4.length + m5.length,
  };
}

const line = (name: string, r: Comparison<number>, extra: Record<string, unknown> = {}) =>
  emit(cpuLine(name, r, 'cpu / noble secp256k1 sign+verify', extra));

line(
  'base OT setup per pair (VSOT x128 incl. Fischlin proof, one direction, both sides)',
  compare(() => setupPair().bytes, 400),
  { base_ots: KAPPA },
);

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
    const alice = mulSenderRespond(
      pair.sender,
      sid,
      [
        encodeScalar(randomScalar(getGroup('secp256k1'), systemRng)),
        encodeScalar(randomScalar(getGroup('secp256k1'), systemRng)),
      ],
      bob.message,
    );
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
