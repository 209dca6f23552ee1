/**
 * Pins the exact bytes of every protocol message (the canonical `encodeMessage` encoding with its
 * payload) of seeded runs of FROST DKG, signing and reshare, and ECDSA DKG, signing, reshare and
 * OT re-setup. A run's transcript is every delivery in the order the runner hands it to its fault
 * hook (one delivery per recipient: a broadcast appears once per peer), with the runner's order
 * rng seeded. Pinned: a SHA-256 over the whole delivery sequence, a digest per message, and the
 * full message bytes (test/fixtures/formats/messages/*.json).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/tss/session/message.js';
import { hex, pinJson, readFixture, sha256hex, unhex } from './pin.js';
import {
  cloneEcdsa,
  ecdsaDkg,
  ecdsaOtResetup,
  ecdsaReshare,
  ecdsaSign,
  frostDkg,
  frostReshare,
  frostSign,
  type Transcript,
} from './runs.js';

interface TranscriptFixture {
  protocol: string;
  /** SHA-256 over every delivery: u32 len ‖ recipient (UTF-8) ‖ u32 len ‖ encoded message. */
  sequenceSha256: string;
  deliveries: number;
  /** Each delivery: [recipient, index into `messages`]. */
  order: [string, number][];
  /** Distinct encoded messages in first-delivery order. */
  messages: { from: string; to: string | null; round: number; bytes: number; sha256: string; hex: string }[];
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function transcriptFixture(protocol: string, t: Transcript): TranscriptFixture {
  const h = createHash('sha256');
  const index = new Map<string, number>();
  const messages: TranscriptFixture['messages'] = [];
  const order: [string, number][] = [];
  for (const d of t) {
    const to = Buffer.from(d.to, 'utf8');
    h.update(u32(to.length)).update(to).update(u32(d.bytes.length)).update(d.bytes);
    const key = hex(d.bytes);
    let i = index.get(key);
    if (i === undefined) {
      i = messages.length;
      index.set(key, i);
      messages.push({
        from: d.message.from,
        to: d.message.to,
        round: d.message.round,
        bytes: d.bytes.length,
        sha256: sha256hex(d.bytes),
        hex: key,
      });
    }
    order.push([d.to, i]);
  }
  return { protocol, sequenceSha256: h.digest('hex'), deliveries: t.length, order, messages };
}

const runs: [string, (t: Transcript) => void][] = [];
{
  // The same runs as the key-share pins, each recorded from its own inputs.
  const frostV1 = frostDkg();
  const ecdsaV1 = ecdsaDkg();
  runs.push(['frost-dkg', (t) => frostDkg(t)]);
  runs.push(['frost-sign', (t) => frostSign(frostV1, t)]);
  runs.push(['frost-reshare', (t) => frostReshare(frostV1, t)]);
  runs.push(['ecdsa-dkg', (t) => ecdsaDkg(t)]);
  runs.push(['ecdsa-sign', (t) => ecdsaSign(cloneEcdsa(ecdsaV1), t)]);
  runs.push(['ecdsa-reshare', (t) => ecdsaReshare(cloneEcdsa(ecdsaV1), t)]);
  runs.push([
    'ecdsa-ot-resetup',
    (t) => {
      const ks = cloneEcdsa(ecdsaV1);
      ks.get('node-1')!.burnPair('node-3');
      ecdsaOtResetup(ks, t);
    },
  ]);
}

const rel = (protocol: string) => `messages/${protocol}.json`;

describe('protocol message bytes of seeded runs (encodeMessage, delivery order of runParties)', () => {
  for (const [protocol, go] of runs) {
    it(`every ${protocol} message written by today's code, in delivery order, equals the pinned transcript byte for byte`, () => {
      const t: Transcript = [];
      go(t);
      expect(t.length).toBeGreaterThan(0);
      pinJson('messages', rel(protocol), transcriptFixture(protocol, t));
    });
  }

  it('every pinned message decodes and re-encodes to exactly its bytes (decodeMessage ∘ encodeMessage round trip)', () => {
    for (const [protocol] of runs) {
      const fx = JSON.parse(readFixture(rel(protocol))) as TranscriptFixture;
      for (const m of fx.messages) {
        const bytes = unhex(m.hex);
        expect(sha256hex(bytes)).toBe(m.sha256);
        const decoded = decodeMessage(bytes);
        expect([decoded.sessionId, decoded.from, decoded.to, decoded.round]).toEqual([
          `pins/${protocol.replace('-', '/')}`,
          m.from,
          m.to,
          m.round,
        ]);
        expect(Buffer.from(encodeMessage(decoded))).toEqual(Buffer.from(bytes));
      }
    }
  });

  it('a broadcast and a direct message of the pinned transcripts have the documented envelope layout', () => {
    const fx = JSON.parse(readFixture(rel('frost-dkg'))) as TranscriptFixture;
    const broadcast = fx.messages.find((m) => m.to === null)!;
    const direct = fx.messages.find((m) => m.to !== null)!;
    // u32 len ‖ "tessera/tss/msg" ‖ u8 1 ‖ u32 len ‖ session id ‖ u16 round ‖ u32 len ‖ from ‖ u8 kind ‖ [u32 len ‖ to] ‖ u32 len ‖ payload
    const head = (to: string | null, from: string, round: number) =>
      Buffer.concat([
        u32(15),
        Buffer.from('tessera/tss/msg'),
        Buffer.of(1),
        u32(14),
        Buffer.from('pins/frost/dkg'),
        Buffer.of(round >> 8, round & 0xff),
        u32(Buffer.byteLength(from)),
        Buffer.from(from),
        to === null ? Buffer.of(0) : Buffer.concat([Buffer.of(1), u32(Buffer.byteLength(to)), Buffer.from(to)]),
      ]).toString('hex');
    expect(broadcast.hex.startsWith(head(null, broadcast.from, broadcast.round))).toBe(true);
    expect(direct.hex.startsWith(head(direct.to, direct.from, direct.round))).toBe(true);
    const payloadLen = (m: TranscriptFixture['messages'][number]) =>
      m.bytes - head(m.to, m.from, m.round).length / 2 - 4;
    expect(decodeMessage(unhex(broadcast.hex)).payload.length).toBe(payloadLen(broadcast));
    expect(decodeMessage(unhex(direct.hex)).payload.length).toBe(payloadLen(direct));
  });
});
