/**
 * Looks at the JetStream streams a node needs before it uses them, because they may have been
 * created by someone else first: mpcium's Go client and nodes (Limits retention), the TS client
 * (`mpc-keygen`/`mpc-signing` as WorkQueue; `mpc` with Interest or WorkQueue retention and one
 * single result subject), an operator. Retention cannot be changed once a stream exists, so
 * whoever creates a stream first decides it.
 *
 * Each stream gets a report: what was repaired (only changes that lose nothing: adding a missing
 * subject — in place of a narrower one it covers —, widening a duplicate window), warnings (it serves, with a caveat worth knowing) and
 * problems (it cannot serve; each says what to run to fix it). A stream that does not exist yet is
 * fine: the node creates it.
 */
import { type JetStreamManager, jetstreamManager, RetentionPolicy, type StreamInfo } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';

export interface StreamExpectation {
  readonly name: string;
  /** Subjects the stream must take. */
  readonly subjects: readonly string[];
  /** Durable consumers the node will create on it (name and filter). */
  readonly consumers?: readonly { readonly durable: string; readonly filter: string }[];
  /** Largest message published to it (a smaller `max_msg_size` is a problem). */
  readonly largestMessageBytes: number;
  /** What the stream carries, for messages ("signing requests"). */
  readonly carries: string;
}

export interface StreamReport {
  readonly stream: string;
  readonly exists: boolean;
  readonly repaired: string[];
  readonly warnings: string[];
  readonly problems: string[];
}

/** The shortest `max_age` a stream may have: a request may wait for a busy cluster, a result for its client. */
export const MIN_MAX_AGE_MS = 3600_000;

/** The duplicate window results need at least (NATS's default is 2 minutes). */
export const MIN_DUPLICATE_WINDOW_MS = 60_000;

/**
 * True if every subject `inner` matches is matched by `outer` (both may hold `*` and `>`). Does
 * not throw.
 */
export function patternCovers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  for (let k = 0; k < o.length; k++) {
    if (o[k] === '>') return k < i.length;
    if (k >= i.length) return false;
    if (i[k] === '>') return false;
    if (o[k] === '*') continue;
    if (o[k] !== i[k]) return false;
  }
  return o.length === i.length;
}

/** True if some subject matches both patterns. Does not throw. */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let k = 0; ; k++) {
    if (k === x.length || k === y.length) return x.length === y.length;
    if (x[k] === '>' || y[k] === '>') return true;
    if (x[k] === '*' || y[k] === '*' || x[k] === y[k]) continue;
    return false;
  }
}

async function info(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (e) {
    const err = e as { api_error?: { err_code?: number }; message?: string };
    if (err?.api_error?.err_code === 10059 || /not found/i.test(String(err?.message))) return undefined;
    throw e;
  }
}

async function owner(jsm: JetStreamManager, subject: string): Promise<string | undefined> {
  try {
    return await jsm.streams.find(subject);
  } catch {
    return undefined;
  }
}

/** Checks (and where safe repairs) one stream. Throws what NATS throws when it cannot be asked. */
export async function checkStream(jsm: JetStreamManager, want: StreamExpectation): Promise<StreamReport> {
  const report: StreamReport = { stream: want.name, exists: false, repaired: [], warnings: [], problems: [] };
  const si = await info(jsm, want.name);
  if (!si) {
    // the node creates it; a subject already taken by another stream would make that fail
    for (const s of want.subjects) {
      const other = await owner(jsm, s);
      if (other && other !== want.name)
        report.problems.push(
          `stream ${other} already takes ${s}, so stream ${want.name} cannot be created: remove the subject from ${other} (\`nats stream edit ${other}\`) or delete ${other} if it only holds mpcium traffic`,
        );
    }
    return report;
  }
  (report as { exists: boolean }).exists = true;
  const cfg = si.config;
  const where = `stream ${want.name} (${want.carries})`;
  if (cfg.sealed) {
    report.problems.push(
      `${where} is sealed and takes no new messages: delete it (\`nats stream rm ${want.name}\`) once nothing in it is needed; the node recreates it`,
    );
    return report;
  }
  const missing = want.subjects.filter((s) => !cfg.subjects?.some((have) => patternCovers(have, s)));
  if (missing.length > 0) {
    // nats-server refuses overlapping subjects in one stream: a subject the stream has that a
    // missing one covers (the TS client's `mpc.mpc_signing_result.*`) is replaced by it — the
    // stream still takes every message it took
    const have = cfg.subjects ?? [];
    const replaced = have.filter((h) => missing.some((m) => patternCovers(m, h)));
    const subjects = [...have.filter((h) => !replaced.includes(h)), ...missing];
    try {
      await jsm.streams.update(want.name, { subjects });
      report.repaired.push(
        `added ${missing.join(', ')} to the subjects of ${where}${replaced.length > 0 ? ` (in place of ${replaced.join(', ')}, which it covers)` : ''}`,
      );
    } catch (e) {
      for (const s of missing) {
        const other = await owner(jsm, s);
        report.problems.push(
          other && other !== want.name
            ? `${where} lacks ${s}, and stream ${other} takes it: remove it there (\`nats stream edit ${other}\`)`
            : `${where} lacks ${s} and could not be updated (${(e as Error).message}): add it with \`nats stream edit ${want.name} --subjects …\``,
        );
      }
    }
  }
  const windowMs = Number(cfg.duplicate_window ?? 0) / 1e6;
  if (windowMs < MIN_DUPLICATE_WINDOW_MS) {
    try {
      await jsm.streams.update(want.name, { duplicate_window: nanos(120_000) });
      report.repaired.push(`widened the duplicate window of ${where} from ${windowMs} ms to 2 minutes`);
    } catch (e) {
      report.warnings.push(
        `${where} deduplicates message ids for only ${windowMs} ms and could not be updated (${(e as Error).message}): results of a redelivered request may be stored twice`,
      );
    }
  }
  // whoever created the stream decided all of it: anything beyond the subjects and limits the
  // protocol needs could copy, capture, answer or drop requests and results (review 16/F2)
  const extra = (cfg.subjects ?? []).filter((have) => !want.subjects.some((w) => patternCovers(w, have)));
  if (extra.length > 0)
    report.problems.push(
      `${where} also takes ${extra.join(', ')}: a stream of the cluster takes only ${want.subjects.join(', ')} (it could store or answer other traffic, node-to-node included); remove them with \`nats stream edit ${want.name}\``,
    );
  const c = cfg as typeof cfg & {
    republish?: unknown;
    sources?: unknown[];
    mirror?: unknown;
    subject_transform?: unknown;
    no_ack?: boolean;
    max_msgs_per_subject?: number;
  };
  if (c.republish)
    report.problems.push(
      `${where} republishes what it stores (to ${JSON.stringify(c.republish)}): anyone subscribed there reads every message; delete the stream (\`nats stream rm ${want.name}\`) once nothing in it is needed, the node recreates it`,
    );
  if (c.mirror || (c.sources?.length ?? 0) > 0 || c.subject_transform)
    report.problems.push(
      `${where} is a mirror, takes sources or transforms subjects: its messages would not be what clients and nodes published; delete it (\`nats stream rm ${want.name}\`) once nothing in it is needed`,
    );
  if (c.no_ack)
    report.problems.push(
      `${where} does not acknowledge publishes (no_ack): nodes could not tell a stored result from a lost one; \`nats stream edit ${want.name} --ack\``,
    );
  if ((c.max_msgs_per_subject ?? 0) > 0)
    report.problems.push(
      `${where} keeps only ${c.max_msgs_per_subject} message(s) per subject: requests and results sharing a subject (every signing result does) would be dropped; \`nats stream edit ${want.name} --max-msgs-per-subject=-1\``,
    );
  const maxAgeMs = Number(cfg.max_age ?? 0) / 1e6;
  if (maxAgeMs > 0 && maxAgeMs < MIN_MAX_AGE_MS)
    report.problems.push(
      `${where} drops messages after ${Math.round(maxAgeMs / 1000)} s, before a request may be served or a result read; \`nats stream edit ${want.name} --max-age=7d\``,
    );
  if (cfg.max_msg_size > 0 && cfg.max_msg_size < want.largestMessageBytes)
    report.problems.push(
      `${where} refuses messages above ${cfg.max_msg_size} bytes but they reach ${want.largestMessageBytes}: \`nats stream edit ${want.name} --max-msg-size=-1\``,
    );
  if (cfg.retention === RetentionPolicy.Interest)
    report.warnings.push(
      `${where} has Interest retention (created by mpcium's TS client?): a message published while no consumer matches it is discarded at once; clients must create their consumers before they send requests. Retention cannot be changed: to get Limits or WorkQueue retention, delete the stream (\`nats stream rm ${want.name}\`) when it holds nothing needed`,
    );
  if (cfg.storage === 'memory')
    report.warnings.push(`${where} is kept in memory: what it holds is lost when nats-server restarts`);
  if (cfg.retention === RetentionPolicy.Workqueue && want.consumers?.length) {
    // a WorkQueue stream allows one consumer per subject: another one overlapping ours blocks the node's
    let names: string[] = [];
    try {
      for await (const ci of jsm.consumers.list(want.name)) names.push(ci.name);
    } catch {
      names = [];
    }
    for (const c of want.consumers) {
      for (const n of names) {
        if (n === c.durable) continue;
        const ci = await jsm.consumers.info(want.name, n).catch(() => undefined);
        const filters = ci?.config.filter_subjects ?? (ci?.config.filter_subject ? [ci.config.filter_subject] : ['>']);
        if (filters.some((f) => patternsOverlap(f, c.filter)))
          report.problems.push(
            `${where} has WorkQueue retention and its consumer ${n} takes ${filters.join(', ')}, which overlaps the nodes' consumer ${c.durable} (${c.filter}): delete it (\`nats consumer rm ${want.name} ${n}\`)`,
          );
      }
    }
  }
  return report;
}

/**
 * Subjects no stream may take (a node's channel subjects, core-NATS requests): a stream taking one
 * would store that traffic, and answer a request on it with its PubAck before the real responder.
 * One report listing the streams that do. Throws what NATS throws.
 */
export async function checkUncapturedSubjects(
  jsm: JetStreamManager,
  subjects: readonly string[],
): Promise<StreamReport> {
  const report: StreamReport = { stream: '*', exists: true, repaired: [], warnings: [], problems: [] };
  for (const subject of subjects) {
    const other = await owner(jsm, subject);
    if (other)
      report.problems.push(
        `stream ${other} takes ${subject}, which must travel on core NATS only (it would store that traffic and answer requests on it): remove the subject from ${other} (\`nats stream edit ${other}\`)`,
      );
  }
  return report;
}

/**
 * Checks every stream in `wants`, and that no stream takes any of `uncaptured`. Throws what NATS
 * throws (JetStream not enabled, no permission).
 */
export async function checkStreams(
  nc: NatsConnection,
  wants: readonly StreamExpectation[],
  uncaptured: readonly string[] = [],
): Promise<StreamReport[]> {
  const jsm = await jetstreamManager(nc);
  const out: StreamReport[] = [];
  for (const w of wants) out.push(await checkStream(jsm, w));
  if (uncaptured.length > 0) out.push(await checkUncapturedSubjects(jsm, uncaptured));
  return out;
}
