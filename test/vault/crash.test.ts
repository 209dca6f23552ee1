import { describe, expect, it } from 'vitest';
import { ShareDestroyedError, WrongPasswordError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { kill9, startChild } from '../helpers/child.js';
import { FAST_ARGON2, password, tempDir } from '../helpers/vault.js';

interface ModelVersion {
  fill: number;
  status: 'pending' | 'active' | 'retired';
}
/** The model of what must be in the vault: every acknowledged write. */
type Model = Map<
  string,
  { versions: Map<number, ModelVersion>; active: number; claims: { version: number; ctx: string }[] }
>;

/**
 * Activating `version` retires the active one and every pending version below it, whose secrets
 * are destroyed in the same transaction.
 */
function activateIn(w: { versions: Map<number, ModelVersion>; active: number }, version: number): void {
  const old = w.versions.get(w.active);
  if (old) old.status = 'retired';
  for (const [n, x] of w.versions) if (n < version && x.status === 'pending') x.status = 'retired';
  w.versions.get(version)!.status = 'active';
  w.active = version;
}

function apply(model: Model, setupClaims: Set<string>, a: Record<string, unknown>): void {
  if (a.op === 'claim') model.get(a.id as string)!.claims.push({ version: a.version as number, ctx: a.ctx as string });
  else if (a.op === 'setup') setupClaims.add(a.ctx as string);
  else if (a.op === 'update') model.get(a.id as string)!.versions.get(a.version as number)!.fill = a.fill as number;
  else if (a.op === 'activate') activateIn(model.get(a.id as string)!, a.version as number);
  else if (a.op === 'put') {
    const id = a.id as string;
    const w = model.get(id) ?? { versions: new Map(), active: 0, claims: [] };
    w.versions.set(a.version as number, { fill: a.fill as number, status: 'pending' });
    if (a.active) activateIn(w, a.version as number);
    model.set(id, w);
  } else if (a.op === 'delete') model.delete(a.id as string);
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

describe('crash safety (kill -9 of a real process)', () => {
  it('every acknowledged put, activation (with its retired secret destroyed), in-place update, delete, signing-log and setup-log claim, audit-log entry and key rotation survives kill -9 at random moments, and no kill leaves a retired secret, loses an active one or breaks the audit chain', async () => {
    const dir = tempDir();
    (await Vault.create(dir, password('pw-a'), { argon2: FAST_ARGON2 })).close();
    const model: Model = new Map();
    const setupClaims = new Set<string>();
    /** details.n of every acknowledged audit entry, in order. */
    let audit: number[] = [];
    let rotations = 0;
    let claims = 0;
    let updates = 0;
    let activations = 0;
    const rounds = 24;
    for (let round = 0; round < rounds; round++) {
      const child = startChild([dir, 'work', String(round * 7919 + 1)]);
      await child.waitFor((a) => a.op === 'ready');
      await sleep(20 + Math.floor(Math.random() * 300));
      await kill9(child);
      for (const a of child.acks) {
        apply(model, setupClaims, a);
        if (a.op === 'audit') audit.push(a.n as number);
        if (a.op === 'rotate-key') rotations++;
        if (a.op === 'claim') claims++;
        if (a.op === 'update') updates++;
        if (a.op === 'activate' || (a.op === 'put' && a.active && (a.version as number) > 1)) activations++;
      }
      // A delete that was announced but not acknowledged may or may not have committed.
      const last = child.acks.at(-1);
      let maybeDeleted: string | undefined;
      if (last?.op === 'delete-start') maybeDeleted = last.id as string;
      const v = await Vault.open(dir, password('pw-a'));
      try {
        // Likewise an update announced but not acknowledged may or may not have committed.
        if (last?.op === 'update-start') {
          const [id, version, fill] = [last.id as string, last.version as number, last.fill as number];
          if (v.getShare('eddsa', id, version).share[0] === fill) model.get(id)!.versions.get(version)!.fill = fill;
        }
        // A put or an activation announced but not acknowledged committed entirely or not at all.
        if (
          last?.op === 'put-start' &&
          v.listWallets().some((w) => w.walletId === last.id) &&
          v.listVersions('eddsa', last.id as string).some((x) => x.version === last.version)
        ) {
          apply(model, setupClaims, { ...last, op: 'put' });
        }
        if (last?.op === 'activate-start' && v.getWallet('eddsa', last.id as string).currentVersion === last.version)
          apply(model, setupClaims, { ...last, op: 'activate' });
        if (maybeDeleted !== undefined) {
          const gone = v.listWallets().every((w) => w.walletId !== maybeDeleted);
          if (gone) model.delete(maybeDeleted);
        }
        for (const [id, w] of model) {
          const wallet = v.getWallet('eddsa', id);
          expect(wallet.currentVersion, `${id} active version`).toBe(w.active);
          const stored = new Map(v.listVersions('eddsa', id).map((x) => [x.version, x.status]));
          expect(stored, `${id} versions`).toEqual(new Map([...w.versions].map(([ver, x]) => [ver, x.status])));
          for (const [version, { fill, status }] of w.versions) {
            if (status === 'retired') {
              // its secret was destroyed in the activation's transaction: never readable again
              expect(() => v.getShare('eddsa', id, version), `${id} v${version} retired`).toThrow(ShareDestroyedError);
              continue;
            }
            const s = v.getShare('eddsa', id, version);
            expect(s.share[0], `${id} v${version}`).toBe(fill);
            expect(s.share.every((b) => b === fill)).toBe(true);
          }
          // an acknowledged claim is never lost: claiming it again is refused (a retired version refuses every claim)
          for (const c of w.claims) {
            if (w.versions.get(c.version)!.status === 'retired')
              expect(() => v.claimSigningContext('eddsa', id, c.version, Buffer.from(c.ctx, 'hex'))).toThrow(
                ShareDestroyedError,
              );
            else
              expect(
                v.claimSigningContext('eddsa', id, c.version, Buffer.from(c.ctx, 'hex')),
                `${id} v${c.version} claim`,
              ).toBe(false);
          }
        }
        for (const c of setupClaims) expect(v.claimSetupContext(Buffer.from(c, 'hex')), `setup claim ${c}`).toBe(false);
        // a claim announced but not acknowledged may or may not have committed: settle it
        if (last?.op === 'setup-start') {
          v.claimSetupContext(Buffer.from(last.ctx as string, 'hex'));
          setupClaims.add(last.ctx as string);
        }
        expect(v.setupLogSize()).toBe(setupClaims.size);
        // every acknowledged audit entry is there, in order; one announced but not acknowledged may be too
        const stored = v.auditEntries({ limit: 10_000 }).map((r) => r.entry.details!.n as number);
        const extra = last?.op === 'audit-start' ? [last.n as number] : [];
        expect([audit, [...audit, ...extra]], 'audit entries').toContainEqual(stored);
        audit = stored;
        expect(v.verifyAudit()).toMatchObject({ ok: true, entries: audit.length });
        const st = v.status();
        expect(st.rotationInProgress).toBe(false);
        expect(st.dataKeyIds).toHaveLength(1);
        const report = await v.verify();
        expect(report.problems).toEqual([]);
      } finally {
        v.close();
      }
    }
    expect(rotations).toBeGreaterThan(0);
    expect(claims).toBeGreaterThan(0);
    expect(updates).toBeGreaterThan(0);
    expect(activations).toBeGreaterThan(0);
    expect(setupClaims.size).toBeGreaterThan(0);
    expect(audit.length).toBeGreaterThan(0);
  });

  it('kill -9 at any point of rotateKey loses no share and the rotation completes on the next open', async () => {
    const dir = tempDir();
    const v0 = await Vault.create(dir, password('pw-a'), { argon2: FAST_ARGON2 });
    for (let i = 0; i < 400; i++) {
      v0.putShare({
        keyType: i % 2 ? 'ecdsa' : 'eddsa',
        walletId: `w${i}`,
        version: 1,
        threshold: 1,
        participants: ['a', 'b'],
        publicKey: new Uint8Array(33).fill(2),
        share: new Uint8Array(2048).fill(i & 0xff),
        activate: true,
      });
    }
    v0.close();
    let midRotation = 0;
    for (let round = 0; round < 12; round++) {
      const child = startChild([dir, 'rotations', String(round)]);
      await child.waitFor((a) => a.op === 'rotate-key-start');
      await sleep(Math.floor(Math.random() * 80));
      await kill9(child);
      if (child.acks.at(-1)?.op === 'rotate-key-start') midRotation++;
      const v = await Vault.open(dir, password('pw-a'));
      const st = v.status();
      expect(st.rotationInProgress).toBe(false);
      expect(st.dataKeyIds).toEqual([st.primaryDataKeyId]);
      for (let i = 0; i < 400; i++) expect(v.getShare(i % 2 ? 'ecdsa' : 'eddsa', `w${i}`).share[100]).toBe(i & 0xff);
      expect((await v.verify()).problems).toEqual([]);
      v.close();
    }
    expect(midRotation).toBeGreaterThan(0);
  });

  it('after kill -9 in the middle of password rotations, the last acknowledged or the next password opens', async () => {
    const dir = tempDir();
    const v0 = await Vault.create(dir, password('pw-a'), { argon2: FAST_ARGON2 });
    v0.putShare({
      keyType: 'ecdsa',
      walletId: 'w',
      version: 1,
      threshold: 1,
      participants: ['a', 'b'],
      publicKey: new Uint8Array(33).fill(2),
      share: new Uint8Array(64).fill(5),
      activate: true,
    });
    v0.close();
    let current = 'pw-a';
    let acked = 0;
    for (let round = 0; round < 20; round++) {
      const child = startChild([dir, 'passwords', String(round), current]);
      await child.waitFor((a) => a.op === 'ready');
      await sleep(Math.floor(Math.random() * 60));
      await kill9(child);
      const rotations = child.acks.filter((a) => a.op === 'rotate-password');
      acked += rotations.length;
      const last = (rotations.at(-1)?.pw as string | undefined) ?? current;
      const next = last === 'pw-a' ? 'pw-b' : 'pw-a';
      let v: Vault;
      try {
        v = await Vault.open(dir, password(last));
        current = last;
      } catch (e) {
        expect(e).toBeInstanceOf(WrongPasswordError);
        v = await Vault.open(dir, password(next));
        current = next;
      }
      expect(v.getShare('ecdsa', 'w').share[0]).toBe(5);
      v.close();
    }
    expect(acked).toBeGreaterThan(0);
  });
});
