/**
 * Nodes started after someone else created the JetStream streams: as mpcium's Go client does
 * (Limits retention, MaxAge 7 d, MaxBytes 100 MB; `mpc` as WorkQueue with the client's scoped
 * consumers), as the TS client does (WorkQueue request streams; `mpc` with Interest retention and
 * a single subject, which the nodes repair by adding subjects), and in shapes that cannot serve
 * (sealed, subject taken by another stream, a foreign consumer on a WorkQueue request stream): the
 * nodes wait, say why on /readyz and in their logs, and serve once the stream is fixed, without a
 * restart. Plus properties of the subject-pattern helpers the stream check relies on.
 */
import { RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { patternCovers, patternsOverlap } from '../../src/transport/nats/stream-check.js';
import { subjectMatches } from '../../src/transport/subject.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { servesKeygenAndSign } from '../helpers/wire-checks.js';
import { goConsumer, STREAMS, tsConsumer, WireClient } from '../helpers/wire-client.js';

/** Waits until `lines()` is not empty (the nodes' logs are flushed once a second). */
async function logged(lines: () => string[], timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = lines();
    if (l.length > 0) return l;
    if (Date.now() > deadline) throw new Error('the expected log line did not come');
    await new Promise((r) => setTimeout(r, 200));
  }
}
const DAY_NS = 24 * 3600 * 1_000_000_000;

/** A request stream as mpcium's Go client creates it (`CreateOrUpdateStream` with only these fields). */
const goRequestStream = (s: {
  name: string;
  subjects: readonly string[];
}): Partial<StreamConfig> & { name: string } => ({
  name: s.name,
  description: `Stream for ${s.name}`,
  subjects: [...s.subjects],
  max_age: 7 * DAY_NS,
  max_bytes: 100_000_000,
});

describe('nodes started on streams created by mpcium’s clients', () => {
  it('Go client’s shape (Limits, 7 d, 100 MB request streams; WorkQueue `mpc` with its scoped consumers): served, streams left as they were', async () => {
    const server = await startNatsServer();
    const wc = await WireClient.connect(server.url);
    let cluster: NatsCluster | undefined;
    try {
      await wc.jsm.streams.add(goRequestStream(STREAMS.keygen));
      await wc.jsm.streams.add(goRequestStream(STREAMS.signing));
      await wc.jsm.streams.add({
        name: 'mpc',
        subjects: [...STREAMS.results.subjects],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        max_bytes: 100_000_000,
      });
      for (const op of ['keygen', 'signing', 'reshare'] as const) await wc.resultConsumer(goConsumer(op, 'svc-a'));
      cluster = await NatsCluster.start({ server });
      await servesKeygenAndSign(cluster, wc, 'svc-a');
      const keygen = await wc.jsm.streams.info('mpc-keygen');
      expect(keygen.config).toMatchObject({
        retention: 'limits',
        subjects: ['mpc.keygen_request.*'],
        max_age: 7 * DAY_NS,
        max_bytes: 100_000_000,
        description: 'Stream for mpc-keygen',
      });
      expect((await wc.jsm.streams.info('mpc-signing')).config.retention).toBe('limits');
      const mpc = await wc.jsm.streams.info('mpc');
      expect(mpc.config.retention).toBe('workqueue');
      expect(mpc.config.subjects).toEqual([...STREAMS.results.subjects]);
      expect(cluster.grep(/repaired:/)).toEqual([]);
    } finally {
      await wc.close();
      await cluster?.stop();
      await server.stop();
    }
  });

  it('TS client’s shape (WorkQueue request streams; `mpc` with Interest retention and only mpc.mpc_signing_result.*): the nodes add the missing subjects and serve Go- and TS-shaped clients', async () => {
    const server = await startNatsServer();
    const wc = await WireClient.connect(server.url);
    let cluster: NatsCluster | undefined;
    try {
      for (const s of [STREAMS.keygen, STREAMS.signing])
        await wc.jsm.streams.add({ name: s.name, subjects: [...s.subjects], retention: RetentionPolicy.Workqueue });
      await wc.jsm.streams.add({
        name: 'mpc',
        subjects: ['mpc.mpc_signing_result.*'],
        retention: RetentionPolicy.Interest,
      });
      await wc.resultConsumer(tsConsumer('signing'));
      cluster = await NatsCluster.start({ server });
      const mpc = await wc.jsm.streams.info('mpc');
      expect(mpc.config.retention).toBe('interest');
      // the TS client's single subject is replaced by the wider one that covers it (a stream's
      // subjects must not overlap)
      expect([...(mpc.config.subjects ?? [])].sort()).toEqual([...STREAMS.results.subjects].sort());
      // the request streams were theirs already
      expect((await wc.jsm.streams.info('mpc-keygen')).config).toMatchObject({
        retention: 'workqueue',
        subjects: ['mpc.keygen_request.*'],
      });
      const c = cluster;
      await logged(() =>
        c.grep(/repaired: added .*mpc\.mpc_keygen_result\.>.*in place of mpc\.mpc_signing_result\.\*/),
      );
      await logged(() => c.grep(/Interest retention/));
      // with Interest retention, consumers must exist before results are published
      await wc.resultConsumer(tsConsumer('keygen'));
      await servesKeygenAndSign(cluster, wc);
      for (const op of ['keygen', 'signing'] as const) await wc.resultConsumer(goConsumer(op, 'svc-b'));
      await servesKeygenAndSign(cluster, wc, 'svc-b');
    } finally {
      await wc.close();
      await cluster?.stop();
      await server.stop();
    }
  });
});

interface Broken {
  readonly name: string;
  /** Makes the streams unable to serve before the nodes start. */
  break(wc: WireClient): Promise<void>;
  /** What /readyz's problem must mention. */
  readonly problem: RegExp[];
  /** Repairs it as an operator would. */
  fix(wc: WireClient): Promise<void>;
}

const BROKEN: Broken[] = [
  {
    name: 'mpc-signing sealed',
    async break(wc) {
      const si = await wc.jsm.streams.add(goRequestStream(STREAMS.signing));
      // nats.js types leave `sealed` out of updates; the server takes it
      await wc.jsm.streams.update('mpc-signing', { ...si.config, sealed: true } as never);
    },
    problem: [/mpc-signing/, /sealed/, /nats stream rm mpc-signing/],
    async fix(wc) {
      await wc.jsm.streams.delete('mpc-signing');
    },
  },
  {
    name: 'the signing subject taken by another stream',
    async break(wc) {
      await wc.jsm.streams.add({ name: 'legacy', subjects: ['mpc.signing_request.>'] });
    },
    problem: [/legacy/, /mpc\.signing_request\.\*/, /mpc-signing/, /nats stream edit legacy/],
    async fix(wc) {
      await wc.jsm.streams.delete('legacy');
    },
  },
  {
    name: 'a WorkQueue mpc-signing with a foreign consumer overlapping mpc_signing_consumer',
    async break(wc) {
      await wc.jsm.streams.add({
        name: 'mpc-signing',
        subjects: ['mpc.signing_request.*'],
        retention: RetentionPolicy.Workqueue,
      });
      await wc.jsm.consumers.add('mpc-signing', {
        durable_name: 'thief',
        filter_subject: 'mpc.signing_request.>',
        ack_policy: 'explicit' as never,
        ack_wait: nanos(30_000),
      });
    },
    problem: [/mpc-signing/, /thief/, /mpc_signing_consumer/, /nats consumer rm mpc-signing thief/],
    async fix(wc) {
      await wc.jsm.consumers.delete('mpc-signing', 'thief');
    },
  },
  {
    name: 'mpc-signing republishing every request it stores (a reader of every client’s requests, review 16/F2)',
    async break(wc) {
      await wc.jsm.streams.add({
        ...goRequestStream(STREAMS.signing),
        republish: { src: '>', dest: '_INBOX.spy.>' },
      } as never);
    },
    problem: [/mpc-signing/, /republishes/, /nats stream rm mpc-signing/],
    async fix(wc) {
      await wc.jsm.streams.delete('mpc-signing');
    },
  },
  {
    name: 'mpc-keygen also taking the node-to-node handshake subjects (it would answer them with PubAcks)',
    async break(wc) {
      await wc.jsm.streams.add({
        ...goRequestStream(STREAMS.keygen),
        subjects: [...STREAMS.keygen.subjects, 'tessera.node.*.hs'],
      });
    },
    problem: [/mpc-keygen/, /also takes tessera\.node\.\*\.hs/, /nats stream edit mpc-keygen/],
    async fix(wc) {
      const si = await wc.jsm.streams.info('mpc-keygen');
      await wc.jsm.streams.update('mpc-keygen', { ...si.config, subjects: [...STREAMS.keygen.subjects] });
    },
  },
  {
    name: 'another stream taking the node-to-node subjects',
    async break(wc) {
      await wc.jsm.streams.add({ name: 'capture', subjects: ['tessera.node.>'] });
    },
    problem: [/stream capture takes tessera\.node\./, /core NATS only/, /nats stream edit capture/],
    async fix(wc) {
      await wc.jsm.streams.delete('capture');
    },
  },
];

describe('a stream changed while the nodes run', () => {
  it('is seen at the next look (tessera.stream_recheck_seconds): /readyz not ready with the problem, ready again once it is put right', async () => {
    const server = await startNatsServer();
    const wc = await WireClient.connect(server.url);
    let cluster: NatsCluster | undefined;
    try {
      cluster = await NatsCluster.start({ server, config: { tessera: { stream_recheck_seconds: 1 } } });
      const c = cluster;
      const si = await wc.jsm.streams.info('mpc');
      await wc.jsm.streams.update('mpc', {
        ...si.config,
        subjects: [...(si.config.subjects ?? []), 'tessera.node.*.hs'],
      });
      for (let i = 0; i < 3; i++) {
        for (;;) {
          const r = await c.readyz(i);
          if (r && !r.ready && /also takes tessera\.node\.\*\.hs/.test(String(r.details.problem))) break;
          await new Promise((res) => setTimeout(res, 200));
        }
      }
      await wc.jsm.streams.update('mpc', { ...si.config });
      await c.ready();
    } finally {
      await wc.close();
      await cluster?.stop();
      await server.stop();
    }
  });
});

describe('a stream that cannot serve: the nodes wait and say why, then serve once it is fixed', () => {
  for (const b of BROKEN) {
    it(`${b.name}: not ready with the problem and its fix on /readyz and in the log; ready without a restart after the fix`, async () => {
      const server = await startNatsServer();
      const wc = await WireClient.connect(server.url);
      let cluster: NatsCluster | undefined;
      try {
        await b.break(wc);
        cluster = await NatsCluster.start({ server, waitReady: false });
        const c = cluster;
        // every node reports the problem on /readyz
        for (let i = 0; i < 3; i++) {
          let problem: unknown;
          for (;;) {
            const r = await c.readyz(i);
            problem = r?.details.problem;
            if (typeof problem === 'string' && problem !== 'starting') {
              expect(r?.ready).toBe(false);
              break;
            }
            const p = c.procs[i]!;
            if (p.proc.exitCode !== null) throw new Error(`node ${i} exited:\n${p.lines.join('\n')}`);
            await new Promise((r) => setTimeout(r, 200));
          }
          for (const re of b.problem) expect(problem).toMatch(re);
        }
        // and logs it as an error with the fix, then keeps waiting (no exit)
        const errors = (
          await logged(() => {
            const l = c.grep(/cannot serve; waiting for it to be fixed/);
            return l.length >= 3 ? l : [];
          })
        ).map((l) => JSON.parse(l));
        // one line per problem: together they name everything /readyz does
        for (const e of errors) expect(e.level).toBe('error');
        const logged_ = errors.map((e) => String(e.problem)).join('\n');
        for (const re of b.problem) expect(logged_).toMatch(re);
        const pids = c.procs.map((p) => p!.proc.pid);
        expect(c.procs.every((p) => p!.proc.exitCode === null)).toBe(true);

        await b.fix(wc);
        await c.ready();
        expect(c.procs.map((p) => p!.proc.pid)).toEqual(pids);
        expect(c.procs.every((p) => p!.proc.exitCode === null)).toBe(true);
        for (const op of ['keygen', 'signing'] as const) await wc.resultConsumer(goConsumer(op, 'after-fix'));
        await servesKeygenAndSign(c, wc, 'after-fix');
      } finally {
        await wc.close();
        await cluster?.stop();
        await server.stop();
      }
    });
  }
});

// ---- the pattern helpers -----------------------------------------------------------------------

/** Patterns over tokens a, b, * (at most three) with an optional trailing >. */
const pattern = fc.tuple(fc.array(fc.constantFrom('a', 'b', '*'), { maxLength: 3 }), fc.boolean()).map(([ts, tail]) => {
  const tokens = tail ? [...ts, '>'] : ts;
  return (tokens.length === 0 ? ['a'] : tokens).join('.');
});

/**
 * Every subject of one to five tokens over a, b, c: enough to decide cover and overlap of the
 * patterns above exactly (c stands for any token the patterns do not name; five tokens exceed
 * every pattern's length).
 */
const UNIVERSE: string[] = (() => {
  const out: string[] = [];
  let level = [''];
  for (let n = 1; n <= 5; n++) {
    level = level.flatMap((p) => ['a', 'b', 'c'].map((t) => (p ? `${p}.${t}` : t)));
    out.push(...level);
  }
  return out;
})();

const coversBrute = (outer: string, inner: string) =>
  UNIVERSE.every((s) => !subjectMatches(inner, s) || subjectMatches(outer, s));
const overlapBrute = (a: string, b: string) => UNIVERSE.some((s) => subjectMatches(a, s) && subjectMatches(b, s));

describe('patternCovers and patternsOverlap (stream-check)', () => {
  it('agree with a brute-force matcher over every subject of a small alphabet', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        expect(patternCovers(a, b)).toBe(coversBrute(a, b));
        expect(patternsOverlap(a, b)).toBe(overlapBrute(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('are reflexive; overlap is symmetric; cover implies overlap and is transitive', () => {
    fc.assert(
      fc.property(pattern, pattern, pattern, (a, b, c) => {
        expect(patternCovers(a, a)).toBe(true);
        expect(patternsOverlap(a, a)).toBe(true);
        expect(patternsOverlap(a, b)).toBe(patternsOverlap(b, a));
        if (patternCovers(a, b)) expect(patternsOverlap(a, b)).toBe(true);
        if (patternCovers(a, b) && patternCovers(b, c)) expect(patternCovers(a, c)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('decide the streams mpcium’s clients create', () => {
    expect(patternCovers('mpc.mpc_signing_result.*', 'mpc.mpc_signing_result.>')).toBe(false);
    expect(patternCovers('mpc.mpc_signing_result.>', 'mpc.mpc_signing_result.*')).toBe(true);
    expect(patternCovers('mpc.>', 'mpc.mpc_keygen_result.>')).toBe(true);
    expect(patternsOverlap('mpc.signing_request.>', 'mpc.signing_request.*')).toBe(true);
    expect(patternsOverlap('mpc.mpc_signing_result.*', 'mpc.mpc_signing_result.svc.complete')).toBe(false);
  });
});
