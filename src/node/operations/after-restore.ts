/**
 * docs/ecdsa.md rule 8: a vault restored from a backup may hold rolled-back OT state or lost
 * burns, which only an honest peer would refuse. Before the node serves, every restored ECDSA
 * share (active or pending) gets `requireResetup()` — all its pairs burnt — and is written back;
 * the pairs are then set up afresh with each peer by the automatic re-setup. The vault's restore
 * mark is cleared only after every share was written, so a crash in between repeats the pass.
 */
import type { Logger } from '../../common/log.js';
import { ecdsa } from '../../tss/index.js';
import type { Vault } from '../../vault/index.js';

/**
 * Burns every pair of every ECDSA share if the vault was restored; returns how many shares.
 * Throws what the vault throws (the node must not serve with the mark unresolved).
 */
export function burnRestoredPairs(vault: Vault, log: Logger): number {
  if (!vault.restoredNeedsResetup) return 0;
  let n = 0;
  for (const w of vault.listWallets()) {
    if (w.keyType !== 'ecdsa') continue;
    for (const v of vault.listVersions('ecdsa', w.walletId)) {
      if (v.status !== 'active' && v.status !== 'pending') continue;
      const opened = vault.getShare('ecdsa', w.walletId, v.version);
      let share: ecdsa.KeyShare;
      try {
        share = ecdsa.KeyShare.deserialize(opened.share);
      } finally {
        opened.share.fill(0);
      }
      try {
        share.requireResetup();
        const bytes = share.serialize();
        try {
          vault.updateShare('ecdsa', w.walletId, v.version, bytes, { expectSeq: opened.seq });
        } finally {
          bytes.fill(0);
        }
        n++;
      } finally {
        share.dispose();
      }
    }
  }
  vault.clearRestoredMark();
  log.warn({ shares: n }, 'restored vault: every ECDSA pair is burnt and will be set up again with its peer');
  return n;
}
