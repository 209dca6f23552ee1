/**
 * The logging interface the node layers write to (pino's shape, so the daemon binds pino to it
 * directly). Fields are structured; a message never carries a secret, and neither does a field.
 */

/** One log method: structured fields first, then a short message. Must not throw. */
export type LogFn = (fields: Readonly<Record<string, unknown>>, message: string) => void;

export interface Logger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
}

const nothing: LogFn = () => {};

/** A logger that drops everything (the default of library use and tests). */
export const silentLogger: Logger = { debug: nothing, info: nothing, warn: nothing, error: nothing };
