/** Structured JSON logs with pino, and the adapter that hands them to the engine's `Logger` port. */
import type { Logger } from '@foliokit/core';
import { type Logger as Pino, pino } from 'pino';

/** Creates the server's pino logger. */
export function createLogger(level: string): Pino {
  return pino({ level, base: { app: 'foliokit-paper-trading' } });
}

/** The engine's `Logger` port on a pino logger. */
export function engineLogger(log: Pino): Logger {
  return {
    debug: (message, data) => log.debug(data ?? {}, message),
    info: (message, data) => log.info(data ?? {}, message),
    warn: (message, data) => log.warn(data ?? {}, message),
    error: (message, data) => log.error(data ?? {}, message),
  };
}
