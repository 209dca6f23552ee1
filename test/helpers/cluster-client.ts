/**
 * A plain mpcium-style client for the cluster tests: builds request JSON with Go's field order,
 * signs it with the cluster's initiator key over the api's signed bytes, publishes it on the real
 * in-process work queue and collects results from the result stream.
 */
import { sign as edSign, type KeyObject } from 'node:crypto';
import {
  generateKeySignedBytes,
  RESHARE_REQUEST_SUBJECT,
  RESULT_STREAM,
  RESULT_SUBJECTS,
  requestSubject,
  resharingSignedBytes,
  resultConsumer,
  signTxSignedBytes,
} from '../../src/api/index.js';
import type { LocalCluster } from '../../src/node/index.js';
import type { WorkQueue } from '../../src/transport/index.js';

export type ResultJson = Record<string, unknown> & { result_type: string; error_code: string; error_reason: string };

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export class ClusterClient {
  private readonly queue: WorkQueue;
  private readonly results = { keygen: [] as ResultJson[], signing: [] as ResultJson[], reshare: [] as ResultJson[] };
  private readonly waiters: (() => void)[] = [];
  private readonly stops: { stop(): void }[] = [];
  /** Every result message delivered (duplicates included). */
  delivered = 0;

  constructor(
    private readonly cluster: LocalCluster,
    private readonly key: KeyObject = cluster.initiatorKey,
  ) {
    this.queue = cluster.clientQueue();
  }

  async start(): Promise<this> {
    await this.queue.ensureStream({ name: RESULT_STREAM, subjects: [...RESULT_SUBJECTS] });
    for (const op of ['keygen', 'signing', 'reshare'] as const) {
      const { durable, filter } = resultConsumer(op);
      this.stops.push(
        this.queue.consume(
          { stream: RESULT_STREAM, durable, filter, maxDeliver: 3, ackWaitMs: 30_000, maxAckPending: 1000 },
          (m) => {
            this.delivered++;
            const r = JSON.parse(Buffer.from(m.data).toString('utf8')) as ResultJson;
            if (op === 'reshare') r.session_id = m.subject.split('.').at(-1);
            this.results[op].push(r);
            m.ack();
            for (const w of this.waiters.splice(0)) w();
          },
        ),
      );
    }
    return this;
  }

  stop(): void {
    for (const s of this.stops) s.stop();
  }

  private async waitFor(
    op: 'keygen' | 'signing' | 'reshare',
    pred: (r: ResultJson) => boolean,
    timeoutMs = 60_000,
  ): Promise<ResultJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.results[op].find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no ${op} result within ${timeoutMs} ms`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Results of one kind seen so far. */
  seen(op: 'keygen' | 'signing' | 'reshare'): ResultJson[] {
    return [...this.results[op]];
  }

  async keygen(walletId: string, opts: { raw?: Uint8Array } = {}): Promise<ResultJson> {
    const signature = edSign(null, generateKeySignedBytes({ walletId }), this.key);
    const data = opts.raw ?? Buffer.from(JSON.stringify({ wallet_id: walletId, signature: b64(signature) }));
    await this.queue.publish(requestSubject('keygen', walletId), data);
    return this.waitFor('keygen', (r) => r.wallet_id === walletId);
  }

  signRequest(r: {
    walletId: string;
    keyType: 'secp256k1' | 'ed25519';
    tx: Uint8Array;
    txId: string;
    path?: number[];
    networkInternalCode?: string;
  }): Uint8Array {
    const fields = {
      keyType: r.keyType,
      walletId: r.walletId,
      networkInternalCode: r.networkInternalCode ?? 'test',
      txId: r.txId,
      tx: r.tx,
    };
    const signature = edSign(null, signTxSignedBytes(fields), this.key);
    return Buffer.from(
      JSON.stringify({
        key_type: r.keyType,
        wallet_id: r.walletId,
        network_internal_code: fields.networkInternalCode,
        tx_id: r.txId,
        tx: b64(r.tx),
        signature: b64(signature),
        derivation_path: r.path ?? null,
      }),
    );
  }

  async publishSign(txId: string, data: Uint8Array): Promise<void> {
    await this.queue.publish(requestSubject('signing', txId), data);
  }

  waitSign(txId: string, timeoutMs?: number): Promise<ResultJson> {
    return this.waitFor('signing', (r) => r.tx_id === txId, timeoutMs);
  }

  async sign(r: Parameters<ClusterClient['signRequest']>[0]): Promise<ResultJson> {
    await this.publishSign(r.txId, this.signRequest(r));
    return this.waitSign(r.txId);
  }

  async reshare(r: {
    walletId: string;
    keyType: 'secp256k1' | 'ed25519';
    nodeIds: string[];
    newThreshold: number;
    sessionId: string;
  }): Promise<ResultJson> {
    const fields = {
      sessionId: r.sessionId,
      nodeIds: r.nodeIds,
      newThreshold: r.newThreshold,
      keyType: r.keyType,
      walletId: r.walletId,
    };
    const signature = edSign(null, resharingSignedBytes(fields), this.key);
    const data = Buffer.from(
      JSON.stringify({
        session_id: r.sessionId,
        node_ids: r.nodeIds,
        new_threshold: r.newThreshold,
        key_type: r.keyType,
        wallet_id: r.walletId,
        signature: b64(signature),
      }),
    );
    const bus = this.cluster.clientBus();
    const already = new Set(this.results.reshare);
    bus.publish(RESHARE_REQUEST_SUBJECT, data);
    try {
      // a new result (a replayed session id may have answered before)
      return await this.waitFor('reshare', (x) => x.session_id === r.sessionId && !already.has(x), 120_000);
    } finally {
      await bus.close();
    }
  }
}
