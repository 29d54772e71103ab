/**
 * The server's configuration: command-line flags, their environment variables, `--help`, and one
 * zod schema that validates both (and the object a test hands to `createPaperTradingServer`).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** The market-data sources the example can run on. */
export const PROVIDERS = ['simulated', 'csv', 'alphavantage', 'yahoo'] as const;

/** The log levels of pino, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const MIN_SECRET_BYTES = 32;

/** The validated configuration, every default applied. */
export const configSchema = z
  .strictObject({
    port: z.coerce.number().int().min(0).max(65_535).default(3000),
    host: z.string().min(1).default('127.0.0.1'),
    dataDir: z.string().min(1).default('./.foliokit-data'),
    postgresUrl: z.string().url().optional(),
    pgSchema: z
      .string()
      .regex(/^(?!pg_)[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a plain identifier (letters, digits, _)')
      .optional(),
    provider: z.enum(PROVIDERS).default('simulated'),
    csvDir: z.string().min(1).optional(),
    alphaVantageKey: z.string().min(1).optional(),
    jwtSecret: z
      .string()
      .refine((s) => Buffer.byteLength(s, 'utf8') >= MIN_SECRET_BYTES, `must be at least ${MIN_SECRET_BYTES} bytes`)
      .optional(),
    adminEmail: z.string().email().optional(),
    adminPassword: z.string().min(8, 'must be at least 8 characters').max(200).optional(),
    demo: z.boolean().default(true),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** How often the simulated prices are polled, in ms. */
    pricePollMs: z.coerce.number().int().min(1000).max(3_600_000).default(3000),
    /** Failed logins allowed per email and IP within `loginWindowMs`. */
    loginMaxFailures: z.coerce.number().int().min(1).max(1000).default(5),
    loginWindowMs: z.coerce
      .number()
      .int()
      .min(1000)
      .max(86_400_000)
      .default(15 * 60_000),
    /** How long a clean shutdown may take before the process is forced out. */
    shutdownGraceMs: z.coerce.number().int().min(100).max(120_000).default(8000),
  })
  .refine((c) => c.provider !== 'csv' || c.csvDir !== undefined, {
    message: '--provider csv needs --csv-dir <dir>',
    path: ['csvDir'],
  })
  .refine((c) => c.provider !== 'alphavantage' || c.alphaVantageKey !== undefined, {
    message: '--provider alphavantage needs ALPHAVANTAGE_API_KEY',
    path: ['alphaVantageKey'],
  })
  .refine((c) => (c.adminEmail === undefined) === (c.adminPassword === undefined), {
    message: '--admin-email and --admin-password go together',
    path: ['adminPassword'],
  });

/** The server's configuration (see {@link configSchema}). */
export type ServerConfig = z.output<typeof configSchema>;
/** What a caller may give: every field optional. */
export type ServerConfigInput = z.input<typeof configSchema>;

/** One command-line option: its flag, environment variable, config key and help line. */
interface OptionSpec {
  flag: string;
  env?: string;
  key: keyof ServerConfigInput;
  value?: string;
  help: string;
}

const OPTIONS: readonly OptionSpec[] = [
  {
    flag: 'port',
    env: 'PORT',
    key: 'port',
    value: '<n>',
    help: 'port to listen on (default 3000; 0 picks a free one)',
  },
  { flag: 'host', key: 'host', value: '<host>', help: 'interface to listen on (default 127.0.0.1)' },
  {
    flag: 'data',
    env: 'FOLIOKIT_DATA',
    key: 'dataDir',
    value: '<dir>',
    help: 'data folder for the SQLite file (default ./.foliokit-data)',
  },
  {
    flag: 'postgres',
    env: 'FOLIOKIT_PG_URL',
    key: 'postgresUrl',
    value: '<url>',
    help: 'use PostgreSQL instead of SQLite (several copies may share it)',
  },
  {
    flag: 'pg-schema',
    env: 'FOLIOKIT_PG_SCHEMA',
    key: 'pgSchema',
    value: '<name>',
    help: 'PostgreSQL schema (default: the connection’s own)',
  },
  {
    flag: 'provider',
    env: 'FOLIOKIT_PROVIDER',
    key: 'provider',
    value: '<name>',
    help: `market data: ${PROVIDERS.join(' | ')} (default simulated)`,
  },
  {
    flag: 'csv-dir',
    env: 'FOLIOKIT_CSV_DIR',
    key: 'csvDir',
    value: '<dir>',
    help: 'folder of SYMBOL.csv files (with --provider csv)',
  },
  {
    flag: 'alphavantage-key',
    env: 'ALPHAVANTAGE_API_KEY',
    key: 'alphaVantageKey',
    value: '<key>',
    help: 'Alpha Vantage API key (with --provider alphavantage)',
  },
  {
    flag: 'jwt-secret',
    env: 'FOLIOKIT_JWT_SECRET',
    key: 'jwtSecret',
    value: '<secret>',
    help: 'HS256 secret, ≥ 32 bytes (default: random, kept in the database)',
  },
  {
    flag: 'admin-email',
    env: 'FOLIOKIT_ADMIN_EMAIL',
    key: 'adminEmail',
    value: '<email>',
    help: 'seed an admin user with this email',
  },
  {
    flag: 'admin-password',
    env: 'FOLIOKIT_ADMIN_PASSWORD',
    key: 'adminPassword',
    value: '<password>',
    help: "the seeded admin's password (≥ 8 characters)",
  },
  {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    key: 'logLevel',
    value: '<level>',
    help: `${LOG_LEVELS.join(' | ')} (default info)`,
  },
];

/** The `--help` text. */
export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const left = `  --${o.flag}${o.value ? ` ${o.value}` : ''}`;
    const env = o.env ? ` [${o.env}]` : '';
    return `${left.padEnd(30)} ${o.help}${env}`;
  });
  return [
    'foliokit paper-trading server: a paper-trading API, live dashboard and API reference.',
    '',
    'Usage: foliokit-paper-trading [options]',
    '',
    'Options (flags win over environment variables):',
    ...rows,
    `${'  --no-demo'.padEnd(30)} do not seed the demo user and portfolio`,
    `${'  --help'.padEnd(30)} print this help`,
    '',
  ].join('\n');
}

/** A configuration problem, with a message for people. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** What {@link parseCommandLine} found: the configuration, or a request for help. */
export type CommandLine = { help: true } | { help: false; config: ServerConfig };

/**
 * Reads the flags of `argv` (without node and the script) and the environment.
 * @throws ConfigError naming the flag at fault.
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: 'string' as const }])),
        'no-demo': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (see --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { help: true };
  const input: Record<string, unknown> = { demo: !values['no-demo'] };
  for (const o of OPTIONS) {
    const value = values[o.flag] ?? (o.env ? env[o.env] : undefined);
    if (typeof value === 'string' && value !== '') input[o.key] = value;
  }
  return { help: false, config: resolveConfig(input, flagOf) };
}

/** The flag of a config key, for messages. */
function flagOf(key: string): string {
  const option = OPTIONS.find((o) => o.key === key);
  return option ? `--${option.flag}` : key;
}

/**
 * Validates a configuration object and applies the defaults.
 * @throws ConfigError naming the option at fault.
 */
export function resolveConfig(input: unknown, name: (key: string) => string = (k) => k): ServerConfig {
  const result = configSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue?.path.map(String).join('.') || 'options';
  throw new ConfigError(`Invalid option ${name(key)}: ${issue?.message ?? 'invalid'}`);
}
