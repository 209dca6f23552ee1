import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { InvalidStateError } from '../../../src/common/errors.js';
import { BurnNotPersistedError } from '../../../src/tss/ecdsa/errors.js';
import { EcdsaKeyShare } from '../../../src/tss/ecdsa/key-share.js';
import { shareCheckpoint } from '../../../src/tss/ecdsa/share-checkpoint.js';
import { EcdsaSignParty } from '../../../src/tss/ecdsa/sign.js';
import { seededRng } from '../../../src/tss/math/rng.js';
import { checkpointed } from '../../../src/tss/session/checkpoint.js';
import { ProtocolAbortedError } from '../../../src/tss/session/errors.js';
import type { Message } from '../../../src/tss/session/message.js';
import type { PartyStatus, ProtocolParty } from '../../../src/tss/session/party.js';
import { runParties } from '../../../src/tss/session/runner.js';
import { MemorySigningLog } from '../../../src/tss/session/signing-log.js';
import { ecdsaDkg, names } from '../../helpers/protocol-runs.js';
import { sha256 } from '../ecdsa/protocol-helpers.js';

/** A scripted party: each step returns one message or throws an abort. */
class Scripted implements ProtocolParty<string> {
  readonly sessionId = 's';
  readonly self = 'a';
  readonly participants = ['a', 'b'];
  status: PartyStatus = 'created';
  abortError: ProtocolAbortedError | undefined;
  steps = 0;
  constructor(
    private readonly log: string[],
    private readonly abortAt = -1,
  ) {}
  private step(): Message[] {
    this.steps++;
    this.log.push(`step ${this.steps}`);
    if (this.steps === this.abortAt) {
      this.status = 'aborted';
      this.abortError = new ProtocolAbortedError('scripted', ['b']);
      throw this.abortError;
    }
    this.status = this.steps >= 3 ? 'done' : 'running';
    return [{ sessionId: 's', round: this.steps, from: 'a', to: 'b', payload: Uint8Array.of(this.steps) }];
  }
  start(): Message[] {
    return this.step();
  }
  receive(): Message[] {
    return this.step();
  }
  receiveBytes(): Message[] {
    return this.step();
  }
  result(): string {
    return 'ok';
  }
  abort(reason: string): void {
    if (this.status === 'done' || this.abortError) return;
    this.status = 'aborted';
    this.abortError = new ProtocolAbortedError(reason);
    this.log.push('inner aborted');
  }
}

describe('checkpointed parties: state is persisted before any message of a step can be sent', () => {
  it('the checkpoint runs after every step, before its messages are handed out', () => {
    const log: string[] = [];
    const p = checkpointed(new Scripted(log), () => log.push('checkpoint'));
    const m1 = p.start();
    log.push(`sent ${m1.length}`);
    p.receiveBytes('b', new Uint8Array(0));
    p.receive({ sessionId: 's', round: 1, from: 'b', to: 'a', payload: new Uint8Array(0) });
    expect(log).toEqual(['step 1', 'checkpoint', 'sent 1', 'step 2', 'checkpoint', 'step 3', 'checkpoint']);
    expect(p.status).toBe('done');
    expect(p.result()).toBe('ok');
  });

  it('the checkpoint also runs when a step aborts (an abort may have burnt OT pairs), and the abort is passed on', () => {
    const log: string[] = [];
    const p = checkpointed(new Scripted(log, 2), () => log.push('checkpoint'));
    p.start();
    expect(() => p.receiveBytes('b', new Uint8Array(0))).toThrow(ProtocolAbortedError);
    expect(log).toEqual(['step 1', 'checkpoint', 'step 2', 'checkpoint']);
    expect(p.abortError?.blame).toEqual(['b']);
  });

  it("a failed checkpoint withholds the step's messages and aborts the party for good, naming no one", () => {
    const log: string[] = [];
    let fail = false;
    const inner = new Scripted(log);
    const p = checkpointed(inner, () => {
      if (fail) throw Object.assign(new Error('disk full: /var/lib/tessera'), { code: 'IO_ERROR' });
    });
    p.start();
    fail = true;
    let err: unknown;
    try {
      p.receiveBytes('b', new Uint8Array(0));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtocolAbortedError);
    expect((err as ProtocolAbortedError).blame).toEqual([]);
    expect((err as ProtocolAbortedError).outbound).toEqual([]);
    expect((err as ProtocolAbortedError).message).toContain('IO_ERROR');
    expect((err as ProtocolAbortedError).message).not.toContain('/var/lib');
    expect(p.status).toBe('aborted');
    expect(inner.status).toBe('aborted'); // the inner party was aborted, so its secrets are wiped
    expect(log).toContain('inner aborted');
    fail = false;
    expect(() => p.receiveBytes('b', new Uint8Array(0))).toThrow(ProtocolAbortedError);
    expect(inner.steps).toBe(2);
    expect(() => p.result()).toThrow(InvalidStateError);
  });

  it('shareCheckpoint writes a DKLs23 share on the first call and whenever it changed, never twice the same state, and wipes what it handed out', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'share-checkpoint' });
    const signers = [ps[0]!, ps[1]!];
    const written = new Map<string, Uint8Array[]>(signers.map((p) => [p, []]));
    const handed: Uint8Array[] = [];
    let steps = 0;
    const parties = signers.map((self) =>
      checkpointed(
        new EcdsaSignParty({
          sessionId: 'scp',
          self,
          signers,
          keyShare: shares.get(self)!,
          digest: sha256(Uint8Array.of(2)),
          signingLog: new MemorySigningLog(),
          rng: seededRng(self),
        }),
        (() => {
          const cp = shareCheckpoint(shares.get(self)!, (bytes) => {
            handed.push(bytes);
            written.get(self)!.push(Uint8Array.from(bytes));
          });
          return () => {
            steps++;
            cp();
          };
        })(),
      ),
    );
    const rep = runParties(parties, { rng: seededRng('scp') });
    expect(rep.results.size).toBe(2);
    let writes = 0;
    for (const p of signers) {
      const w = written.get(p)!;
      writes += w.length;
      for (let i = 1; i < w.length; i++) expect(Buffer.from(w[i]!).equals(Buffer.from(w[i - 1]!))).toBe(false);
      expect(Buffer.from(w.at(-1)!).equals(Buffer.from(shares.get(p)!.serialize()))).toBe(true);
    }
    expect(writes).toBeGreaterThanOrEqual(4); // start and round 1 move the OT counters of each signer
    expect(writes).toBeLessThan(steps);
    for (const b of handed) expect(b.every((x) => x === 0)).toBe(true);
  });

  it('a DKLs23 signer whose state cannot be written is aborted and zeroes its instance key, inversion mask and key share', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'checkpoint-fail' });
    const signers = [ps[0]!, ps[1]!];
    const inner = new EcdsaSignParty({
      sessionId: 'cpf',
      self: signers[0]!,
      signers,
      keyShare: shares.get(signers[0]!)!,
      digest: sha256(Uint8Array.of(3)),
      signingLog: new MemorySigningLog(),
      rng: seededRng('x'),
    });
    const peer = new EcdsaSignParty({
      sessionId: 'cpf',
      self: signers[1]!,
      signers,
      keyShare: shares.get(signers[1]!)!,
      digest: sha256(Uint8Array.of(3)),
      signingLog: new MemorySigningLog(),
      rng: seededRng('y'),
    });
    let writes = 0;
    const p = checkpointed(inner, () => {
      if (++writes > 1) throw Object.assign(new Error('EIO'), { code: 'IO_ERROR' });
    });
    p.start();
    const secrets = inner as unknown as { r: bigint; phi: bigint };
    expect(secrets.r).not.toBe(0n);
    const fromPeer = peer.start();
    expect(() => {
      for (const m of fromPeer) p.receive(m, signers[1]!);
    }).toThrow(ProtocolAbortedError);
    expect(inner.status).toBe('aborted');
    expect([secrets.r, secrets.phi, (inner as unknown as { sk: bigint }).sk]).toEqual([0n, 0n, 0n]);
  });

  it('real DKLs23 signers wrapped with a checkpoint of their share sign, and every checkpoint saw the share move on', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'checkpoint' });
    const signers = [ps[0]!, ps[1]!];
    const saved = new Map<string, Uint8Array[]>(signers.map((p) => [p, [shares.get(p)!.serialize()]]));
    const parties = signers.map((self) =>
      checkpointed(
        new EcdsaSignParty({
          sessionId: 'cp',
          self,
          signers,
          keyShare: shares.get(self)!,
          digest: sha256(Uint8Array.of(1)),
          signingLog: new MemorySigningLog(),
          rng: seededRng(self),
        }),
        () => saved.get(self)!.push(shares.get(self)!.serialize()),
      ),
    );
    const rep = runParties(parties, { rng: seededRng('cp') });
    expect(rep.results.size).toBe(2);
    for (const p of signers) {
      const states = saved.get(p)!;
      expect(states.length).toBeGreaterThanOrEqual(4); // initial + start + one per delivered message
      expect(Buffer.from(states.at(-1)!).equals(Buffer.from(states[0]!))).toBe(false);
      EcdsaKeyShare.deserialize(states.at(-1)!).dispose();
    }
  });
  it('a burn is durable before the share counts as written: after a failed checkpoint write following an abort that burnt a pair, the in-memory share stays burnt and reports the unpersisted burn until a write succeeds [5/R-G]', () => {
    const ps = names(3);
    const shares = ecdsaDkg(ps, 1, { seed: 'checkpoint-burn' });
    const [a, b] = [ps[0]!, ps[1]!];
    const share = shares.get(a)!;
    // b feeds another key share into the multiplication: a's consistency check fails (OT evidence, burn)
    class Cheat extends EcdsaSignParty {
      protected override multiplicationInputs(_peer: string, r: bigint, sk: bigint): [bigint, bigint] {
        return [r, (sk + 1n) % secp256k1.Point.Fn.ORDER];
      }
    }
    let stored = share.serialize(); // the durable copy
    let storageBroken = true;
    let attempts = 0;
    const checkpoint = shareCheckpoint(share, (bytes) => {
      // the storage fails exactly for the write that would carry the burn
      if (storageBroken && EcdsaKeyShare.deserialize(Uint8Array.from(bytes)).burntPeers().length > 0) {
        attempts++;
        throw Object.assign(new Error('EIO at /var/lib/tessera'), { code: 'EIO' });
      }
      stored = Uint8Array.from(bytes);
    });
    const opts = (self: string) => ({
      sessionId: 'burn-cp',
      self,
      signers: [a, b],
      keyShare: shares.get(self)!,
      digest: sha256(Uint8Array.of(4)),
      signingLog: new MemorySigningLog(),
      rng: seededRng(self),
    });
    const rep = runParties([checkpointed(new EcdsaSignParty(opts(a)), checkpoint), new Cheat(opts(b))], {
      rng: seededRng('burn-cp'),
    });
    const err = rep.aborts.get(a)!;
    expect(err.blame).toEqual([]);
    expect(err.reason).toMatch(/could not be persisted \(IO_ERROR\)/);
    expect(err.cause).toBeInstanceOf(BurnNotPersistedError);
    expect((err.cause as BurnNotPersistedError).peers).toEqual([b]);
    expect((err.cause as BurnNotPersistedError).writeErrorCode).toBe('EIO');
    expect(String((err.cause as Error).message)).not.toContain('/var/lib');
    expect(attempts).toBe(3); // the write of the burn was retried
    // in memory: burnt, and known not to be durable; on disk: still live (the hazard the node must not reload)
    expect(share.burntPeers()).toEqual([b]);
    expect(share.unpersistedBurns()).toEqual([b]);
    expect(EcdsaKeyShare.deserialize(stored).burntPeers()).toEqual([]);
    expect(() => new EcdsaSignParty(opts(a))).toThrow(InvalidStateError);
    // the storage recovers: calling the checkpoint again writes the burn, and only then is it durable
    expect(() => checkpoint()).toThrow(BurnNotPersistedError);
    storageBroken = false;
    checkpoint();
    expect(share.unpersistedBurns()).toEqual([]);
    expect(EcdsaKeyShare.deserialize(stored).burntPeers()).toEqual([b]);
  });
});
