import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restoreChain, runBackup, verifyChain } from '../../src/backup/index.js';
import type { Vault } from '../../src/vault/vault.js';
import { FAST_ARGON2, password, share, snapshot, snapshotOf, tempDir } from '../helpers/vault.js';
import { newKeys, newVault } from './helpers.js';

type Op =
  | { op: 'put'; w: number; activate: boolean; kt: 'ecdsa' | 'eddsa' }
  | { op: 'activate'; w: number }
  | { op: 'delete'; w: number }
  | { op: 'prune'; keep: number }
  | { op: 'rotate' }
  | { op: 'backup'; full: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      w: fc.nat({ max: 4 }),
      activate: fc.boolean(),
      kt: fc.constantFrom('ecdsa' as const, 'eddsa' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('activate' as const), w: fc.nat({ max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), w: fc.nat({ max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('prune' as const), keep: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'rotate' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('backup' as const), full: fc.boolean() }) },
);

async function apply(v: Vault, op: Exclude<Op, { op: 'backup' }>): Promise<void> {
  const kt = op.op === 'put' ? op.kt : 'eddsa';
  const id = `w${'w' in op ? op.w : 0}`;
  const versions = (() => {
    try {
      return v.listVersions(kt, id);
    } catch {
      return [];
    }
  })();
  if (op.op === 'put')
    v.putShare({
      ...share(id, (versions.at(-1)?.version ?? 0) + 1, versions.length + 1, { keyType: kt }),
      activate: op.activate,
    });
  else if (op.op === 'activate') {
    const active = Math.max(0, ...versions.filter((y) => y.status === 'active').map((y) => y.version));
    const p = versions.find((x) => x.status === 'pending' && x.version > active);
    if (p) v.activate(kt, id, p.version);
  } else if (op.op === 'delete') {
    if (versions.length > 0) v.deleteWallet(kt, id);
  } else if (op.op === 'prune') v.prune(op.keep);
  else if (op.op === 'rotate') await v.rotateKey({ batchSize: 3 });
}

describe('restore equivalence', () => {
  it('restoring the chain gives exactly the source state, and restoring up to any file gives the state when that file was written', async () => {
    const keys = await newKeys();
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.nat(), async (ops, pick) => {
        const v = await newVault();
        const out = tempDir();
        const states: { toSeq: number; chain: number; state: ReturnType<typeof snapshot> }[] = [];
        try {
          const backup = async (full: boolean) => {
            const r = await runBackup(v, {
              outDir: out,
              nodeId: 'node0',
              recipients: [keys.recipient],
              mode: full ? 'full' : 'auto',
              pageSize: 4,
              encryptInWorker: states.length % 4 === 3,
            });
            if (r.file) states.push({ toSeq: r.toSeq, chain: r.chain, state: snapshot(v) });
          };
          for (const op of ops) {
            if (op.op === 'backup') await backup(op.full);
            else await apply(v, op);
          }
          await backup(false);
          const dec = { identities: [keys.identity] };
          await verifyChain(out, dec);
          const to = join(tempDir(), 'latest');
          await restoreChain(out, to, dec, password('new'), { argon2: FAST_ARGON2, batchSize: 5 });
          expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
          // Point in time: the newest chain's state at a file boundary.
          const last = states.at(-1)!;
          const inChain = states.filter((s) => s.chain === last.chain);
          const target = inChain[pick % inChain.length]!;
          const to2 = join(tempDir(), 'pit');
          await restoreChain(out, to2, dec, password('new'), { argon2: FAST_ARGON2, upToSeq: target.toSeq });
          expect(await snapshotOf(to2, 'new')).toEqual(target.state);
        } finally {
          v.close();
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe.each([
  ['on this thread', false],
  ['on a worker thread', true],
])('backups while the vault is being written (encryption %s)', (_label, encryptInWorker) => {
  it('writes committed between the pages of a running backup land in a consistent snapshot', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    try {
      v.putShares(Array.from({ length: 150 }, (_, i) => ({ ...share(`w${i}`, 1, (i % 250) + 1), activate: true })));
      let n = 0;
      let rotation: Promise<unknown> | undefined;
      // Between pages: update rows the backup already read and rows it has not reached, delete
      // some, and run a key rotation (which retires the data key the first pages were sealed with).
      const r = await runBackup(v, {
        outDir: out,
        nodeId: 'node0',
        recipients: [keys.recipient],
        // Pages of 100 changes (~400 KiB) yield in the middle of a page.
        pageSize: 100,
        encryptInWorker,
        onProgress: () => {
          n++;
          if (n === 1) rotation = v.rotateKey({ batchSize: 1000 });
          if (n > 6) return;
          v.putShare({ ...share(`w${n}`, 2, 100 + n), activate: true });
          v.putShare({ ...share(`w${29 - n}`, 2, 200 + n), activate: true });
          v.deleteWallet('eddsa', `w${10 + n}`);
        },
      });
      await rotation;
      // The rotation may have moved rows after the backup finished: a second run catches up.
      await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient], encryptInWorker });
      expect(r.toSeq).toBeLessThanOrEqual(v.currentSeq());
      const to = join(tempDir(), 'r');
      await restoreChain(out, to, { identities: [keys.identity] }, password('new'), { argon2: FAST_ARGON2 });
      expect(await snapshotOf(to, 'new')).toEqual(snapshot(v));
    } finally {
      v.close();
    }
  });
});
