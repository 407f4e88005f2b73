import path from 'node:path';
import { z } from 'zod';

/** Values that the example file ships with; production refuses them as secrets. */
export const EXAMPLE_SECRET = 'change-me-to-a-long-random-string';

const booleanText = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], {
    error: 'must be true or false',
  })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const urlText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional())
  .optional();

const integerText = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/**
 * TRUST_PROXY accepts what Express's "trust proxy" setting accepts: false, true (trust every hop, only safe
 * when the app is reachable through the proxy alone), a hop count, or a comma-separated list of addresses.
 */
const trustProxyText = z
  .string()
  .trim()
  .transform((value): boolean | number | string => {
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    return value;
  });

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }).default('development'),
  PORT: integerText(0, 65535).default(3000),
  HOST: optionalText,
  DATA_DIR: z.string().trim().min(1, { error: 'must not be empty' }).default('./data'),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: 'must start with postgres:// or postgresql://' })
      .optional(),
  ),
  DATABASE_POOL_SIZE: integerText(1, 200).default(10),
  SESSION_SECRET: optionalText,
  MEDIA_SIGNING_KEY: optionalText,
  SESSION_IDLE_MINUTES: integerText(5, 60 * 24 * 90).default(60 * 24 * 14),
  TRUST_PROXY: trustProxyText.default(false),
  SEED_DEMO: booleanText.optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .optional(),
  SITE_NAME: z.string().trim().min(1).max(80, { error: 'must be at most 80 characters' }).default('reelgate'),
  STORAGE: z.enum(['local', 's3'], { error: 'must be local or s3' }).default('local'),
  MEDIA_DELIVERY: z.enum(['redirect', 'proxy'], { error: 'must be redirect or proxy' }).optional(),
  MEDIA_URL_TTL_SECONDS: integerText(5, 604800).default(60),
  MAX_UPLOAD_MB: integerText(1, 1024 * 1024).default(5120),
  S3_BUCKET: optionalText,
  S3_REGION: optionalText,
  S3_PREFIX: optionalText,
  S3_ENDPOINT: urlText,
  S3_PUBLIC_ENDPOINT: urlText,
  S3_FORCE_PATH_STYLE: booleanText.default(false),
  S3_MAX_SOCKETS: integerText(1, 10000).default(200),
});

export type Environment = z.infer<typeof environmentSchema>;

export interface S3Config {
  bucket: string;
  region: string;
  /** Key prefix inside the bucket, always ending in "/" when set, "" otherwise. */
  prefix: string;
  endpoint: string | undefined;
  publicEndpoint: string | undefined;
  forcePathStyle: boolean;
  maxSockets: number;
}

export interface Config {
  env: Environment['NODE_ENV'];
  port: number;
  host: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Undefined means "generate once and keep under dataDir" (not allowed in production). */
  sessionSecret: string | undefined;
  mediaSigningKey: string | undefined;
  sessionIdleMs: number;
  trustProxy: boolean | number | string;
  seedDemo: boolean;
  logLevel: NonNullable<Environment['LOG_LEVEL']>;
  siteName: string;
  storage: 'local' | 's3';
  /** How S3 media reaches the browser; local storage is always served by the app. */
  delivery: 'redirect' | 'proxy';
  mediaUrlTtlSeconds: number;
  maxUploadBytes: number;
  s3: S3Config | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment into one validated Config, or throws ConfigError listing every problem at once. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = environmentSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = source[name];
        const shown = value === undefined || /SECRET|KEY/.test(name) ? '' : ` (got "${value}")`;
        return `${name} ${issue.message}${shown}`;
      }),
    );
  }
  const env = parsed.data;
  const problems: string[] = [];

  const s3 = env.STORAGE === 's3' ? buildS3Config(env, problems) : undefined;
  if (env.STORAGE !== 's3') {
    if (env.MEDIA_DELIVERY === 'redirect') {
      problems.push('MEDIA_DELIVERY=redirect needs STORAGE=s3; local files are always served by the app');
    }
  }
  if (env.NODE_ENV === 'production') {
    checkProductionSecrets(env, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    dataDir: path.resolve(cwd, env.DATA_DIR),
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    sessionSecret: env.SESSION_SECRET,
    mediaSigningKey: env.MEDIA_SIGNING_KEY,
    sessionIdleMs: env.SESSION_IDLE_MINUTES * 60_000,
    trustProxy: env.TRUST_PROXY,
    seedDemo: env.SEED_DEMO ?? env.NODE_ENV !== 'production',
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    siteName: env.SITE_NAME,
    storage: env.STORAGE,
    delivery: env.STORAGE === 's3' ? (env.MEDIA_DELIVERY ?? 'redirect') : 'proxy',
    mediaUrlTtlSeconds: env.MEDIA_URL_TTL_SECONDS,
    maxUploadBytes: env.MAX_UPLOAD_MB * 1024 * 1024,
    s3,
  };
}

function buildS3Config(env: Environment, problems: string[]): S3Config | undefined {
  if (!env.S3_BUCKET) problems.push('S3_BUCKET is missing: STORAGE=s3 needs the bucket name');
  if (!env.S3_REGION) problems.push('S3_REGION is missing: STORAGE=s3 needs a region (use us-east-1 for most S3-compatible stores)');
  if (env.S3_PUBLIC_ENDPOINT && !env.S3_ENDPOINT) {
    problems.push('S3_PUBLIC_ENDPOINT is set without S3_ENDPOINT: set S3_ENDPOINT to the address the app uses');
  }
  if (!env.S3_BUCKET || !env.S3_REGION) return undefined;

  const prefix = (env.S3_PREFIX ?? '').replace(/^\/+/, '');
  return {
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    endpoint: env.S3_ENDPOINT,
    publicEndpoint: env.S3_PUBLIC_ENDPOINT,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    maxSockets: env.S3_MAX_SOCKETS,
  };
}

function checkProductionSecrets(env: Environment, problems: string[]): void {
  for (const name of ['SESSION_SECRET', 'MEDIA_SIGNING_KEY'] as const) {
    const value = env[name];
    if (!value) {
      problems.push(`${name} is missing: production needs a random value of at least 32 characters (openssl rand -hex 32)`);
    } else if (value.length < 32) {
      problems.push(`${name} is too short: use at least 32 random characters (openssl rand -hex 32)`);
    } else if (value === EXAMPLE_SECRET) {
      problems.push(`${name} is still the example value: replace it with a random one (openssl rand -hex 32)`);
    }
  }
}
