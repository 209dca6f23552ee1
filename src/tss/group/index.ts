/**
 * Group backends by curve and backend name. The fast backends are the default.
 */
import { ed25519Fast } from './ed25519-fast.js';
import type { BackendName, CurveName, Group } from './group.js';
import { ed25519Noble, secp256k1Noble } from './noble.js';
import { secp256k1Fast } from './secp256k1-fast.js';

export type { BackendName, CurveName, Group, Point } from './group.js';

/** Returns the group for a curve and backend (default: fast). */
export function getGroup(curve: CurveName, backend: BackendName = 'fast'): Group {
  if (curve === 'ed25519') return backend === 'fast' ? ed25519Fast : ed25519Noble;
  return backend === 'fast' ? secp256k1Fast : secp256k1Noble;
}
