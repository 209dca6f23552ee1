/**
 * The daemon's configuration: a YAML file (mpcium's `config.yaml` keys plus `tessera:`) and the
 * environment, validated by the node's `parseNodeConfig`. Every error names the file and the key
 * (or line) at fault; mpcium keys Tessera does not use come back as migration hints, which the
 * daemon logs at start.
 *
 * Lookup as mpcium's: the `--config` path, else `config.yaml` in the working directory,
 * `/etc/tessera/`, `$HOME/.tessera/`.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type NodeConfig, parseNodeConfig } from '../node/index.js';

/** Where a config file is looked for when none is named. */
export function defaultConfigPaths(cwd = process.cwd(), home = homedir()): string[] {
  return [join(cwd, 'config.yaml'), '/etc/tessera/config.yaml', join(home, '.tessera', 'config.yaml')];
}

export interface LoadedConfig {
  readonly config: NodeConfig;
  /** mpcium keys this file has that Tessera does not use, each with what to do (file named). */
  readonly hints: string[];
  /** The file read. */
  readonly path: string;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

/** Reads a file's text, or undefined if it does not exist. Throws `ConfigError` naming the file otherwise. */
function readText(path: string): string | undefined {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError([`${path}: cannot be read (${code ?? (e as Error).message})`]);
  }
  if (b.length > MAX_CONFIG_BYTES)
    throw new ConfigError([`${path}: ${b.length} bytes is not a configuration file (limit ${MAX_CONFIG_BYTES})`]);
  return b.toString('utf8');
}

/**
 * Parses YAML text into a plain object. Throws `ConfigError` naming `path`, the line and column
 * of each syntax problem (duplicate keys included).
 */
export function parseConfigYaml(text: string, path: string): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const at = lines.linePos(e.pos[0]);
        const key =
          e.code === 'DUPLICATE_KEY' ? (/^[^:\n]*/.exec(text.slice(e.pos[0], e.pos[0] + 80))?.[0].trim() ?? '') : '';
        return `${path}:${at.line}:${at.col}: ${key ? `${key}: ` : ''}${e.message.split('\n')[0]}`;
      }),
    );
  }
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw new ConfigError([`${path}: the configuration must be a mapping of keys to values`]);
  return doc.toJS({ maxAliasCount: 50 });
}

/** ` (set by NATS_URL)` when the key a problem names came from the environment. Does not throw. */
function fromEnv(problem: string, env: Readonly<Record<string, string | undefined>>): string {
  const key = /^([a-z0-9_.]+):/.exec(problem)?.[1];
  if (!key) return '';
  const name = key.replaceAll('.', '_').toUpperCase();
  return env[name] !== undefined ? ` (set by the environment variable ${name})` : '';
}

/**
 * Loads the configuration: `path` (it must exist) or the first of {@link defaultConfigPaths}
 * that does, with `env` overrides. Throws `ConfigError` whose every problem starts with the file
 * (`config.yaml: mpc_threshold: …`).
 */
export function loadConfigFile(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  candidates: readonly string[] = defaultConfigPaths(),
): LoadedConfig {
  let file: string | undefined;
  let text: string | undefined;
  if (path !== undefined) {
    file = resolve(path);
    text = readText(file);
    if (text === undefined) throw new ConfigError([`${file}: no such file (--config names the configuration file)`]);
  } else {
    for (const c of candidates) {
      text = readText(c);
      if (text !== undefined) {
        file = c;
        break;
      }
    }
    if (text === undefined || file === undefined)
      throw new ConfigError([`no configuration file: give --config or create one of ${candidates.join(', ')}`]);
  }
  const raw = parseConfigYaml(text, file);
  try {
    const { config, hints } = parseNodeConfig(raw, env);
    return { config, hints: hints.map((h) => `${file}: ${h}`), path: file };
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems.map((p) => `${file}: ${p}${fromEnv(p, env)}`));
    throw e;
  }
}
