import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupCorruptedError, readBackupFile, runBackup } from '../../src/backup/index.js';
import { share, tempDir } from '../helpers/vault.js';
import { newKeys, newVault } from './helpers.js';

describe('a backup payload is untrusted input', () => {
  it('any bit flip, cut or splice of a validly encrypted payload is a BackupCorruptedError, never a crash or an accepted file', async () => {
    const keys = await newKeys();
    const v = await newVault();
    const out = tempDir();
    let payload: Uint8Array;
    try {
      v.putShare({ ...share('a', 1, 1, { share: new Uint8Array(64).fill(9) }), activate: true });
      v.putShare(share('a', 2, 2, { share: new Uint8Array(64).fill(8) }));
      v.deleteWallet('eddsa', 'a');
      v.putShare({ ...share('b', 1, 3, { share: new Uint8Array(64).fill(7) }), activate: true });
      const r = await runBackup(v, { outDir: out, nodeId: 'node0', recipients: [keys.recipient] });
      const d = new Decrypter();
      d.addIdentity(keys.identity);
      const { readFileSync } = await import('node:fs');
      payload = await d.decrypt(readFileSync(r.file!));
    } finally {
      v.close();
    }
    const dir = tempDir();
    const path = join(dir, 'mutated.age');
    const e = new Encrypter();
    e.addRecipient(keys.recipient);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
          fc.record({
            kind: fc.constant('splice' as const),
            at: fc.nat(),
            junk: fc.uint8Array({ minLength: 1, maxLength: 12 }),
          }),
        ),
        async (m) => {
          const at = m.at % payload.length;
          let bad: Uint8Array;
          if (m.kind === 'flip') {
            bad = Uint8Array.from(payload);
            bad[at]! ^= m.bits;
          } else if (m.kind === 'cut') bad = payload.slice(0, at);
          else bad = Uint8Array.from([...payload.subarray(0, at), ...m.junk, ...payload.subarray(at)]);
          writeFileSync(path, await e.encrypt(bad));
          const err = await readBackupFile(path, { identities: [keys.identity] }).then(
            () => null,
            (x) => x,
          );
          expect(err).toBeInstanceOf(BackupCorruptedError);
        },
      ),
      { numRuns: 150 },
    );
  });
});
