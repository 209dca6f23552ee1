import { describe, expect, it } from 'vitest';
import { TesseraError, VaultCorruptedError, WrongPasswordError } from '../../src/common/errors.js';

describe('shared errors', () => {
  it('every error carries a stable code and is a TesseraError', () => {
    const e = new VaultCorruptedError('record', 'ecdsa/w1/v1', 'authentication failed');
    expect(e).toBeInstanceOf(TesseraError);
    expect(e.code).toBe('VAULT_CORRUPTED');
    expect(e.part).toBe('record');
    expect(e.name).toBe('VaultCorruptedError');
    expect(new WrongPasswordError().code).toBe('WRONG_PASSWORD');
  });
  it('a corruption message tells the user what to do next', () => {
    expect(new VaultCorruptedError('keyring', 'keyring', 'checksum mismatch').message).toMatch(/tessera vault verify/);
  });
});
