/**
 * Format pins: compare bytes written by today's code with fixtures committed under
 * test/fixtures/formats/. With TESSERA_WRITE_FIXTURES=<groups> (comma-separated, or `all`) the
 * fixtures of those groups are (re)written first — only when a format changes on purpose; see
 * test/fixtures/formats/README.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'formats');

/** Fixture groups, one per kind of fixture. */
export type FixtureGroup = 'shares' | 'messages' | 'ot' | 'codecs' | 'vault' | 'backup';

const WRITE = new Set(
  (process.env.TESSERA_WRITE_FIXTURES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

/**
 * True when the fixtures of `group` are being regenerated. `vault` and `backup` hold random keys
 * and ids, so they change on every regeneration: they are written only when named explicitly (not
 * by `all`), and always together (the chain is a backup of the fixture vault's history).
 */
export function writing(group: FixtureGroup): boolean {
  if (group === 'vault' || group === 'backup') return WRITE.has('vault') || WRITE.has('backup');
  return WRITE.has('all') || WRITE.has(group);
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.trim(), 'hex'));
export const sha256hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export function fixturePath(rel: string): string {
  return join(FIXTURES, rel);
}

export function readFixture(rel: string): string {
  const p = fixturePath(rel);
  if (!existsSync(p))
    throw new Error(
      `fixture ${rel} is missing: generate it with TESSERA_WRITE_FIXTURES (test/fixtures/formats/README.md)`,
    );
  return readFileSync(p, 'utf8');
}

export function readHexFixture(rel: string): Uint8Array {
  return unhex(readFixture(rel));
}

/**
 * Pins `content` (text) to the fixture `rel`: writes it first when regenerating `group`, then
 * requires the committed file to equal it exactly. A mismatch reports the first differing offset
 * (not a diff of the whole file).
 */
export function pinText(group: FixtureGroup, rel: string, content: string): void {
  const p = fixturePath(rel);
  if (writing(group)) {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  const stored = readFixture(rel);
  if (stored !== content) {
    let i = 0;
    while (i < stored.length && i < content.length && stored[i] === content[i]) i++;
    expect.fail(
      `${rel}: today's bytes differ from the pinned fixture at character ${i} (fixture ${stored.length} chars, today ${content.length}; sha256 ${sha256hex(stored)} vs ${sha256hex(content)}). ` +
        `If the format changed on purpose, regenerate with TESSERA_WRITE_FIXTURES=${group} and review the diff.`,
    );
  }
}

/** Pins bytes as a hex fixture (one line). */
export function pinHex(group: FixtureGroup, rel: string, bytes: Uint8Array): void {
  pinText(group, rel, `${hex(bytes)}\n`);
}

/** Pins a JSON value (stable 2-space formatting). */
export function pinJson(group: FixtureGroup, rel: string, value: unknown): void {
  pinText(group, rel, `${JSON.stringify(value, null, 2)}\n`);
}
