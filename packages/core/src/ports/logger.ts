/** The logging port: a minimal structured logger (pino, console and most loggers fit). */
/** A minimal structured logger (pino, console and most loggers fit). */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}
