/**
 * Test tooling of the `tss` layer, deliberately outside its public face (`index.ts`): the local
 * runner with fault injection, the in-memory signing/setup log (it forgets on restart — a node
 * uses the vault's durable logs) and the seeded deterministic rng (never for real keys).
 */

export { seededRng } from './math/rng.js';
export { type Delivery, type FaultAction, type FaultInjector, type RunReport, runParties } from './session/runner.js';
export { MemorySigningLog } from './session/signing-log.js';
