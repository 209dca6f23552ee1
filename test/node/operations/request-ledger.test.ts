import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { signRequestDigest, VaultRequestLedger } from '../../../src/node/operations/request-ledger.js';
import { Vault } from '../../../src/vault/index.js';
import { FAST_ARGON2, password, tempDir } from '../../helpers/vault.js';

const req = (over: Partial<Parameters<typeof signRequestDigest>[0]> = {}) =>
  signRequestDigest({
    keyType: 'secp256k1',
    walletId: 'w',
    networkInternalCode: 'eth',
    txId: 'tx-1',
    tx: new Uint8Array(32).fill(7),
    derivationPath: [44, 60, 0, 0, 1],
    ...over,
  });

describe('the signing-request ledger over the vault', () => {
  const open: Vault[] = [];
  afterEach(() => {
    for (const v of open.splice(0)) v.close();
  });
  const mkVault = async (dir: string, create: boolean) => {
    const v = create
      ? await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 })
      : await Vault.open(dir, password('pw'));
    open.push(v);
    return v;
  };

  it('a completed tx id binds its digest for good: across a restart, after its result was purged, another path or tx is a duplicate', async () => {
    const dir = join(tempDir(), 'v');
    let now = 1_000_000;
    const v = await mkVault(dir, true);
    const ledger = new VaultRequestLedger(v, 60_000, () => now);
    expect(ledger.claim('w', 'tx-1', req(), 's1').kind).toBe('claimed');
    const result = randomBytes(100);
    ledger.complete('w', 'tx-1', 's1', result);
    v.close();
    open.length = 0;
    const again = await mkVault(dir, false);
    const fresh = new VaultRequestLedger(again, 60_000, () => now);
    // identical within the window: the stored result
    const r = fresh.claim('w', 'tx-1', req(), 's2');
    expect(r.kind).toBe('replay');
    expect(r.kind === 'replay' && Buffer.from(r.result).equals(result)).toBe(true);
    // another derivation path, another tx, no path: refused
    for (const d of [
      req({ derivationPath: [44, 60, 0, 0, 2] }),
      req({ tx: new Uint8Array(32) }),
      req({ derivationPath: null }),
    ]) {
      const c = fresh.claim('w', 'tx-1', d, 's3');
      expect(c.kind).toBe('duplicate');
      expect(c.kind === 'duplicate' && c.inFlight).toBe(false);
    }
    // after the window the result is gone but the digest stays binding
    now += 10 * 60_000 + 1;
    expect(fresh.claim('w', 'tx-2', req({ txId: 'tx-2' }), 's4').kind).toBe('claimed');
    fresh.complete('w', 'tx-2', 's4', randomBytes(10));
    expect(again.signedRequest('w', 'tx-1')?.result).toBeNull();
    expect(fresh.claim('w', 'tx-1', req({ derivationPath: [1] }), 's5').kind).toBe('duplicate');
    // the identical request may sign again (same content, nothing new is authorised)
    expect(fresh.claim('w', 'tx-1', req(), 's6').kind).toBe('claimed');
  });

  it('while a request is in flight, its identical retry is an in-flight duplicate and other content a conflict; a failed session frees the tx id for the identical request only, also after a restart', async () => {
    const v = await mkVault(join(tempDir(), 'v'), true);
    const ledger = new VaultRequestLedger(v, 60_000);
    expect(ledger.claim('w', 'tx', req({ txId: 'tx' }), 'a').kind).toBe('claimed');
    const same = ledger.claim('w', 'tx', req({ txId: 'tx' }), 'b');
    expect(same.kind === 'duplicate' && same.inFlight).toBe(true);
    const other = ledger.claim('w', 'tx', req({ txId: 'tx', tx: new Uint8Array(32) }), 'c');
    expect(other.kind === 'duplicate' && !other.inFlight).toBe(true);
    ledger.release('w', 'tx', 'b'); // not the owner: no effect
    expect(ledger.claim('w', 'tx', req({ txId: 'tx' }), 'd').kind).toBe('duplicate');
    ledger.release('w', 'tx', 'a');
    expect(ledger.claim('w', 'tx', req({ txId: 'tx', tx: new Uint8Array(32) }), 'e').kind).toBe('duplicate');
    expect(ledger.claim('w', 'tx', req({ txId: 'tx' }), 'f').kind).toBe('claimed');
    // the binding is on disk before anything was signed: a new process (a restart) refuses other content too
    ledger.release('w', 'tx', 'f');
    const restarted = new VaultRequestLedger(v, 60_000);
    expect(restarted.claim('w', 'tx', req({ txId: 'tx', derivationPath: [9] }), 'g').kind).toBe('duplicate');
    expect(v.signedRequest('w', 'tx')?.result).toBeNull();
  });

  it("a member's in-flight claim for a coordinator that is gone is taken over by the request's new coordinator; one that is up still refuses", async () => {
    const v = await mkVault(join(tempDir(), 'v'), true);
    const ledger = new VaultRequestLedger(v, 60_000);
    const d = req({ txId: 'tx' });
    const down = new Set<string>();
    const gone = (c: string) => down.has(c);
    // a member joins node-a's session for the request
    expect(ledger.claim('w', 'tx', d, 'a1', 'node-a', gone).kind).toBe('claimed');
    // node-b coordinates the redelivered request while node-a is up: an in-flight duplicate
    const busy = ledger.claim('w', 'tx', d, 'b1', 'node-b', gone);
    expect(busy.kind === 'duplicate' && busy.inFlight).toBe(true);
    // node-a died: its session will never answer, node-b's takes the claim
    down.add('node-a');
    expect(ledger.claim('w', 'tx', d, 'b2', 'node-b', gone).kind).toBe('claimed');
    // the dead session's late release or completion no longer touches it
    ledger.release('w', 'tx', 'a1');
    ledger.complete('w', 'tx', 'a1', randomBytes(8));
    expect(v.signedRequest('w', 'tx')?.result).toBeNull();
    const held = ledger.claim('w', 'tx', d, 'c1', 'node-c', gone);
    expect(held.kind === 'duplicate' && held.inFlight).toBe(true);
    // this node coordinating it itself (coordinator undefined) takes over a gone coordinator's claim too
    down.add('node-b');
    expect(ledger.claim('w', 'tx', d, 'self-1', undefined, gone).kind).toBe('claimed');
    // but other content is a conflict whoever is gone
    const other = ledger.claim('w', 'tx', req({ txId: 'tx', tx: new Uint8Array(32) }), 'x', 'node-c', () => true);
    expect(other.kind === 'duplicate' && !other.inFlight).toBe(true);
    // and this node's own claim is never 'gone'
    const own = ledger.claim('w', 'tx', d, 'c2', 'node-c', () => true);
    expect(own.kind === 'duplicate' && own.inFlight).toBe(true);
  });

  it('the same tx id under another wallet is independent', async () => {
    const v = await mkVault(join(tempDir(), 'v'), true);
    const ledger = new VaultRequestLedger(v, 60_000);
    expect(ledger.claim('w', 'tx', req({ txId: 'tx' }), 'a').kind).toBe('claimed');
    ledger.complete('w', 'tx', 'a', randomBytes(8));
    expect(ledger.claim('w2', 'tx', req({ walletId: 'w2', txId: 'tx' }), 'b').kind).toBe('claimed');
  });
});
