// The burn policy of DKLs23 signing (review 2026-12, R-A and R-C; adapted from the reviewer's
// reproductions): a signer burns its OT pair with a peer only on OT evidence — a failed KOS,
// multiplication or χ·R / χ·pk consistency check, a malformed multiplication message, a reused
// index — never on context mismatches, envelope errors, duplicates or a window overflow.
import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../../src/common/errors.js';
import { OtEvidenceAbortError } from '../../../src/tss/ecdsa/abort.js';
import { EcdsaSignParty } from '../../../src/tss/ecdsa/sign.js';
import { type Group, getGroup, type Point } from '../../../src/tss/group/index.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { INDEX_WINDOW } from '../../../src/tss/ot/kos.js';
import { Q } from '../../../src/tss/ot/scalar.js';
import { decodeMessage, encodeMessage, type Message } from '../../../src/tss/session/message.js';
import { runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, ecdsaSignRun, expectClean, names, tamper } from '../../helpers/protocol-runs.js';
import { clone, nobleVerifies, sha256 } from './protocol-helpers.js';

const ps = names(3);
const base = ecdsaDkg(ps, 1, { seed: 'burn-policy' });
const [a, b] = [ps[0]!, ps[1]!];
const digest = sha256(Uint8Array.of(9));
const R1D_TAG = 'tessera/ecdsa/sign/r1d/v1';
/** Offset of the OT payload (multiplication message 1) inside a round-1 direct payload: tag, ctx, setup id, length. */
const MSG1_OFFSET = 4 + R1D_TAG.length + 32 + 32 + 4;

function party(
  shares: ReturnType<typeof clone>,
  self: string,
  sessionId: string,
  d = digest,
  log = new MemorySigningLog(),
): EcdsaSignParty {
  return new EcdsaSignParty({
    sessionId,
    self,
    signers: [a, b],
    keyShare: shares.get(self)!,
    digest: d,
    signingLog: log,
    rng: seededRng(`${sessionId}/${self}`),
  });
}

describe('no burn without OT evidence [5/R-A]', () => {
  it('two honest signers given different digests keep their OT pair (a context mismatch blames but burns nothing)', () => {
    const shares = clone(base);
    const parties = [a, b].map((self) => party(shares, self, 'tx-1', sha256(Uint8Array.of(self === a ? 1 : 2))));
    const rep = runParties(parties, { rng: seededRng('ra-order') });
    expect(rep.aborts.get(a)?.blame).toEqual([b]);
    expect(rep.aborts.get(b)?.blame).toEqual([a]);
    expect(rep.aborts.get(a)).not.toBeInstanceOf(OtEvidenceAbortError);
    expect(shares.get(a)!.burntPeers()).toEqual([]);
    expect(shares.get(b)!.burntPeers()).toEqual([]);
    // and the next consistent signing between them works
    const ok = ecdsaSignRun(shares, [a, b], digest, { seed: 'ra-after' });
    expectClean(ok);
    expect(nobleVerifies(ok.results.get(a)!.signature, digest, shares.get(a)!.groupPublicKey)).toBe(true);
  });

  it('a transport duplicate of an honest round-1 multiplication request is ignored: the signature completes and the pair is kept', () => {
    const shares = clone(base);
    let duplicated = 0;
    const rep = ecdsaSignRun(shares, [a, b], digest, {
      seed: 'rb',
      fault: (d) => {
        // deliver every message twice, A's round-1 direct message (the multiplication request) included
        if (d.from === a && d.message.round === 1 && d.message.to !== null) duplicated++;
        return { kind: 'duplicate' };
      },
    });
    expect(duplicated).toBe(1);
    expectClean(rep);
    expect(rep.results.size).toBe(2);
    expect(shares.get(a)!.burntPeers()).toEqual([]);
    expect(shares.get(b)!.burntPeers()).toEqual([]);
  });

  it('a different message for the same round slot still aborts with blame, but is no OT evidence and burns nothing', () => {
    const shares = clone(base);
    const pa = party(shares, a, 'slot');
    const pb = party(shares, b, 'slot');
    const ma = pa.start();
    pb.start();
    for (const m of ma) pb.receiveBytes(a, encodeMessage(m)); // round 1 complete: b answered a's request
    const direct = ma.find((m) => m.to !== null)!;
    const other = Uint8Array.from(direct.payload);
    other[other.length - 1] = other[other.length - 1]! ^ 1;
    expect(() => pb.receiveBytes(a, encodeMessage({ ...direct, payload: other }))).toThrow();
    expect(pb.abortError?.blame).toEqual([a]);
    expect(pb.abortError?.reason).toMatch(/different content/);
    expect(pb.abortError).not.toBeInstanceOf(OtEvidenceAbortError);
    expect(shares.get(b)!.burntPeers()).toEqual([]);
  });

  it('an unparsable non-OT field (an invalid point in round 2) blames its sender and burns nothing', () => {
    const shares = clone(base);
    const off = 4 + 'tessera/ecdsa/sign/r2/v1'.length + 32 + 4 + 32 * 2; // R_j's encoding
    const rep = ecdsaSignRun(shares, [a, b], digest, {
      seed: 'bad-point',
      fault: tamper(
        (d) => d.from === b && d.message.round === 2,
        (p) => {
          p[off] = 0x07; // not a valid SEC1 prefix
          return p;
        },
      ),
    });
    expect(rep.aborts.get(a)?.blame).toEqual([b]);
    expect(rep.aborts.get(a)?.reason).toMatch(/malformed signing round-2 message/);
    expect(shares.get(a)!.burntPeers()).toEqual([]);
  });
});

describe('OT evidence still burns both directions [5/R-A]', () => {
  /** Both directions of a's pair with b must be destroyed and the pair recorded as burnt (and persisted as such). */
  function expectBurntBothWays(shares: ReturnType<typeof clone>, pair: NonNullable<ReturnType<typeof peerPair>>) {
    expect(shares.get(a)!.burntPeers()).toEqual([b]);
    expect(pair.out.burned).toBe(true);
    expect(pair.in_.burned).toBe(true);
    expect(() => party(shares, a, 'next')).toThrow(InvalidStateError);
  }
  const peerPair = (shares: ReturnType<typeof clone>) => shares.get(a)!.peers.get(b)!.ot;

  it('a failed KOS check (tampered multiplication request) burns both directions and blames the sender', () => {
    const shares = clone(base);
    const pair = peerPair(shares)!;
    const rep = ecdsaSignRun(shares, [a, b], digest, {
      seed: 'kos',
      fault: tamper(
        (d) => d.from === b && d.message.round === 1 && d.message.to !== null,
        (p) => {
          p[p.length - 1] = p[p.length - 1]! ^ 1; // t̃ of the extension: the KOS check fails
          return p;
        },
      ),
    });
    expect(rep.aborts.get(a)).toBeInstanceOf(OtEvidenceAbortError);
    expect(rep.aborts.get(a)?.blame).toEqual([b]);
    expect(rep.aborts.get(a)?.reason).toMatch(/ot-check/);
    expectBurntBothWays(shares, pair);
  });

  it('a malformed OT payload (multiplication message 1) burns both directions and blames the sender', () => {
    const shares = clone(base);
    const pair = peerPair(shares)!;
    const rep = ecdsaSignRun(shares, [a, b], digest, {
      seed: 'malformed-ot',
      fault: tamper(
        (d) => d.from === b && d.message.round === 1 && d.message.to !== null,
        (p) => {
          p[MSG1_OFFSET] = p[MSG1_OFFSET]! ^ 0xff; // the OT message's own header
          return p;
        },
      ),
    });
    expect(rep.aborts.get(a)).toBeInstanceOf(OtEvidenceAbortError);
    expect(rep.aborts.get(a)?.blame).toEqual([b]);
    expectBurntBothWays(shares, pair);
  });

  it('a failed multiplication check (tampered answer) burns both directions and blames the sender', () => {
    const shares = clone(base);
    const pair = peerPair(shares)!;
    const rep = ecdsaSignRun(shares, [a, b], digest, {
      seed: 'mul-check',
      fault: tamper(
        (d) => d.from === b && d.message.round === 2,
        (p) => {
          p[p.length - 100] = p[p.length - 100]! ^ 1;
          return p;
        },
      ),
    });
    expect(rep.aborts.get(a)).toBeInstanceOf(OtEvidenceAbortError);
    expect(rep.aborts.get(a)?.blame).toEqual([b]);
    expectBurntBothWays(shares, pair);
  });

  it('a failed χ·R / χ·pk consistency check (a signer feeding another key share into the multiplication) burns both directions and blames it', () => {
    class Cheat extends EcdsaSignParty {
      protected override multiplicationInputs(_peer: string, r: bigint, sk: bigint): [bigint, bigint] {
        return [r, (sk + 1n) % Q];
      }
    }
    const shares = clone(base);
    const pair = peerPair(shares)!;
    const rep = ecdsaSignRun(shares, [a, b], digest, {
      seed: 'consistency',
      make: (self) => (self === b ? (o) => new Cheat(o) : undefined),
    });
    expect(rep.aborts.get(a)).toBeInstanceOf(OtEvidenceAbortError);
    expect(rep.aborts.get(a)?.reason).toMatch(/multiplication inputs inconsistent/);
    expect(rep.aborts.get(a)?.blame).toEqual([b]);
    expectBurntBothWays(shares, pair);
  });
});

describe('the sliding window of extension indices [5/R-C]', () => {
  it('a window overflow aborts without blame or burn and a retry succeeds', () => {
    const shares = clone(base);
    const logs = new Map([a, b].map((p) => [p, new MemorySigningLog()]));
    const SESSIONS = INDEX_WINDOW + 2;
    type Item = { to: string; from: string; bytes: Uint8Array };
    const fanOut = (from: string, m: Message): Item[] => {
      const bytes = encodeMessage(m);
      decodeMessage(bytes);
      return (m.to === null ? [a, b].filter((p) => p !== from) : [m.to]).map((to) => ({ to, from, bytes }));
    };
    const sessions: { parties: Map<string, EcdsaSignParty>; queue: Item[] }[] = [];
    for (let s = 0; s < SESSIONS; s++) {
      const parties = new Map(
        [a, b].map((self) => [self, party(shares, self, `conc-${s}`, sha256(Uint8Array.of(s)), logs.get(self)!)]),
      );
      const queue: Item[] = [];
      for (const p of parties.values()) for (const m of p.start()) queue.push(...fanOut(p.self, m));
      sessions.push({ parties, queue });
    }
    // the node could have seen this coming: every extension of a toward b is in flight
    expect(shares.get(a)!.extensionSpan(b)).toBe(SESSIONS);
    const drive = (s: (typeof sessions)[number]) => {
      while (s.queue.length > 0) {
        const item = s.queue.shift()!;
        const p = s.parties.get(item.to)!;
        if (p.status === 'aborted') continue;
        try {
          for (const m of p.receiveBytes(item.from, item.bytes)) s.queue.push(...fanOut(p.self, m));
        } catch {
          /* recorded in abortError */
        }
      }
    };
    // sessions 1..65 complete before session 0's round-1 messages are processed: all honest, all fresh indices
    for (let s = 1; s < SESSIONS; s++) {
      drive(sessions[s]!);
      expect(sessions[s]!.parties.get(a)!.status).toBe('done');
    }
    expect(shares.get(a)!.extensionSpan(b)).toBe(SESSIONS); // session 0 still holds index 0
    drive(sessions[0]!);
    for (const [self, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const err = sessions[0]!.parties.get(self)!.abortError;
      expect(err?.reason).toMatch(/below the window .* retry with a new session/);
      expect(err?.blame).toEqual([]);
      expect(err).not.toBeInstanceOf(OtEvidenceAbortError);
      expect(shares.get(self)!.burntPeers()).toEqual([]);
      expect(shares.get(self)!.extensionSpan(peer)).toBe(0);
    }
    // the retry (a new session, hence new indices) signs
    const retry = ecdsaSignRun(shares, [a, b], sha256(Uint8Array.of(0)), { seed: 'conc-retry', logs });
    expectClean(retry);
  });

  it('extensionSpan counts the extensions of running sessions toward a peer and drops them when the session completes or aborts', () => {
    const shares = clone(base);
    const c = ps[2]!;
    expect(shares.get(a)!.extensionSpan(b)).toBe(0);
    const p1 = party(shares, a, 'span-1');
    p1.start();
    const p2 = party(shares, a, 'span-2');
    p2.start();
    expect(shares.get(a)!.extensionSpan(b)).toBe(2);
    expect(shares.get(a)!.extensionSpan(c)).toBe(0);
    p1.abort('timeout');
    expect(shares.get(a)!.extensionSpan(b)).toBe(1); // index 1 is the oldest in flight; next is 2
    p2.abort('timeout');
    expect(shares.get(a)!.extensionSpan(b)).toBe(0);
    expectClean(ecdsaSignRun(shares, [a, b], digest, { seed: 'span-done' }));
    expect(shares.get(a)!.extensionSpan(b)).toBe(0);
    expect(shares.get(b)!.extensionSpan(a)).toBe(0);
  });
});

describe('secret scalars never go through the variable-time mul [5/I-1]', () => {
  it('the consistency checks multiply by χ_ij with mulSecret only', () => {
    const calls = { mul: [] as bigint[], mulSecret: [] as bigint[] };
    const real = getGroup('secp256k1');
    const spy: Group = Object.freeze({
      ...real,
      mul: (p: Point, k: bigint) => {
        calls.mul.push(k);
        return real.mul(p, k);
      },
      mulSecret: (p: Point, k: bigint) => {
        calls.mulSecret.push(k);
        return real.mulSecret(p, k);
      },
    });
    class Spied extends EcdsaSignParty {
      protected override readonly g: Group = spy;
    }
    const shares = clone(base);
    expectClean(ecdsaSignRun(shares, [a, b], digest, { seed: 'spy', make: () => (o) => new Spied(o) }));
    // two consistency checks per signer (χ·R_j and χ·pk_j), with the signer's χ
    expect(calls.mulSecret).toHaveLength(4);
    for (const chi of calls.mulSecret) expect(calls.mul).not.toContain(chi);
  });
});

describe('every peer with OT evidence against it is burnt, not only the last one found', () => {
  it('a failed consistency check burns the cheater’s pair even when another peer’s multiplication check fails later in the same round', () => {
    const c = ps[2]!;
    const shares = clone(base);
    class Cheat extends EcdsaSignParty {
      protected override multiplicationInputs(_peer: string, r: bigint, sk: bigint): [bigint, bigint] {
        return [r, (sk + 1n) % Q]; // b: a's consistency check on b fails
      }
    }
    const rep = ecdsaSignRun(shares, [a, b, c], sha256(Uint8Array.of(1)), {
      seed: 'shield',
      make: (self) => (self === b ? (o) => new Cheat(o) : undefined),
      // c's answer to a fails a's multiplication check (processed after b in a's loop)
      fault: tamper(
        (d) => d.from === c && d.to === a && d.message.round === 2,
        (p) => {
          p[p.length - 100] = p[p.length - 100]! ^ 1;
          return p;
        },
      ),
    });
    const err = rep.aborts.get(a);
    expect(err).toBeInstanceOf(OtEvidenceAbortError);
    expect([...err!.blame].sort()).toEqual([b, c].sort());
    expect(shares.get(a)!.burntPeers().sort()).toEqual([b, c].sort());
  });
});
