import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidStateError, NotFoundError } from '../../src/common/errors.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, tempDir } from '../helpers/vault.js';

describe('updating a share version in place (state that moves on within a version)', () => {
  it('an updated share reads back with the new bytes under the same version, status and metadata, also after reopen', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    const put = v.putShare({ ...share('w', 1, 1), activate: true });
    const upd = v.updateShare('eddsa', 'w', 1, new Uint8Array(300).fill(9));
    expect(upd).toMatchObject({
      version: 1,
      status: 'active',
      threshold: put.threshold,
      participants: put.participants,
      createdAt: put.createdAt,
    });
    expect(upd.seq).toBeGreaterThan(put.seq);
    v.close();
    const v2 = await Vault.open(dir, password('pw'));
    const got = v2.getShare('eddsa', 'w', 1);
    expect(Buffer.from(got.share).equals(Buffer.alloc(300, 9))).toBe(true);
    expect(got.status).toBe('active');
    expect(v2.listVersions('eddsa', 'w')).toHaveLength(1);
    expect((await v2.verify()).problems).toEqual([]);
    v2.close();
  });

  it('an update is a change: the change stream after the previous watermark carries the new bytes, and replaying it reproduces them', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1, 1), activate: true });
    const mark = v.currentSeq();
    v.updateShare('eddsa', 'w', 1, Uint8Array.of(1, 2, 3));
    const changes = v.changesSince(mark);
    expect(changes.map((c) => c.kind)).toEqual(['share']);
    const c = changes[0] as Extract<(typeof changes)[number], { kind: 'share' }>;
    expect([...v.openChange(c)]).toEqual([1, 2, 3]);
    const other = await Vault.create(tempDir(), password('pw2'), { argon2: FAST_ARGON2 });
    other.applyChanges(
      v
        .changesSince(0)
        .map((x) => (x.kind === 'share' ? { kind: 'share' as const, info: x.info, share: v.openChange(x) } : x)),
    );
    expect([...other.getShare('eddsa', 'w', 1).share]).toEqual([1, 2, 3]);
    other.close();
    v.close();
  });

  it('a pending version can be updated; a retired one, a missing one or bad bytes are refused and change nothing', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    v.putShare({ ...share('w', 1, 1), activate: true });
    v.putShare(share('w', 2, 2));
    v.updateShare('eddsa', 'w', 2, Uint8Array.of(7));
    expect([...v.getShare('eddsa', 'w', 2).share]).toEqual([7]);
    v.activate('eddsa', 'w', 2);
    const seq = v.currentSeq();
    expect(() => v.updateShare('eddsa', 'w', 1, Uint8Array.of(8))).toThrow(InvalidStateError);
    expect(() => v.updateShare('eddsa', 'w', 3, Uint8Array.of(8))).toThrow(NotFoundError);
    expect(() => v.updateShare('ecdsa', 'w', 2, Uint8Array.of(8))).toThrow(NotFoundError);
    expect(() => v.updateShare('eddsa', 'w', 2, new Uint8Array(0))).toThrow(InvalidArgumentError);
    expect(() => v.updateShare('eddsa', 'w', 2, [1] as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(v.currentSeq()).toBe(seq);
    expect(v.getShare('eddsa', 'w', 2).share[0]).toBe(7);
    v.close();
  });

  it('with expectSeq an update is a compare-and-swap: a writer holding an older sequence number (a stale or resumed copy) is refused and changes nothing', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    const read = v.putShare({ ...share('w', 1, 1), activate: true });
    const first = v.updateShare('eddsa', 'w', 1, Uint8Array.of(2), { expectSeq: read.seq });
    const second = v.updateShare('eddsa', 'w', 1, Uint8Array.of(3), { expectSeq: first.seq });
    expect(() => v.updateShare('eddsa', 'w', 1, Uint8Array.of(9), { expectSeq: first.seq })).toThrow(InvalidStateError);
    expect(() => v.updateShare('eddsa', 'w', 1, Uint8Array.of(9), { expectSeq: -1 })).toThrow(InvalidArgumentError);
    expect([...v.getShare('eddsa', 'w', 1).share]).toEqual([3]);
    expect(v.getShare('eddsa', 'w', 1).seq).toBe(second.seq);
    v.close();
  });

  it('an update after a key rotation is sealed under the new primary key', async () => {
    const dir = tempDir();
    const v = await Vault.create(dir, password('pw'), { argon2: FAST_ARGON2 });
    const before = v.putShare({ ...share('w', 1, 1), activate: true });
    await v.rotateKey();
    const after = v.updateShare('eddsa', 'w', 1, Uint8Array.of(5));
    expect(after.dataKeyId).toBe(v.status().primaryDataKeyId);
    expect(after.dataKeyId).not.toBe(before.dataKeyId);
    expect([...v.getShare('eddsa', 'w', 1).share]).toEqual([5]);
    v.close();
  });
});
