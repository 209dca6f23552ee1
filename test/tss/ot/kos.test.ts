import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { concat, taggedHash } from '../../../src/tss/math/hash.js';
import {
  MalformedMessageError,
  OtCheckFailedError,
  OtReuseError,
  OtStateBurnedError,
  OtWindowExceededError,
} from '../../../src/tss/ot/errors.js';
import { gfFromBytes, gfMulAddInto, gfToBytes } from '../../../src/tss/ot/gf128.js';
import { INDEX_WINDOW, KAPPA, KOS_PAD, OtExtReceiver, OtExtSender, prg } from '../../../src/tss/ot/kos.js';
import { encodeU32 } from '../../../src/tss/ot/wire.js';
import { freshPair, seededRandom, setupPair } from './helpers.js';

const sid = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Reads the receiver's seed pairs out of its serialised state (layout of OtExtReceiver.serialize). */
function receiverSecrets(r: OtExtReceiver): { ctx: Uint8Array; k0: Uint8Array[]; k1: Uint8Array[] } {
  const b = r.serialize();
  const ctx = b.subarray(2, 34);
  let off = 34;
  for (let i = 0; i < 2; i++) off += 4 + new DataView(b.buffer, b.byteOffset + off).getUint32(0);
  const k0 = Array.from({ length: KAPPA }, (_, i) => b.subarray(off + 32 * i, off + 32 * i + 32));
  const k1 = Array.from({ length: KAPPA }, (_, i) => b.subarray(off + 32 * (KAPPA + i), off + 32 * (KAPPA + i) + 32));
  return { ctx, k0, k1 };
}
/** Reads Δ out of the sender's serialised state. */
function senderDelta(s: OtExtSender): Uint8Array {
  const b = s.serialize();
  let off = 34;
  for (let i = 0; i < 2; i++) off += 4 + new DataView(b.buffer, b.byteOffset + off).getUint32(0);
  return b.slice(off, off + 16);
}

/**
 * An independent re-implementation of the receiver's extension message that can cheat: column
 * `cheat.column` uses the choice vector with bit `cheat.row` flipped, and the check values are
 * computed as if Δ_column = `cheat.guess`.
 */
function receiverMessage(
  r: OtExtReceiver,
  session: Uint8Array,
  index: number,
  count: number,
  x: Uint8Array,
  cheat?: { column: number; row: number; guess: 0 | 1 },
): Uint8Array {
  const { ctx, k0, k1 } = receiverSecrets(r);
  const rows = count + KOS_PAD;
  const colLen = rows / 8;
  const nonce = taggedHash('sha256', 'tessera/kos/prg-nonce', ctx, session, encodeU32(index)).slice(0, 16);
  const u = new Uint8Array(KAPPA * colLen);
  const tRows = new Uint8Array(rows * 16);
  for (let c = 0; c < KAPPA; c++) {
    const t0 = prg(k0[c]!, nonce, colLen);
    const t1 = prg(k1[c]!, nonce, colLen);
    for (let k = 0; k < colLen; k++) u[c * colLen + k] = t0[k]! ^ t1[k]! ^ x[k]!;
    if (cheat && cheat.column === c) u[c * colLen + (cheat.row >> 3)]! ^= 1 << (cheat.row & 7);
    for (let j = 0; j < rows; j++) tRows[j * 16 + (c >> 3)]! |= ((t0[j >> 3]! >> (j & 7)) & 1) << (c & 7);
  }
  if (cheat?.guess) tRows[cheat.row * 16 + (cheat.column >> 3)]! ^= 1 << (cheat.column & 7);
  const chi = prg(
    taggedHash('sha256', 'tessera/kos/chi', ctx, session, encodeU32(index), encodeU32(count), u),
    new Uint8Array(16),
    rows * 16,
  );
  const xt = new Uint32Array(4);
  const tt = new Uint32Array(4);
  for (let j = 0; j < rows; j++) {
    if ((x[j >> 3]! >> (j & 7)) & 1) gfMulAddInto(xt, gfFromBytes(chi, j * 16), Uint32Array.of(1, 0, 0, 0));
    gfMulAddInto(tt, gfFromBytes(tRows, j * 16), gfFromBytes(chi, j * 16));
  }
  return concat(Uint8Array.of(1, 0x21), encodeU32(index), encodeU32(count), u, gfToBytes(xt), gfToBytes(tt));
}

describe('KOS OT extension', () => {
  it('the receiver gets v_{x_j} and never v_{1-x_j}, for random choices and sizes', async () => {
    const { sender, receiver } = await freshPair();
    let n = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }).chain((k) => fc.uint8Array({ minLength: 8 * k, maxLength: 8 * k, max: 1 })),
        (choices) => {
          const s = sid(`prop-${n++}`);
          const { message, output } = receiver.extend(s, choices.length, seededRandom(n), choices);
          const out = sender.extend(s, message);
          expect(out.index).toBe(output.index);
          for (let j = 0; j < choices.length; j++) {
            expect(hex(output.keys[j]!)).toBe(hex(choices[j] ? out.v1[j]! : out.v0[j]!));
            expect(hex(output.keys[j]!)).not.toBe(hex(choices[j] ? out.v0[j]! : out.v1[j]!));
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it('an independent re-implementation of the receiver produces the same message byte for byte', async () => {
    const { receiver } = await freshPair();
    const clone = OtExtReceiver.deserialize(receiver.serialize());
    const { message } = receiver.extend(sid('x'), 64, seededRandom('same'));
    const x = seededRandom('same')(((64 + KOS_PAD) / 8) | 0);
    expect(hex(receiverMessage(clone, sid('x'), 0, 64, x))).toBe(hex(message));
  });

  it('the check catches a receiver with an inconsistent column unless it guesses that bit of Δ: exactly one guess passes', async () => {
    for (const [column, row] of [
      [0, 0],
      [77, 13],
      [127, 70],
    ] as const) {
      const passes: boolean[] = [];
      let delta: Uint8Array = new Uint8Array(0);
      for (const guess of [0, 1] as const) {
        const { sender, receiver } = await freshPair();
        delta = senderDelta(sender);
        const x = seededRandom(`x${column}`)((64 + KOS_PAD) / 8);
        const msg = receiverMessage(receiver, sid('cheat'), 0, 64, x, { column, row, guess });
        try {
          sender.extend(sid('cheat'), msg);
          passes.push(true);
        } catch (e) {
          expect(e).toBeInstanceOf(OtCheckFailedError);
          expect((e as OtCheckFailedError).blame).toBe('bob');
          expect(sender.burned).toBe(true);
          passes.push(false);
        }
      }
      const deltaBit = (delta[column >> 3]! >> (column & 7)) & 1;
      expect(passes).toEqual([deltaBit === 0, deltaBit === 1]);
    }
  });

  it('the check catches any tampering with the extension matrix or the check values', async () => {
    const { receiver } = await freshPair();
    const { message } = receiver.extend(sid('t'), 64, seededRandom(3));
    for (const at of [10, 10 + 37, 10 + 16 * 34 + 5, message.length - 20, message.length - 1]) {
      const { sender } = await freshPair();
      const m = message.slice();
      m[at]! ^= 0x04;
      const e = (() => {
        try {
          sender.extend(sid('t'), m);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(OtCheckFailedError);
    }
  });

  it('a failed check burns the sender state for good: every later call throws, even with an honest message', async () => {
    const { sender, receiver } = await freshPair();
    const bad = receiver.extend(sid('a'), 64, seededRandom(1)).message.slice();
    bad[20]! ^= 1;
    expect(() => sender.extend(sid('a'), bad)).toThrow(OtCheckFailedError);
    const good = receiver.extend(sid('b'), 64, seededRandom(2)).message;
    expect(() => sender.extend(sid('b'), good)).toThrow(OtStateBurnedError);
    expect(() => sender.serialize()).toThrow(OtStateBurnedError);
    expect(sender.burned).toBe(true);
  });

  it('a message extended for another session fails the check (session id bound into the PRG and hashes)', async () => {
    const { sender, receiver } = await freshPair();
    const { message } = receiver.extend(sid('one'), 64, seededRandom(1));
    expect(() => sender.extend(sid('two'), message)).toThrow(OtCheckFailedError);
  });

  it('never reuses correlations: a replayed or too old index is refused without burning the state', async () => {
    const { sender, receiver } = await freshPair();
    const first = receiver.extend(sid('s'), 8, seededRandom(1));
    sender.extend(sid('s'), first.message);
    expect(() => sender.extend(sid('s'), first.message)).toThrow(OtReuseError);
    expect(() => sender.extend(sid('other'), first.message)).toThrow(OtReuseError);
    // indices are fresh on the receiver side
    const idx = new Set<number>([first.output.index]);
    for (let i = 0; i < INDEX_WINDOW + 2; i++) {
      const { message, output } = receiver.extend(sid(`s${i}`), 8, seededRandom(i + 10));
      expect(idx.has(output.index)).toBe(false);
      idx.add(output.index);
      sender.extend(sid(`s${i}`), message);
    }
    // an unused index that fell below the window is refused too — as a window overflow, not a replay (review R-C)
    const old = concat(first.message.subarray(0, 2), encodeU32(0), first.message.subarray(6));
    expect(() => sender.extend(sid('s'), old)).toThrow(OtWindowExceededError);
    expect(sender.burned).toBe(false);
  });

  it('a window overflow (an honest index below the floor after more than INDEX_WINDOW extensions in flight) is told apart from a replay: OtWindowExceededError, nothing consumed, and the next fresh index works', async () => {
    const { sender, receiver } = await freshPair();
    const oldest = receiver.extend(sid('oldest'), 8, seededRandom(0));
    const newer = Array.from({ length: INDEX_WINDOW + 1 }, (_, i) => ({
      i,
      ext: receiver.extend(sid(`n${i}`), 8, seededRandom(i + 1)),
    }));
    for (const { i, ext } of newer) sender.extend(sid(`n${i}`), ext.message);
    let err: unknown;
    try {
      sender.extend(sid('oldest'), oldest.message);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OtWindowExceededError);
    expect(err).not.toBeInstanceOf(OtReuseError);
    expect((err as Error).message).toMatch(/retry with a new session/);
    expect(sender.burned).toBe(false);
    // an index inside the window that was already accepted is still a replay
    expect(() => sender.extend(sid(`n${INDEX_WINDOW}`), newer[INDEX_WINDOW]!.ext.message)).toThrow(OtReuseError);
    // the retry with a fresh index succeeds and gives matching outputs
    const retry = receiver.extend(sid('retry'), 8, seededRandom(99));
    const out = sender.extend(sid('retry'), retry.message);
    for (let j = 0; j < 8; j++)
      expect(hex(retry.output.keys[j]!)).toBe(hex(retry.output.choices[j] ? out.v1[j]! : out.v0[j]!));
  });

  it('serialisation round-trips and the restored states keep working and keep their used indices', async () => {
    const { sender, receiver } = await freshPair();
    const m0 = receiver.extend(sid('0'), 8, seededRandom(0));
    sender.extend(sid('0'), m0.message);
    const s2 = OtExtSender.deserialize(sender.serialize());
    const r2 = OtExtReceiver.deserialize(receiver.serialize());
    expect(hex(s2.serialize())).toBe(hex(sender.serialize()));
    expect(r2.nextIndex).toBe(1);
    expect(() => s2.extend(sid('0'), m0.message)).toThrow(OtReuseError);
    const { message, output } = r2.extend(sid('1'), 16, seededRandom(1));
    const out = s2.extend(sid('1'), message);
    for (let j = 0; j < 16; j++) expect(hex(output.keys[j]!)).toBe(hex(output.choices[j] ? out.v1[j]! : out.v0[j]!));
  });

  it('rejects malformed state bytes and malformed extension messages without consuming anything', async () => {
    const { sender, receiver } = await freshPair();
    const sb = sender.serialize();
    for (const b of [
      sb.subarray(0, sb.length - 1),
      Uint8Array.of(...sb, 0),
      Uint8Array.of(1, 0x52, ...sb.subarray(2)),
    ]) {
      expect(() => OtExtSender.deserialize(b)).toThrow(InvalidArgumentError);
    }
    expect(() => OtExtReceiver.deserialize(sb)).toThrow(InvalidArgumentError);
    const { message } = receiver.extend(sid('m'), 64, seededRandom(1));
    const wrongSize = concat(message.subarray(0, 6), encodeU32(72), message.subarray(10));
    for (const m of [
      message.subarray(0, message.length - 1),
      Uint8Array.of(...message, 0),
      Uint8Array.of(2, ...message.subarray(1)),
      wrongSize,
    ]) {
      const e = (() => {
        try {
          sender.extend(sid('m'), m);
        } catch (err) {
          return err;
        }
      })() as MalformedMessageError;
      expect(e).toBeInstanceOf(MalformedMessageError);
      expect(e.blame).toBe('bob');
    }
    expect(() => sender.extend(sid('m'), message, 128)).toThrow(MalformedMessageError);
    expect(sender.extend(sid('m'), message).v0).toHaveLength(64);
  });

  it('a destroyed receiver state cannot extend or serialise', async () => {
    const { receiver } = await freshPair();
    receiver.destroy();
    expect(() => receiver.extend(sid('d'), 8)).toThrow(OtStateBurnedError);
    expect(() => receiver.serialize()).toThrow(OtStateBurnedError);
  });

  it('two independent pair setups give unrelated states, and the pair context binds both parties', () => {
    const a = setupPair(undefined, 'p1');
    const b = setupPair({ setupId: sid('dkg-session-1'), senderId: 'bob', receiverId: 'alice' }, 'p2');
    expect(hex(a.sender.context)).toBe(hex(a.receiver.context));
    expect(hex(a.sender.context)).not.toBe(hex(b.sender.context));
    const { message } = a.receiver.extend(sid('z'), 8, seededRandom(1));
    expect(() => b.sender.extend(sid('z'), message)).toThrow(OtCheckFailedError);
  });
});
