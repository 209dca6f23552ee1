import { describe, expect, it } from 'vitest';
import { InvalidStateError, IoError } from '../../src/common/errors.js';
import type { Logger } from '../../src/common/log.js';
import { OutboundGate } from '../../src/node/outbound.js';
import type { Bus, WorkQueue } from '../../src/transport/index.js';
import type { Vault } from '../../src/vault/index.js';

/** A vault stand-in whose flushes the test completes by hand. */
class FakeVault {
  written = 0;
  durable = 0;
  flushes: { target: number; done: () => void; fail: (e: Error) => void }[] = [];
  get unflushed() {
    return { written: this.written, durable: this.durable };
  }
  flush(): Promise<void> {
    const target = this.written;
    return new Promise((resolve, reject) =>
      this.flushes.push({
        target,
        done: () => {
          this.durable = Math.max(this.durable, target);
          resolve();
        },
        fail: reject,
      }),
    );
  }
  /** A deferred write. */
  write(): void {
    this.written++;
  }
}

const turn = () => new Promise((r) => setImmediate(r));

function setup() {
  const vault = new FakeVault();
  const alerts: string[] = [];
  const log = { error: (_o: unknown, m: string) => alerts.push(m) } as unknown as Logger;
  const gate = new OutboundGate(vault as unknown as Vault, log);
  const sent: string[] = [];
  const bus = gate.bus({
    publish: (subject: string) => {
      sent.push(subject);
    },
  } as unknown as Bus);
  const wq = gate.workQueue({
    publish: async (subject: string) => {
      sent.push(subject);
      return { seq: sent.length, duplicate: false };
    },
  } as unknown as WorkQueue);
  return { vault, gate, bus, wq, sent, alerts };
}

describe('the outbound gate: no message leaves before the writes before it are durable', () => {
  it('publishes at once while no deferred write waits', () => {
    const { bus, sent } = setup();
    bus.publish('a', new Uint8Array(1));
    expect(sent).toEqual(['a']);
  });

  it('holds messages published after a deferred write until a flush covers it, in order', async () => {
    const { vault, gate, bus, wq, sent } = setup();
    gate.deferred(() => vault.write());
    bus.publish('a', new Uint8Array(1));
    const result = wq.publish('r', new Uint8Array(1));
    gate.deferred(() => vault.write());
    bus.publish('b', new Uint8Array(1));
    await turn();
    expect(sent).toEqual([]);
    expect(vault.flushes).toHaveLength(1);
    expect(vault.flushes[0]!.target).toBe(2);
    vault.flushes[0]!.done();
    await result;
    expect(sent).toEqual(['a', 'r', 'b']);
  });

  it('a message held behind a later write waits for the next flush; nothing overtakes a held message', async () => {
    const { vault, gate, bus, sent } = setup();
    gate.deferred(() => vault.write());
    bus.publish('a', new Uint8Array(1));
    await turn();
    // written while the first flush runs: not covered by it
    gate.deferred(() => vault.write());
    bus.publish('b', new Uint8Array(1));
    vault.flushes[0]!.done();
    await turn();
    expect(sent).toEqual(['a']);
    // nothing is pending in the vault once the second flush is done, but 'b' is still held: 'c' waits behind it
    await turn();
    expect(vault.flushes).toHaveLength(2);
    bus.publish('c', new Uint8Array(1));
    expect(sent).toEqual(['a']);
    vault.flushes[1]!.done();
    await turn();
    expect(sent).toEqual(['a', 'b', 'c']);
    bus.publish('d', new Uint8Array(1));
    expect(sent).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a deferred write that no message follows is flushed anyway', async () => {
    const { vault, gate } = setup();
    expect(
      gate.deferred((d) => {
        vault.write();
        return d;
      }),
    ).toBe('deferred');
    await turn();
    expect(vault.flushes).toHaveLength(1);
    vault.flushes[0]!.done();
    await turn();
    expect(vault.unflushed.durable).toBe(1);
  });

  it('a failed flush drops what it held and refuses every later message, with an alert', async () => {
    const { vault, gate, bus, wq, sent, alerts } = setup();
    gate.deferred(() => vault.write());
    bus.publish('a', new Uint8Array(1));
    const result = wq.publish('r', new Uint8Array(1));
    await turn();
    vault.flushes[0]!.fail(new IoError('syncing', new Error('EIO')));
    await expect(result).rejects.toThrow(InvalidStateError);
    expect(sent).toEqual([]);
    expect(alerts.some((m) => m.startsWith('ALERT'))).toBe(true);
    expect(() => bus.publish('b', new Uint8Array(1))).toThrow(/could not make its writes durable/);
    await expect(wq.publish('r2', new Uint8Array(1))).rejects.toThrow(InvalidStateError);
  });
});
