#!/usr/bin/env node
// Enforces the layering of DESIGN.md on every module under src/ (part of `npm run lint`):
//  1. a layer imports only the layers it lists below (and itself);
//  2. inside a layer with sub-layers (tss), a sub-layer imports only the sub-layers it lists; the
//     layer's top-level files (index.ts, testing.ts) may import every sub-layer, and no sub-layer
//     imports a top-level file;
//  3. an import from another layer goes through that layer's index.ts (except `common`, a set of
//     independent leaf modules: an index would pull node:fs into layers that must not load it);
//  4. a layer never imports the packages denied to it (bare specifiers, prefix match);
//  5. there is no import cycle among src files (type-only imports count: they still couple).
// Exits non-zero naming every offence.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const layers = {
  common: [],
  vault: ['common'],
  backup: ['common', 'vault'],
  tss: ['common'],
  api: ['common'],
  transport: ['common'],
  node: ['common', 'vault', 'backup', 'tss', 'api', 'transport'],
  client: ['common', 'api', 'transport', 'tss'],
  daemon: ['common', 'vault', 'backup', 'api', 'transport', 'node'],
  cli: ['common', 'vault', 'backup', 'tss', 'api', 'transport', 'node', 'client', 'daemon'],
};

const sublayers = {
  tss: {
    group: [],
    math: ['group'],
    session: ['math', 'group'],
    ot: ['math', 'group'],
    frost: ['session', 'math', 'group'],
    ecdsa: ['ot', 'session', 'math', 'group'],
  },
};

const denyPackages = {
  common: ['@nats-io/', 'pino', 'prom-client', 'node:http', 'better-sqlite3-multiple-ciphers'],
  tss: [
    'node:fs',
    'node:child_process',
    'node:http',
    'better-sqlite3-multiple-ciphers',
    'age-encryption',
    '@nats-io/',
    'pino',
    'prom-client',
  ],
  vault: ['@nats-io/', 'pino', 'prom-client', 'node:http'],
  backup: ['@nats-io/', 'pino', 'prom-client', 'node:http'],
  api: ['node:fs', '@nats-io/', 'better-sqlite3-multiple-ciphers'],
  node: ['@nats-io/', 'pino', 'prom-client', 'node:http', 'node:https'],
};

/** Layers whose modules other layers may import directly (no index.ts). */
const noIndex = new Set(['common']);

const root = resolve(import.meta.dirname, '..');
const src = join(root, process.argv[2] ?? 'src');

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const importRe =
  /(?:^|[\n;])\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
const edges = new Map(); // file -> [resolved target files]
const files = [...walk(src)];
const where = (file) => relative(root, file);

for (const file of files) {
  const parts = relative(src, file).split(sep);
  const layer = parts[0];
  if (!(layer in layers)) {
    problems.push(`${where(file)}: unknown layer '${layer}' (add it to scripts/check-layers.mjs)`);
    continue;
  }
  const subs = sublayers[layer];
  const sub = subs && parts.length > 2 ? parts[1] : undefined; // undefined: a top-level file of the layer
  if (subs && sub !== undefined && !(sub in subs))
    problems.push(`${where(file)}: unknown sub-layer '${layer}/${sub}' (add it to scripts/check-layers.mjs)`);
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (!spec) continue;
    if (!spec.startsWith('.')) {
      for (const denied of denyPackages[layer] ?? []) {
        if (spec === denied || spec.startsWith(denied))
          problems.push(`${where(file)}: layer '${layer}' may not import the package '${spec}'`);
      }
      continue;
    }
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    const rel = relative(src, target);
    if (rel.startsWith('..')) {
      problems.push(`${where(file)}: imports '${spec}' from outside src/`);
      continue;
    }
    targets.push(target);
    const tparts = rel.split(sep);
    const targetLayer = tparts[0];
    if (targetLayer !== layer) {
      if (!layers[layer].includes(targetLayer))
        problems.push(`${where(file)}: layer '${layer}' may not import '${spec}' (layer '${targetLayer}')`);
      else if (!noIndex.has(targetLayer) && rel !== join(targetLayer, 'index.ts')) {
        problems.push(
          `${where(file)}: imports '${spec}' from layer '${targetLayer}' past its index.ts (import '${targetLayer}/index.js')`,
        );
      }
      continue;
    }
    if (!subs) continue;
    const targetSub = tparts.length > 2 ? tparts[1] : undefined;
    if (sub === undefined) continue; // top-level files may import every sub-layer
    if (targetSub === undefined)
      problems.push(`${where(file)}: sub-layer '${layer}/${sub}' may not import the top-level '${spec}'`);
    else if (targetSub !== sub && !subs[sub]?.includes(targetSub)) {
      problems.push(
        `${where(file)}: sub-layer '${layer}/${sub}' may not import '${spec}' (sub-layer '${layer}/${targetSub}')`,
      );
    }
  }
  edges.set(file, targets);
}

// Cycles: depth-first search over the import graph; report each cycle once.
const state = new Map(); // file -> 1 visiting, 2 done
const stack = [];
const seenCycles = new Set();
function visit(file) {
  state.set(file, 1);
  stack.push(file);
  for (const t of edges.get(file) ?? []) {
    if (!edges.has(t)) continue;
    if (state.get(t) === 1) {
      const cycle = stack.slice(stack.indexOf(t)).map(where);
      const key = [...cycle].sort().join(' ');
      if (!seenCycles.has(key)) {
        seenCycles.add(key);
        problems.push(`import cycle: ${[...cycle, where(t)].join(' -> ')}`);
      }
    } else if (!state.has(t)) visit(t);
  }
  stack.pop();
  state.set(file, 2);
}
for (const f of files) if (!state.has(f)) visit(f);

if (problems.length > 0) {
  console.error(`layer check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
