/**
 * A stand-in for a Tessera node on the real in-process transports, until the node exists: it
 * consumes the request streams (and `mpc:reshare` on a bus) as a node does, parses each request
 * with the api's parsers and authenticates it with the node's `authenticateRequest`, and lets a
 * test publish results with the api's result builders under the node's message ids.
 */
import { createHash } from 'node:crypto';
import {
  CLIENT_ID_HEADER,
  type GenerateKeyRequest,
  generateKeySignedBytes,
  initiatorId,
  KEYGEN_CONSUMER,
  KEYGEN_REQUEST_SUBJECTS,
  KEYGEN_STREAM,
  keygenResult,
  type Operation,
  parseGenerateKeyRequest,
  parseResharingRequest,
  parseSignTxRequest,
  RESHARE_REQUEST_SUBJECT,
  RequestError,
  type ResharingRequest,
  type ResultError,
  reshareResult,
  resharingSignedBytes,
  resultMessageId,
  resultSubject,
  SIGNING_CONSUMER,
  SIGNING_REQUEST_SUBJECTS,
  SIGNING_STREAM,
  type SignatureOutcome,
  type SignTxRequest,
  signingResult,
  signTxSignedBytes,
  unauthenticatedResultMessageId,
} from '../../src/api/index.js';
import { type AuthorizationPolicy, authenticateRequest, type VerifyingKey } from '../../src/node/index.js';
import type { Bus, MemoryJetStream, WorkQueue } from '../../src/transport/index.js';

interface Common {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: ReadonlyMap<string, string>;
  readonly clientId: string | undefined;
}
export type Received = Common &
  (
    | { readonly op: 'keygen'; readonly request: GenerateKeyRequest }
    | { readonly op: 'signing'; readonly request: SignTxRequest }
    | { readonly op: 'reshare'; readonly request: ResharingRequest }
  );

export const POLICY_OFF: AuthorizationPolicy = { enabled: false, required: [], keys: new Map() };

export class StandInNode {
  readonly received: Received[] = [];
  readonly refused: { op: Operation; code: string; data: Uint8Array }[] = [];
  private readonly waiters: ((r: Received) => void)[] = [];
  private readonly stops: (() => void)[] = [];

  private constructor(
    readonly wq: WorkQueue,
    private readonly initiator: VerifyingKey,
    private readonly policy: AuthorizationPolicy,
  ) {}

  static async start(
    server: MemoryJetStream,
    opts: { initiator: VerifyingKey; policy?: AuthorizationPolicy; bus?: Bus },
  ): Promise<StandInNode> {
    const node = new StandInNode(server.connect(), opts.initiator, opts.policy ?? POLICY_OFF);
    await node.wq.ensureStream({ name: KEYGEN_STREAM, subjects: KEYGEN_REQUEST_SUBJECTS });
    await node.wq.ensureStream({ name: SIGNING_STREAM, subjects: SIGNING_REQUEST_SUBJECTS });
    const cfg = { maxDeliver: 4, ackWaitMs: 30_000, maxAckPending: 1000 };
    for (const [op, stream, durable] of [
      ['keygen', KEYGEN_STREAM, KEYGEN_CONSUMER],
      ['signing', SIGNING_STREAM, SIGNING_CONSUMER],
    ] as const) {
      const filter = op === 'keygen' ? KEYGEN_REQUEST_SUBJECTS[0] : SIGNING_REQUEST_SUBJECTS[0];
      const c = node.wq.consume({ stream, durable, filter, ...cfg }, async (m) => {
        await node.take(op, m.subject, m.data, m.headers);
        m.ack();
      });
      node.stops.push(() => c.stop());
    }
    if (opts.bus) {
      const sub = opts.bus.subscribe(RESHARE_REQUEST_SUBJECT, (m) =>
        node.take('reshare', m.subject, m.data, m.headers),
      );
      node.stops.push(() => sub.unsubscribe());
    }
    return node;
  }

  /** The next authenticated request (in arrival order). */
  next(): Promise<Received> {
    const r = this.received[this.taken];
    if (r !== undefined) {
      this.taken++;
      return Promise.resolve(r);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  private taken = 0;

  private async take(op: Operation, subject: string, data: Uint8Array, headers: ReadonlyMap<string, string>) {
    const clientId = headers.get(CLIENT_ID_HEADER);
    try {
      const common = { subject, data, headers, clientId };
      let r: Received;
      let signedBytes: Uint8Array;
      if (op === 'keygen') {
        const request = parseGenerateKeyRequest(data);
        r = { ...common, op, request };
        signedBytes = generateKeySignedBytes(request);
      } else if (op === 'signing') {
        const request = parseSignTxRequest(data);
        r = { ...common, op, request };
        signedBytes = signTxSignedBytes(request);
      } else {
        const request = parseResharingRequest(data);
        r = { ...common, op, request };
        signedBytes = resharingSignedBytes(request);
      }
      authenticateRequest(
        {
          signedBytes,
          signature: r.request.signature,
          initiatorId: initiatorId(r.request),
          authorizerSignatures: r.request.authorizerSignatures,
        },
        this.initiator,
        this.policy,
      );
      this.received.push(r);
      const w = this.waiters.shift();
      if (w) {
        this.taken++;
        w(r);
      }
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
      this.refused.push({ op, code: e.errorCode, data });
      await this.refuse(op, data, clientId, { code: e.errorCode, reason: e.reason });
    }
  }

  /** An error result for a request that failed before authentication, under the message id of its bytes (docs/node.md). */
  private async refuse(op: Operation, data: Uint8Array, clientId: string | undefined, err: ResultError) {
    let claimed: Record<string, unknown>;
    try {
      claimed = JSON.parse(new TextDecoder().decode(data));
    } catch {
      return;
    }
    const s = (v: unknown) => (typeof v === 'string' ? v : '');
    const msgId = unauthenticatedResultMessageId(op, createHash('sha256').update(data).digest('hex'), clientId);
    const req = {
      walletId: s(claimed.wallet_id),
      txId: s(claimed.tx_id),
      networkInternalCode: s(claimed.network_internal_code),
    };
    if (op === 'signing') await this.publish(op, req.txId, clientId, signingResult(req, err), msgId);
    if (op === 'keygen') await this.publish(op, req.walletId, clientId, keygenResult(req.walletId, err), msgId);
  }

  /** Publishes a result as a node does (subject scoped by the request's client id, the operation's message id). */
  async publish(op: Operation, id: string, clientId: string | undefined, data: Uint8Array, msgId?: string) {
    return this.wq.publish(resultSubject(op, id, clientId), data, {
      msgId: msgId ?? resultMessageId(op, id, clientId),
    });
  }

  async replyKeygen(
    r: Received,
    outcome: { ecdsaPublicKeyXY: Uint8Array; eddsaPublicKey: Uint8Array } | ResultError,
  ): Promise<void> {
    if (r.op !== 'keygen') throw new Error(`not a keygen request: ${r.op}`);
    await this.publish('keygen', r.request.walletId, r.clientId, keygenResult(r.request.walletId, outcome));
  }

  async replySigning(r: Received, outcome: SignatureOutcome | ResultError): Promise<void> {
    if (r.op !== 'signing') throw new Error(`not a signing request: ${r.op}`);
    await this.publish('signing', r.request.txId, r.clientId, signingResult(r.request, outcome));
  }

  async replyReshare(r: Received, outcome: { publicKey: Uint8Array } | ResultError): Promise<void> {
    if (r.op !== 'reshare') throw new Error(`not a reshare request: ${r.op}`);
    await this.publish('reshare', r.request.sessionId, r.clientId, reshareResult(r.request, outcome));
  }

  async stop(): Promise<void> {
    for (const s of this.stops) s();
    await this.wq.close();
  }
}
