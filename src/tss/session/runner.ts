/**
 * A local runner for tests and benchmarks: delivers messages among in-memory parties in a random
 * order (driven by an injectable Rng) through the canonical wire encoding, and can drop,
 * duplicate, replace (tamper) or re-attribute messages.
 */
import type { Rng } from '../math/rng.js';
import { ProtocolAbortedError } from './errors.js';
import { encodeMessage, type Message } from './message.js';
import type { ProtocolParty } from './party.js';

/** One delivery of a message to one recipient (broadcasts fan out into one delivery per peer). */
export interface Delivery {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
  readonly bytes: Uint8Array;
}

/** What a fault injector does to a delivery. */
export type FaultAction =
  | { readonly kind: 'deliver' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'duplicate' }
  /** Deliver other bytes, optionally as if authenticated from another sender. */
  | { readonly kind: 'replace'; readonly bytes: Uint8Array; readonly sender?: string };

/** Decides the fate of each delivery. */
export type FaultInjector = (d: Delivery) => FaultAction;

/** What happened to each party. */
export interface RunReport<R> {
  readonly results: Map<string, R>;
  readonly aborts: Map<string, ProtocolAbortedError>;
  /** Parties that threw anything other than ProtocolAbortedError (a defect). */
  readonly crashes: Map<string, unknown>;
  /** Parties neither done nor aborted when no message was left in flight. */
  readonly stalled: string[];
}

interface InFlight {
  to: string;
  sender: string;
  bytes: Uint8Array;
}

/**
 * Runs the parties to completion. A party's exceptions are reported (`aborts`, `crashes`), not
 * thrown; throws only what `opts.rng` or `opts.fault` throws, or `encodeMessage`'s error for an
 * invalid message a party sent with its abort.
 */
export function runParties<R>(
  parties: readonly ProtocolParty<R>[],
  opts: { rng: Rng; fault?: FaultInjector; maxDeliveries?: number },
): RunReport<R> {
  const byId = new Map(parties.map((p) => [p.self, p]));
  const results = new Map<string, R>();
  const aborts = new Map<string, ProtocolAbortedError>();
  const crashes = new Map<string, unknown>();
  const pool: InFlight[] = [];
  const fault = opts.fault ?? (() => ({ kind: 'deliver' }) as const);

  const enqueue = (sender: ProtocolParty<R>, msgs: Message[]) => {
    for (const m of msgs) {
      const bytes = encodeMessage(m);
      const targets = m.to === null ? sender.participants.filter((p) => p !== sender.self) : [m.to];
      for (const to of targets) {
        if (!byId.has(to)) continue;
        const action = fault({ from: sender.self, to, message: m, bytes });
        if (action.kind === 'drop') continue;
        if (action.kind === 'replace') pool.push({ to, sender: action.sender ?? sender.self, bytes: action.bytes });
        else pool.push({ to, sender: sender.self, bytes });
        if (action.kind === 'duplicate') pool.push({ to, sender: sender.self, bytes });
      }
    }
  };
  const settle = (p: ProtocolParty<R>, e: unknown) => {
    if (e instanceof ProtocolAbortedError) {
      aborts.set(p.self, e);
      enqueue(p, [...e.outbound]);
    } else crashes.set(p.self, e);
  };

  for (const p of parties) {
    try {
      enqueue(p, p.start());
    } catch (e) {
      settle(p, e);
    }
  }
  let budget = opts.maxDeliveries ?? 1_000_000;
  while (pool.length > 0 && budget-- > 0) {
    const r = opts.rng(4);
    const idx = (((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0) % pool.length;
    const item = pool[idx]!;
    pool[idx] = pool[pool.length - 1]!;
    pool.pop();
    const p = byId.get(item.to)!;
    if (aborts.has(p.self) || crashes.has(p.self)) continue;
    try {
      enqueue(p, p.receiveBytes(item.sender, item.bytes));
    } catch (e) {
      settle(p, e);
    }
  }
  const stalled: string[] = [];
  for (const p of parties) {
    if (p.status === 'done') results.set(p.self, p.result());
    else if (!aborts.has(p.self) && !crashes.has(p.self)) stalled.push(p.self);
  }
  return { results, aborts, crashes, stalled };
}
