/** A logger that prints warnings and errors to the console and drops the rest. */
import type { Logger } from './ports/logger.js';

export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, data) => console.warn(`[foliokit] ${message}`, data ?? ''),
  error: (message, data) => console.error(`[foliokit] ${message}`, data ?? ''),
};

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
