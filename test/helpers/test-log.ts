/** A per-node logger for cluster tests: silent unless TESSERA_TEST_LOG is set (then warnings and errors, or everything with `debug`). */
import { type Logger, silentLogger } from '../../src/common/log.js';

export function testLog(node: string): Logger {
  const level = process.env.TESSERA_TEST_LOG;
  if (!level) return silentLogger;
  const out = (lvl: string) => (f: Readonly<Record<string, unknown>>, m: string) =>
    console.log(`${new Date().toISOString().slice(11, 23)} ${node} ${lvl} ${m} ${JSON.stringify(f)}`);
  const skip = () => {};
  return {
    debug: level === 'debug' ? out('DEBUG') : skip,
    info: level === 'debug' ? out('INFO') : skip,
    warn: out('WARN'),
    error: out('ERROR'),
  };
}
