/**
 * `tessera benchmark` as a child process against three daemons over a real nats-server: the result
 * document adds up, `--output` appends it, failures are counted by code (timeouts included), and
 * the progress bar shows on a terminal only, never with --json.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NatsDaemonCluster as Cluster,
  NatsDaemonCluster,
  runTessera,
  TESSERA_MAIN,
} from '../helpers/nats-daemons.js';
import { type NatsServer, startNatsServer } from '../helpers/nats-server.js';

type BenchDoc = Record<string, unknown> & {
  requested: number;
  succeeded: number;
  failed: number;
  failures: Record<string, number>;
  window_ms: number;
  wall_ms: number;
  throughput: { per_second: number; per_minute: number };
  latency_ms: Record<'count' | 'min' | 'mean' | 'p50' | 'p95' | 'p99' | 'max', number | null>;
};

let c: Cluster;
let walletFile: string;
let walletId: string;
beforeAll(async () => {
  c = await NatsDaemonCluster.start();
  const r = await runTessera([
    'wallet',
    'create',
    '--json',
    '--initiator-key',
    c.initiatorKeyFile,
    '--config',
    c.configFile,
  ]);
  if (r.code !== 0) throw new Error(r.err);
  walletFile = join(c.dir, 'wallet.json');
  writeFileSync(walletFile, r.out);
  walletId = JSON.parse(r.out).wallet_id;
}, 60_000);
afterAll(async () => {
  await c?.stop();
});

const keys = () => ['--initiator-key', c.initiatorKeyFile, '--config', c.configFile];

/** The document's counts add up and its statistics are consistent. */
function checkDocument(d: BenchDoc): void {
  expect(d.succeeded + d.failed).toBe(d.requested);
  expect(Object.values(d.failures).reduce((a, b) => a + b, 0)).toBe(d.failed);
  const l = d.latency_ms;
  expect(l.count).toBe(d.succeeded);
  if (d.succeeded > 0) {
    const chain = [l.min, l.p50, l.p95, l.p99, l.max] as number[];
    for (let i = 1; i < chain.length; i++) expect(chain[i - 1]).toBeLessThanOrEqual(chain[i]!);
    expect(l.mean!).toBeGreaterThanOrEqual(l.min!);
    expect(l.max!).toBeLessThanOrEqual(d.wall_ms);
    expect(d.throughput.per_second).toBeCloseTo((d.succeeded * 1000) / d.window_ms, 2);
  }
  expect(d.throughput.per_minute).toBeCloseTo(d.throughput.per_second * 60, 1);
  expect(d.window_ms).toBeLessThanOrEqual(d.wall_ms);
}

describe('tessera benchmark over NATS', () => {
  it('sign-eddsa 20 --json: counts and percentiles add up, every signature checked, --output appends the same document', async () => {
    const out = join(c.dir, 'bench.jsonl');
    const args = [
      'benchmark',
      'sign-eddsa',
      '20',
      walletId,
      '--wallet-file',
      walletFile,
      '-b',
      '5',
      '--client-id',
      'bench-1',
      '-o',
      out,
      '--json',
      ...keys(),
    ];
    const r = await runTessera(args);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe(''); // no progress bar off a terminal
    const d = JSON.parse(r.out) as BenchDoc;
    expect(d).toMatchObject({
      benchmark: 'sign-eddsa',
      client_id: 'bench-1',
      operation: 'signing',
      key_type: 'ed25519',
      wallet_id: walletId,
      requested: 20,
      succeeded: 20,
      failed: 0,
      failures: {},
      batch_size: 5,
      concurrency: 20,
      timeout_ms: 60_000,
      signatures_checked: true,
      success_rate: 1,
    });
    checkDocument(d);
    expect(d.window_ms).toBeGreaterThan(0);
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([d]);
    // a second run appends one more line
    const again = await runTessera(['benchmark', 'sign-eddsa', '2', walletId, '-o', out, '--json', ...keys()]);
    expect(again.code, again.err).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n').length).toBe(2);
  });

  it('failures are counted by code and exit 5: an unknown wallet (ERROR_KEY_NOT_FOUND), a cluster that never answers (TIMEOUT)', async () => {
    const r = await runTessera(['benchmark', 'sign-ecdsa', '3', 'no-such-wallet', '--json', ...keys()]);
    expect(r.code).toBe(5);
    const d = JSON.parse(r.out) as BenchDoc;
    expect(d).toMatchObject({ requested: 3, succeeded: 0, failures: { ERROR_KEY_NOT_FOUND: 3 } });
    checkDocument(d);

    // a NATS server that no node serves: the requests wait in the stream until they time out
    let empty: NatsServer | undefined;
    try {
      empty = await startNatsServer();
      const t = await runTessera([
        'benchmark',
        'sign-eddsa',
        '2',
        walletId,
        '--timeout',
        '1',
        '--json',
        '--nats-url',
        empty.url,
        '--initiator-key',
        c.initiatorKeyFile,
      ]);
      expect(t.code).toBe(5);
      const dt = JSON.parse(t.out) as BenchDoc;
      expect(dt).toMatchObject({
        succeeded: 0,
        failed: 2,
        failures: { TIMEOUT: 2 },
        window_ms: 0,
        throughput: { per_second: 0 },
      });
      expect(dt.wall_ms).toBeGreaterThanOrEqual(1000);
      checkDocument(dt);
    } finally {
      await empty?.stop();
    }
  });

  it('keygen 1 prints a summary for a person; bad arguments are refused before connecting', async () => {
    const r = await runTessera(['benchmark', 'keygen', '1', ...keys()]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(
      /^benchmark keygen: 1 requests in batches of 10, 10 ms apart, at most 1 waiting, timeout 60 s\n/,
    );
    expect(r.out).toMatch(/\nsucceeded {2}1, failed 0 \(100\.0 % success\)\n/);
    expect(r.out).toMatch(/\nthroughput [\d.]+\/s, [\d.]+\/min/);
    expect(r.out).toMatch(
      /\nlatency {4}ms over 1 succeeded: min [\d.]+, mean [\d.]+, p50 [\d.]+, p95 [\d.]+, p99 [\d.]+, max [\d.]+\n/,
    );
    expect(r.err).toBe('');
    const bad = await runTessera(['benchmark', 'sign-eddsa', '0', walletId, '--json', ...keys()]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.err).error.message).toMatch(/N must be at least 1/);
  });

  it('on a terminal the progress bar is drawn (stderr), with --json it is not', async () => {
    // `script` gives the child a pseudo-terminal; its output is what the terminal would show
    const onTty = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const cmd = [process.execPath, TESSERA_MAIN, ...args].map((a) => `'${a}'`).join(' ');
        const p = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (x: Buffer) => {
          out += x.toString();
        });
        p.once('error', reject);
        p.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
      });
    const drawn = await onTty(['benchmark', 'sign-eddsa', '8', walletId, '-c', '2', ...keys()]);
    expect(drawn).toMatch(/sign-eddsa \[[=-]+\] 8\/8 \(0 failed\)/);
    expect(drawn).toMatch(/succeeded {2}8, failed 0/);
    const json = await onTty(['benchmark', 'sign-eddsa', '4', walletId, '--json', ...keys()]);
    expect(json).not.toMatch(/\[[=-]+\]/);
    expect(json).not.toContain('\u001b'); // no terminal control at all
    expect((JSON.parse(json.replaceAll('\r\n', '\n')) as BenchDoc).succeeded).toBe(4);
  });
});
