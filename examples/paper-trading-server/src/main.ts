/**
 * The command line: reads flags and environment, starts the server, prints its URLs, and stops it
 * cleanly on SIGINT/SIGTERM (exit 0), or forced after a bounded grace period (exit 1).
 */
import { ConfigError, helpText, parseCommandLine } from './config.js';
import { createLogger } from './logger.js';
import { createPaperTradingServer, ListenError } from './server.js';

async function main(): Promise<number | undefined> {
  let command: ReturnType<typeof parseCommandLine>;
  try {
    command = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`foliokit-paper-trading: ${error.message}\n`);
    return 1;
  }
  if (command.help) {
    process.stdout.write(helpText());
    return 0;
  }
  const { config } = command;
  const log = createLogger(config.logLevel);
  let server: Awaited<ReturnType<typeof createPaperTradingServer>>;
  try {
    server = await createPaperTradingServer(config, { logger: log });
  } catch (error) {
    if (error instanceof ListenError || error instanceof ConfigError) {
      process.stderr.write(`foliokit-paper-trading: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  process.stdout.write(
    [
      '',
      `  foliokit paper-trading server is running`,
      `  Dashboard:      ${server.url}/`,
      `  API:            ${server.url}/api`,
      `  API reference:  ${server.url}/api/docs`,
      '',
      '  Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received, stopping');
    const force = setTimeout(() => {
      log.error({ graceMs: config.shutdownGraceMs }, 'shutdown took too long, forcing exit');
      process.exit(1);
    }, config.shutdownGraceMs);
    server.close().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`foliokit-paper-trading: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
