import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/vault.js';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');
const unhex = (s: unknown) => Uint8Array.from(Buffer.from(s as string, 'hex'));

function tessera(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Checks every signing step of a `tessera dev --json` document with noble; returns the steps. */
function checkSigningSteps(out: string): Record<string, unknown>[] {
  const doc = JSON.parse(out) as { steps: Record<string, unknown>[] };
  const signing = doc.steps.filter((s) => 'key_type' in s);
  expect(signing.length).toBe(6);
  expect(signing.filter((s) => s.key_type === 'secp256k1').length).toBe(3);
  expect(signing.filter((s) => 'derivation_path' in s).length).toBe(2);
  for (const s of signing) {
    const pub = unhex(s.public_key);
    if (s.key_type === 'secp256k1') {
      expect([33, 65]).toContain(pub.length);
      expect(typeof s.v).toBe('number');
      const sig = new Uint8Array([...unhex(s.r), ...unhex(s.s)]);
      expect(secp256k1.verify(sig, unhex(s.digest), pub, { prehash: false, lowS: true })).toBe(true);
      // the recovery id recovers the same key
      const rec = secp256k1.Signature.fromBytes(sig, 'compact')
        .addRecoveryBit(s.v as number)
        .recoverPublicKey(unhex(s.digest));
      expect(Buffer.from(rec.toBytes(true)).toString('hex')).toBe(
        Buffer.from(secp256k1.Point.fromBytes(pub).toBytes(true)).toString('hex'),
      );
    } else {
      expect(pub.length).toBe(32);
      expect(unhex(s.signature).length).toBe(64);
      expect(ed25519.verify(unhex(s.signature), unhex(s.message), pub)).toBe(true);
    }
  }
  return doc.steps;
}

describe('tessera dev', () => {
  it('--json prints one document whose every signing step verifies (noble) under the public key it names, on both curves, derived and after the reshare', () => {
    const dir = tempDir();
    const r = tessera(['dev', '--json', '--dir', join(dir, 'c')]);
    expect(r.code, r.err).toBe(0);
    const steps = checkSigningSteps(r.out);
    // the last step verifies every node's audit log, which holds the walkthrough's requests
    const audit = steps.find((s) => s.name === 'audit')!;
    expect(audit.intact).toBe(true);
    expect(audit.entries as number).toBeGreaterThanOrEqual(3);
    // --dir keeps the vaults and the backups the walkthrough wrote
    expect(existsSync(join(dir, 'c', 'cluster.json'))).toBe(true);
    expect(readdirSync(join(dir, 'c', 'node0', 'backups')).length).toBeGreaterThan(0);
  }, 120_000);

  it('--nats runs three node processes over a local nats-server: the same document, every signature verifies, backups and audit logs of the stopped nodes', () => {
    const dir = tempDir();
    const r = tessera(['dev', '--nats', '--json', '--dir', join(dir, 'n')]);
    expect(r.code, r.err).toBe(0);
    const steps = checkSigningSteps(r.out);
    expect(steps[0]!.transport).toBe('nats');
    expect(steps.find((s) => s.name === 'audit')!.intact).toBe(true);
    expect(steps.find((s) => s.name === 'backup')!.files).toBe(3);
    expect(readdirSync(join(dir, 'n', 'node0', 'backups')).length).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'n', 'peers.json'))).toBe(true);
  }, 120_000);

  it('refuses a reshare larger than the cluster with a typed error and a non-zero exit', () => {
    const r = tessera(['dev', '--reshare-nodes', '9']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--reshare-nodes/);
  }, 60_000);
});
