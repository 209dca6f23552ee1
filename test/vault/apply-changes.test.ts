import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/common/errors.js';
import type { PlainChange, VaultChange } from '../../src/vault/types.js';
import { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, snapshot, tempDir } from '../helpers/vault.js';

function plain(v: Vault, c: VaultChange): PlainChange {
  switch (c.kind) {
    case 'wallet':
      return { kind: 'wallet', wallet: c.wallet };
    case 'share':
      return { kind: 'share', info: c.info, share: v.openChange(c) };
    case 'share-retired':
      return { kind: 'share-retired', info: c.info, retiredBy: c.retiredBy };
    case 'wallet-deleted':
      return { kind: 'wallet-deleted', keyType: c.keyType, walletId: c.walletId };
    case 'share-deleted':
      return { kind: 'share-deleted', keyType: c.keyType, walletId: c.walletId, version: c.version };
  }
}

type Op =
  | { op: 'put'; w: number; activate: boolean }
  | { op: 'activate'; w: number }
  | { op: 'delete'; w: number }
  | { op: 'prune'; keep: number }
  | { op: 'cut' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), w: fc.nat({ max: 4 }), activate: fc.boolean() }),
  fc.record({ op: fc.constant('activate' as const), w: fc.nat({ max: 4 }) }),
  fc.record({ op: fc.constant('delete' as const), w: fc.nat({ max: 4 }) }),
  fc.record({ op: fc.constant('prune' as const), keep: fc.nat({ max: 2 }) }),
  fc.constant({ op: 'cut' as const }),
);

function run(v: Vault, op: Op): void {
  const id = `w${'w' in op ? op.w : 0}`;
  const versions = (() => {
    try {
      return v.listVersions('eddsa', id);
    } catch {
      return [];
    }
  })();
  if (op.op === 'put')
    v.putShare({ ...share(id, (versions.at(-1)?.version ?? 0) + 1, versions.length + 1), activate: op.activate });
  else if (op.op === 'activate') {
    const p = versions.find(
      (x) =>
        x.status === 'pending' &&
        x.version > Math.max(0, ...versions.filter((y) => y.status === 'active').map((y) => y.version)),
    );
    if (p) v.activate('eddsa', id, p.version);
  } else if (op.op === 'delete') {
    if (versions.length > 0) v.deleteWallet('eddsa', id);
  } else if (op.op === 'prune') v.prune(op.keep);
}

describe('applying a change stream', () => {
  it('replaying the change stream in batches (full, then incrementals) reproduces the source exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), async (ops) => {
        const src = await Vault.create(tempDir(), password('a'), { argon2: FAST_ARGON2 });
        const dst = await Vault.create(tempDir(), password('b'), { argon2: FAST_ARGON2 });
        try {
          let mark = 0;
          const ship = () => {
            const changes = [...src.iterateChanges(mark, 7)];
            dst.applyChanges(changes.map((c) => plain(src, c)));
            mark = changes.at(-1)?.seq ?? mark;
          };
          for (const op of ops) {
            if (op.op === 'cut') ship();
            else run(src, op);
          }
          ship();
          expect(snapshot(dst, { timestamps: false })).toEqual(snapshot(src, { timestamps: false }));
          expect((await dst.verify()).problems).toEqual([]);
        } finally {
          src.close();
          dst.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a malformed change is refused and nothing of its batch is applied', async () => {
    const v = await Vault.create(tempDir(), password('a'), { argon2: FAST_ARGON2 });
    const good: PlainChange = { kind: 'wallet-deleted', keyType: 'eddsa', walletId: 'x' };
    const bad = { kind: 'share-deleted', keyType: 'eddsa', walletId: 'x', version: -1 } as PlainChange;
    expect(() => v.applyChanges([good, bad])).toThrow(InvalidArgumentError);
    expect(v.changesSince(0)).toEqual([]);
    v.close();
  });
});
