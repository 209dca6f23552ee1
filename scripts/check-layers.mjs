#!/usr/bin/env node
// Enforces the layering of DESIGN.md: a module under src/<layer> imports only from the layers
// listed for it below (and from itself). Exits non-zero naming every offending import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const allowed = {
  common: [],
  vault: ['common'],
  backup: ['common', 'vault'],
  tss: ['common'],
  transport: ['common'],
  node: ['common', 'vault', 'backup', 'tss', 'transport'],
  client: ['common', 'tss', 'transport'],
  cli: ['common', 'vault', 'backup', 'tss', 'transport', 'node', 'client'],
};

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
for (const file of walk(src)) {
  const layer = relative(src, file).split(sep)[0];
  if (!(layer in allowed)) {
    problems.push(`${relative(root, file)}: unknown layer '${layer}' (add it to scripts/check-layers.mjs)`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    const rel = relative(src, target);
    if (rel.startsWith('..')) {
      problems.push(`${relative(root, file)}: imports '${spec}' from outside src/`);
      continue;
    }
    const targetLayer = rel.split(sep)[0];
    if (targetLayer !== layer && !allowed[layer].includes(targetLayer)) {
      problems.push(`${relative(root, file)}: layer '${layer}' may not import '${spec}' (layer '${targetLayer}')`);
    }
  }
}
if (problems.length > 0) {
  console.error(`layer check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
