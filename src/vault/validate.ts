/** Input validation of the vault API: every check throws InvalidArgumentError with a fix. */
import { InvalidArgumentError } from '../common/errors.js';
import { KEY_TYPES, type KeyType, type PlainChange, type PutShareInput, type ShareStatus } from './types.js';

export const MAX_WALLET_ID_BYTES = 256;
export const MAX_NODE_ID_BYTES = 256;
export const MAX_PARTICIPANTS = 256;
export const MAX_PUBLIC_KEY_BYTES = 256;
export const MAX_SHARE_BYTES = 4 * 1024 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const CONTROL = /[\u0000-\u001f\u007f]/;

/** @throws InvalidArgumentError unless `keyType` is 'ecdsa' or 'eddsa'. */
export function validateKeyType(keyType: string): asserts keyType is KeyType {
  if (!KEY_TYPES.includes(keyType as KeyType))
    throw new InvalidArgumentError(`key type must be 'ecdsa' or 'eddsa' (got '${String(keyType).slice(0, 32)}')`);
}

function validateId(what: string, id: unknown, max: number): void {
  if (typeof id !== 'string' || id.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty string`);
  if (Buffer.byteLength(id, 'utf8') > max) throw new InvalidArgumentError(`${what} is longer than ${max} bytes`);
  if (CONTROL.test(id)) throw new InvalidArgumentError(`${what} contains control characters`);
  if (!id.isWellFormed()) throw new InvalidArgumentError(`${what} is not valid Unicode`);
}

/** @throws InvalidArgumentError for an empty, oversized or control-character wallet id. */
export function validateWalletId(walletId: string): void {
  validateId('wallet id', walletId, MAX_WALLET_ID_BYTES);
}

/** @throws InvalidArgumentError unless `version` is a non-negative safe integer. */
export function validateVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 0)
    throw new InvalidArgumentError(`version must be a non-negative integer (got ${version})`);
}

/**
 * Checks a share before it is stored: ids, version, participants (unique, 2..256), threshold
 * (mpcium semantics: t+1 sign, so 1 <= t and t+1 <= n), non-empty public key and share.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function validatePutShare(input: PutShareInput): void {
  validateKeyType(input.keyType);
  validateWalletId(input.walletId);
  validateVersion(input.version);
  if (
    !Array.isArray(input.participants) ||
    input.participants.length < 2 ||
    input.participants.length > MAX_PARTICIPANTS
  ) {
    throw new InvalidArgumentError(`participants must list 2 to ${MAX_PARTICIPANTS} node ids`);
  }
  for (const p of input.participants) validateId('participant node id', p, MAX_NODE_ID_BYTES);
  if (new Set(input.participants).size !== input.participants.length)
    throw new InvalidArgumentError('participants must not repeat a node id');
  const n = input.participants.length;
  if (!Number.isInteger(input.threshold) || input.threshold < 1 || input.threshold + 1 > n) {
    throw new InvalidArgumentError(
      `threshold t must satisfy 1 <= t < ${n} for ${n} participants (t+1 parties sign; got ${input.threshold})`,
    );
  }
  if (
    !(input.publicKey instanceof Uint8Array) ||
    input.publicKey.length === 0 ||
    input.publicKey.length > MAX_PUBLIC_KEY_BYTES
  ) {
    throw new InvalidArgumentError(`public key must be 1 to ${MAX_PUBLIC_KEY_BYTES} bytes`);
  }
  validateShareBytes(input.share);
  if (input.activate !== undefined && typeof input.activate !== 'boolean')
    throw new InvalidArgumentError('activate must be a boolean');
}

/** Checks a share's secret bytes: a Uint8Array of 1 byte to 4 MiB. Throws `InvalidArgumentError`. */
export function validateShareBytes(share: unknown): void {
  if (!(share instanceof Uint8Array) || share.length === 0 || share.length > MAX_SHARE_BYTES) {
    throw new InvalidArgumentError(`share must be 1 byte to ${MAX_SHARE_BYTES / 1024 / 1024} MiB`);
  }
}

const STATUSES: readonly ShareStatus[] = ['pending', 'active', 'retired'];

function validateTime(what: string, t: unknown): void {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0)
    throw new InvalidArgumentError(`${what} must be a non-negative integer of milliseconds`);
}

/**
 * Checks a change before a restore applies it: the same rules as `putShare` for committees,
 * thresholds, keys and shares, plus statuses, versions and times.
 * @throws InvalidArgumentError naming the first bad field.
 */
export function validatePlainChange(c: PlainChange): void {
  switch (c?.kind) {
    case 'wallet': {
      const w = c.wallet;
      validatePutShare({ ...w, version: w.currentVersion ?? 0, share: new Uint8Array(1) });
      validateTime('createdAt', w.createdAt);
      validateTime('updatedAt', w.updatedAt);
      return;
    }
    case 'share': {
      const i = c.info;
      validatePutShare({ ...i, publicKey: new Uint8Array(1), share: c.share });
      if (!STATUSES.includes(i.status))
        throw new InvalidArgumentError(
          `share status must be pending, active or retired (got '${String(i.status).slice(0, 16)}')`,
        );
      validateTime('createdAt', i.createdAt);
      validateTime('updatedAt', i.updatedAt);
      return;
    }
    case 'share-retired': {
      const i = c.info;
      validatePutShare({ ...i, publicKey: new Uint8Array(1), share: new Uint8Array(1) });
      if (i.status !== 'retired')
        throw new InvalidArgumentError(
          `a retired-share change must have status retired (got '${String(i.status).slice(0, 16)}')`,
        );
      if (c.retiredBy !== null) {
        validateVersion(c.retiredBy);
        if (c.retiredBy <= i.version)
          throw new InvalidArgumentError(
            `version ${i.version} cannot be retired by the older or equal version ${c.retiredBy}`,
          );
      }
      validateTime('createdAt', i.createdAt);
      validateTime('updatedAt', i.updatedAt);
      return;
    }
    case 'wallet-deleted':
      validateKeyType(c.keyType);
      validateWalletId(c.walletId);
      return;
    case 'share-deleted':
      validateKeyType(c.keyType);
      validateWalletId(c.walletId);
      validateVersion(c.version);
      return;
    default:
      throw new InvalidArgumentError('unknown change kind');
  }
}
