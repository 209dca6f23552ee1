/**
 * The fast-check message mutator shared by the protocol fuzz tests: one sender's messages of one
 * round and kind are flipped, truncated, extended, replaced by random bytes, replayed from an
 * honest run in another session, or re-addressed as if another party had sent them.
 */
import fc from 'fast-check';
import { seededRng } from '../../src/tss/math/rng.js';
import { decodeMessage, encodeMessage, type Message } from '../../src/tss/session/message.js';
import type { ProtocolParty } from '../../src/tss/session/party.js';
import { type FaultInjector, runParties } from '../../src/tss/session/runner.js';

export const messageMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), cut: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('random' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('replay' as const) }),
  fc.record({ kind: fc.constant('impersonate' as const), as: fc.nat() }),
);
export type MessageMutation = typeof messageMutation extends fc.Arbitrary<infer M> ? M : never;

/** Payloads keyed by `replayKey`, for the `replay` mutation. */
export type Replays = Map<string, Uint8Array>;

/** The key of a payload in `Replays`: round, broadcast or direct, sender and receiver. */
export function replayKey(m: Message, from: string, to: string): string {
  return `${m.round}|${m.to === null ? 'b' : 'd'}|${from}|${to}`;
}

/** Payloads of an honest run of `parties` (built for another session), for replays. */
export function capturePayloads(parties: ProtocolParty<unknown>[], seed: string): Replays {
  const out: Replays = new Map();
  runParties(parties, {
    rng: seededRng(seed),
    fault: (d) => {
      out.set(replayKey(d.message, d.from, d.to), d.message.payload);
      return { kind: 'deliver' };
    },
  });
  return out;
}

/** The encoded message `m` (to `to`) after mutation `mu`; `participants` are the parties one can impersonate. */
export function mutateMessage(
  m: Message,
  mu: MessageMutation,
  replays: Replays,
  to: string,
  participants: readonly string[],
): Uint8Array {
  const p = Uint8Array.from(m.payload);
  let payload: Uint8Array = p;
  let from = m.from;
  switch (mu.kind) {
    case 'flip':
      payload[mu.pos % p.length] = payload[mu.pos % p.length]! ^ mu.xor;
      break;
    case 'truncate':
      payload = p.subarray(0, mu.cut % p.length);
      break;
    case 'extend':
      payload = Uint8Array.from([...p, ...mu.extra]);
      break;
    case 'random':
      payload = seededRng(String(mu.seed))(p.length);
      break;
    case 'replay':
      payload = replays.get(replayKey(m, m.from, to))!;
      break;
    case 'impersonate': {
      const others = participants.filter((x) => x !== m.from);
      from = others[mu.as % others.length]!;
      break;
    }
  }
  return encodeMessage({ ...m, from, payload });
}

/**
 * A fault injector that mutates what `bad` sends in `target`'s round as its kind (broadcast or
 * direct): to every receiver, or (without `allVictims`) only to the first one it sends to. `victims`
 * collects the receivers that got a mutated message.
 */
export function mutatingFault(
  bad: string,
  target: { round: number; kind: 'broadcast' | 'direct' },
  mutation: MessageMutation,
  opts: { allVictims: boolean; replays: Replays; participants: readonly string[] },
): { fault: FaultInjector; victims: Set<string> } {
  const victims = new Set<string>();
  const fault: FaultInjector = (d) => {
    const kind = d.message.to === null ? 'broadcast' : 'direct';
    if (d.from !== bad || d.message.round !== target.round || kind !== target.kind) return { kind: 'deliver' };
    if (!opts.allVictims && victims.size > 0 && !victims.has(d.to)) return { kind: 'deliver' };
    victims.add(d.to);
    const bytes = mutateMessage(decodeMessage(d.bytes), mutation, opts.replays, d.to, opts.participants);
    return { kind: 'replace', bytes };
  };
  return { fault, victims };
}
