/**
 * What `tessera vault status` and `tessera vault verify` report: a summary of the vault, and a full
 * integrity pass that lists every problem it finds (keyring copies, pages, records, pointers, meta,
 * the audit log's chain) instead of stopping at the first.
 */
import { InvalidStateError, TesseraError, VaultCorruptedError } from '../common/errors.js';
import { verifyAudit } from './audit-log.js';
import { backupWatermark, currentSeq } from './changes.js';
import { isCorruption } from './database.js';
import { KDF_ARGON2ID } from './kdf.js';
import {
  KEY_TYPE_NAME,
  type ShareRow,
  STATUS_CODE,
  STATUS_NAME,
  shareInfo,
  type WalletRow,
  walletInfo,
} from './rows.js';
import type { VaultStore } from './store.js';
import type { Argon2Params, Progress } from './types.js';

/** A summary of the vault for `status`. Holds no secret. */
export interface VaultStatus {
  vaultId: string;
  dir: string;
  kdf: 'argon2id' | 'raw-key';
  argon2: Argon2Params | null;
  keyringGeneration: number;
  primaryDataKeyId: number;
  dataKeyIds: number[];
  pageKeyId: number;
  rotationInProgress: boolean;
  wallets: number;
  shares: { pending: number; active: number; retired: number };
  seq: number;
  backupWatermark: number;
  keyringIssues: string[];
}

/** One problem found by `verify`. */
export interface VerifyProblem {
  part: 'keyring' | 'database' | 'record' | 'pointer' | 'meta' | 'audit';
  where: string;
  what: string;
}

/** The result of `verify`. */
export interface VerifyReport {
  ok: boolean;
  wallets: number;
  records: number;
  problems: VerifyProblem[];
}

export function status(store: VaultStore): VaultStatus {
  return store.guard('status', () => {
    const counts = store.stmt('SELECT status, count(*) AS n FROM shares GROUP BY status').all() as {
      status: number;
      n: number;
    }[];
    const shares = { pending: 0, active: 0, retired: 0 };
    for (const c of counts) {
      const s = STATUS_NAME[c.status];
      if (s) shares[s] = c.n;
    }
    const { header, body } = store;
    return {
      vaultId: store.id,
      dir: store.dir,
      kdf: header.kdf === KDF_ARGON2ID ? ('argon2id' as const) : ('raw-key' as const),
      argon2: header.kdf === KDF_ARGON2ID ? { ...header.argon2 } : null,
      keyringGeneration: header.generation,
      primaryDataKeyId: store.primaryKey().id,
      dataKeyIds: body.dataKeys.map((k) => k.id),
      pageKeyId: body.pageKeys.find((k) => k.role === 'current')!.id,
      rotationInProgress: store.rotating || store.rotationPending(),
      wallets: (store.stmt('SELECT count(*) AS n FROM wallets').get() as { n: number }).n,
      shares,
      seq: currentSeq(store),
      backupWatermark: backupWatermark(store),
      keyringIssues: [...store.keyringIssues],
    };
  });
}

export async function verify(store: VaultStore, onProgress?: Progress): Promise<VerifyReport> {
  store.assertOpen();
  const problems: VerifyProblem[] = store.keyringIssues.map((i) => ({
    part: 'keyring' as const,
    where: i.split(':')[0]!,
    what: i,
  }));
  const add = (part: VerifyProblem['part'], where: string, what: string) => problems.push({ part, where, what });
  let wallets = 0;
  let records = 0;
  try {
    const rows = store.db.pragma('integrity_check') as { integrity_check: string }[];
    for (const r of rows) if (r.integrity_check !== 'ok') add('database', 'integrity_check', r.integrity_check);
  } catch (e) {
    add('database', 'integrity_check', (e as Error).message);
    return { ok: false, wallets, records, problems };
  }
  try {
    const meta = new Map(
      (store.stmt('SELECT k, v FROM meta').all() as { k: string; v: unknown }[]).map((r) => [r.k, r.v]),
    );
    const seq = store.seq;
    const maxSeq = (
      store
        .stmt(
          'SELECT max(m) AS m FROM (SELECT max(seq) AS m FROM wallets ' +
            'UNION ALL SELECT max(seq) FROM shares UNION ALL SELECT max(seq) FROM tombstones)',
        )
        .get() as {
        m: number | null;
      }
    ).m;
    if (maxSeq !== null && maxSeq > seq)
      add('meta', 'seq', `change sequence ${seq} is below the highest used ${maxSeq}`);
    const bw = meta.get('backup_watermark');
    if (typeof bw !== 'number' || (typeof seq === 'number' && bw > seq))
      add('meta', 'backup_watermark', 'backup watermark is above the change sequence');

    const walletRows = store.stmt('SELECT * FROM wallets ORDER BY key_type, wallet_id').all() as WalletRow[];
    const total = (store.stmt('SELECT count(*) AS n FROM shares').get() as { n: number }).n;
    onProgress?.(0, total);
    const known = new Set<string>();
    for (const w of walletRows) {
      wallets++;
      const where = `wallet ${KEY_TYPE_NAME[w.key_type] ?? w.key_type}/${w.wallet_id}`;
      known.add(`${w.key_type}\u0000${w.wallet_id}`);
      try {
        walletInfo(w);
      } catch (e) {
        add('database', where, (e as Error).message);
      }
      const actives = store
        .stmt('SELECT version FROM shares WHERE key_type = ? AND wallet_id = ? AND status = ?')
        .all(w.key_type, w.wallet_id, STATUS_CODE.active) as {
        version: number;
      }[];
      if (w.current_version === null) {
        if (actives.length > 0)
          add('pointer', where, `no current version but version ${actives[0]!.version} is active`);
      } else if (actives.length !== 1 || actives[0]!.version !== w.current_version) {
        add(
          'pointer',
          where,
          `current version ${w.current_version} but active versions are [${actives.map((a) => a.version).join(', ')}]`,
        );
      }
    }
    let lastId = 0;
    for (;;) {
      const batch = store
        .stmt('SELECT * FROM shares_full WHERE id > ? ORDER BY id LIMIT 500')
        .all(lastId) as ShareRow[];
      if (batch.length === 0) break;
      for (const r of batch) {
        lastId = r.id;
        records++;
        const where = `share ${KEY_TYPE_NAME[r.key_type] ?? r.key_type}/${r.wallet_id} v${r.version}`;
        if (!known.has(`${r.key_type}\u0000${r.wallet_id}`)) add('pointer', where, 'share without a wallet');
        try {
          shareInfo(r);
          if (r.status === STATUS_CODE.retired) {
            if (r.sealed !== null)
              add(
                'record',
                where,
                'a retired version still holds its sealed secret (it must be destroyed at ' +
                  'retirement); open the vault with this build again, or restore from a backup',
              );
          } else store.openRow(r).fill(0);
        } catch (e) {
          add(
            e instanceof VaultCorruptedError ? (e.part === 'record' ? 'record' : 'database') : 'database',
            where,
            (e as Error).message,
          );
        }
      }
      onProgress?.(records, total);
      await new Promise<void>((resolve) => setImmediate(resolve));
      store.assertOpen();
    }
  } catch (e) {
    if (e instanceof InvalidStateError || !(isCorruption(e) || e instanceof TesseraError)) throw e;
    add('database', 'scan', (e as Error).message);
  }
  try {
    const audit = verifyAudit(store);
    if (audit.firstBad)
      add('audit', `audit entry ${audit.firstBad.seq}`, `${audit.firstBad.problem}: ${audit.firstBad.detail}`);
  } catch (e) {
    if (e instanceof InvalidStateError || !(isCorruption(e) || e instanceof TesseraError)) throw e;
    add('database', 'audit log', (e as Error).message);
  }
  return { ok: problems.length === 0, wallets, records, problems };
}
