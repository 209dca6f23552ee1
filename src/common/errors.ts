/**
 * Error types shared by every layer. Each has a stable `code` that callers (the CLI's exit codes,
 * the node's result events) switch on, and a message that tells the user what to do next.
 * No secret (password, key, share byte) is ever placed in a message or a property.
 */

/** Stable error codes; never renamed once released. */
export type ErrorCode =
  | 'WRONG_PASSWORD'
  | 'VAULT_CORRUPTED'
  | 'VAULT_LOCKED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'INVALID_STATE'
  | 'IO_ERROR'
  | 'PROTOCOL_ABORTED'
  | 'BACKUP_CORRUPTED'
  | 'TIMEOUT'
  | 'CHANNEL_REFUSED'
  /** The cluster answered a client's request with an error result. */
  | 'OPERATION_FAILED'
  /** A signature the cluster returned does not verify under the wallet's public key. */
  | 'SIGNATURE_INVALID';

/** Base class of every error Tessera throws on purpose. */
export class TesseraError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The password or raw key does not open the vault's keyring. */
export class WrongPasswordError extends TesseraError {
  constructor(
    message = 'the password or key does not open this vault; check the password file or key file and try again',
  ) {
    super('WRONG_PASSWORD', message);
  }
}

/** Which part of the vault failed an integrity check. */
export type CorruptPart = 'keyring' | 'database' | 'wal' | 'record' | 'pointer' | 'lock' | 'audit';

/** Stored data failed an integrity check; `part` and `where` say which data. */
export class VaultCorruptedError extends TesseraError {
  readonly part: CorruptPart;
  readonly where: string;
  constructor(part: CorruptPart, where: string, detail: string, options?: { cause?: unknown }) {
    super(
      'VAULT_CORRUPTED',
      `vault ${part} is corrupted at ${where}: ${detail}. Do not write to this vault; ` +
        `run \`tessera vault verify\` for a full report and restore from a backup if it confirms the damage`,
      options,
    );
    this.part = part;
    this.where = where;
  }
}

/** Another process (or another handle in this process) has the vault open. */
export class VaultLockedError extends TesseraError {
  constructor(dir: string) {
    super(
      'VAULT_LOCKED',
      `vault ${dir} is open in another process; stop that process (or close the other handle) and retry`,
    );
  }
}

/** A named wallet, share version or file does not exist. */
export class NotFoundError extends TesseraError {
  constructor(what: string, hint = 'check the id and key type (`tessera vault list` shows what exists)') {
    super('NOT_FOUND', `${what} not found; ${hint}`);
  }
}

/** Something with that identity exists already. */
export class AlreadyExistsError extends TesseraError {
  constructor(what: string, hint = 'use a new id or version') {
    super('ALREADY_EXISTS', `${what} already exists; ${hint}`);
  }
}

/** The caller passed a value that can never be valid. */
export class InvalidArgumentError extends TesseraError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The operation is valid in general but not in the object's current state. */
export class InvalidStateError extends TesseraError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** A wait ended without an answer (a request, a session, a peer). */
export class TimeoutError extends TesseraError {
  constructor(what: string, ms: number, hint = 'retry later, or check that the other side is running') {
    super('TIMEOUT', `${what} got no answer within ${ms} ms; ${hint}`);
  }
}

/** The operating system refused a file operation. */
export class IoError extends TesseraError {
  constructor(what: string, cause: unknown) {
    const reason =
      cause instanceof Error && 'code' in cause ? String((cause as NodeJS.ErrnoException).code) : 'I/O error';
    super('IO_ERROR', `${what} failed (${reason}); check the path, its permissions and free disk space`, { cause });
  }
}

/**
 * A retired share version was asked for its secret. Its secret was destroyed when it was retired
 * (a reshare must expel the old committee: docs/vault.md, "Retired versions"); only its public
 * metadata remains. The code stays `INVALID_STATE`.
 */
export class ShareDestroyedError extends InvalidStateError {
  /** The share version, e.g. `share ecdsa/w v1`. */
  readonly what: string;
  constructor(what: string, when: string, hint: string) {
    super(
      `${what} is retired: its secret share was destroyed ${when}, so that a reshare ` +
        `expels the members of the old committee; only its public metadata is kept. ${hint}`,
    );
    this.what = what;
  }
}
