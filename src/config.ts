import { isIP } from 'node:net';
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

/** An origin such as https://videos.example.com or http://127.0.0.1:3000: scheme, host and port only. */
const originText = z
  .string()
  .trim()
  .refine(isBareOrigin, { error: 'must be an origin such as https://videos.example.com, with no path, query or trailing slash' })
  .transform((value) => new URL(value).origin);

const optionalOriginText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(originText.optional())
  .optional();

const originListText = z
  .string()
  .trim()
  .transform((value, context) => {
    const items = value === '' ? [] : value.split(',').map((item) => item.trim());

    for (const item of items.filter((candidate) => !isBareOrigin(candidate))) {
      context.addIssue({
        code: 'custom',
        message: `contains ${JSON.stringify(item)}, which is not an origin: list origins such as https://partner.example.com, with no path or trailing slash, separated by commas`,
      });
    }
    return items.filter(isBareOrigin).map((item) => new URL(item).origin);
  });

// Digits only: Number() would also take "1e3", "0x10" or "Infinity", which are typos in a port or a TTL.
const integerText = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be at least ${min}` }).max(max, { error: `must be at most ${max}` }));

/**
 * TRUST_PROXY accepts what Express's "trust proxy" setting accepts: false, true (trust every hop, only safe
 * when the app is reachable through the proxy alone), a hop count, or a comma-separated list of addresses.
 */
const trustProxyText = z
  .string()
  .trim()
  // Checked here because Express only throws on a bad address list when the app is built, after start-up.
  .refine(isTrustProxyValue, {
    error: 'must be false, true, a hop count, or a comma-separated list of IP addresses, CIDR ranges, loopback, linklocal or uniquelocal',
  })
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
  SESSION_MAX_HOURS: integerText(1, 24 * 365).default(24 * 14),
  LOGIN_MAX_ATTEMPTS_PER_IP: integerText(1, 100_000).default(20),
  LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: integerText(1, 1000).default(5),
  PUBLIC_URL: optionalOriginText,
  ALLOWED_EMBED_ORIGINS: originListText.default([]),
  SHUTDOWN_GRACE_SECONDS: integerText(0, 3600).default(10),
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
  MEDIA_OFFLOAD: z.enum(['none', 'nginx'], { error: 'must be none or nginx' }).default('none'),
  MEDIA_OFFLOAD_SECRET: optionalText,
  MEDIA_URL_TTL_SECONDS: integerText(5, 604800).default(60),
  MAX_UPLOAD_MB: integerText(1, 1024 * 1024).default(5120),
  MULTIPART_THRESHOLD_MB: integerText(5, 1024 * 1024).default(100),
  IMPORT_PREFIX: z
    .string()
    .trim()
    .regex(/^[^/\\.][^\\]*\/$/, { error: 'must be a key prefix ending in "/", such as import/' })
    .default('import/'),
  FFMPEG_PATH: z.string().trim().min(1, { error: 'must not be empty' }).default('ffmpeg'),
  TRANSCODE_CONCURRENCY: integerText(0, 64).default(1),
  TRANSCODE_MAX_ATTEMPTS: integerText(1, 20).default(3),
  S3_BUCKET: optionalText,
  S3_REGION: optionalText,
  S3_PREFIX: optionalText,
  S3_ENDPOINT: urlText,
  S3_PUBLIC_ENDPOINT: urlText,
  S3_FORCE_PATH_STYLE: booleanText.default(false),
  S3_MAX_SOCKETS: integerText(1, 10000).default(200),
  // Read here as well as by the AWS SDK, which reads only process.env. The CLI reads .env without touching
  // process.env, so its S3 commands would otherwise find no credentials there.
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_SESSION_TOKEN: optionalText,
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
  /** Static credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; undefined leaves them to the SDK's provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
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
  /** Absolute session lifetime from login, however active the session is. */
  sessionMaxMs: number;
  loginMaxAttemptsPerIp: number;
  /** Failed attempts only; successful logins do not count against the account. */
  loginMaxAttemptsPerAccount: number;
  /** The site's public origin (PUBLIC_URL), without a trailing slash. */
  publicUrl: string | undefined;
  /** Origins besides the site itself whose pages may request grants and media (the hotlink guard). */
  allowedEmbedOrigins: string[];
  shutdownGraceMs: number;
  trustProxy: boolean | number | string;
  seedDemo: boolean;
  logLevel: NonNullable<Environment['LOG_LEVEL']>;
  siteName: string;
  storage: 'local' | 's3';
  /** The way S3 media reaches the browser. Local storage is always served by the app. */
  delivery: 'redirect' | 'proxy';
  /**
   * 'nginx': in proxy delivery, requests that nginx forwards with X-Reelgate-Offload get an X-Accel-Redirect
   * response after every check, and nginx fetches the bytes from S3 with headers that the app signed.
   */
  mediaOffload: 'none' | 'nginx';
  /** The value nginx sends in X-Reelgate-Offload; set exactly when mediaOffload is 'nginx'. */
  mediaOffloadSecret: string | undefined;
  mediaUrlTtlSeconds: number;
  maxUploadBytes: number;
  /** Browser uploads to S3 of at least this many bytes use a multipart upload instead of one PUT. */
  multipartThresholdBytes: number;
  /** Key prefix under which the admin console lists stored objects that can be imported as videos. */
  importPrefix: string;
  /** The ffmpeg binary that turns videos into HLS: a path, or a name looked up in PATH. */
  ffmpegPath: string;
  /** Transcode jobs this instance runs at once; 0 leaves transcoding to other instances. */
  transcodeConcurrency: number;
  transcodeMaxAttempts: number;
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
  const given = withoutBlanks(source);
  const parsed = environmentSchema.safeParse(given);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name} ${issue.message}${shownValue(name, given[name])}`;
      });
  // With a bad variable, the checks across variables still run on the others (the bad ones take their
  // defaults), so one start lists every problem.
  const env = parsed.success ? parsed.data : environmentSchema.safeParse(withoutNames(given, problemNames(parsed.error))).data;
  if (!env) throw new ConfigError(problems);

  const s3 = env.STORAGE === 's3' ? buildS3Config(env, problems) : undefined;
  if (env.STORAGE !== 's3') {
    if (env.MEDIA_DELIVERY === 'redirect') {
      problems.push('MEDIA_DELIVERY=redirect needs STORAGE=s3; local files are always served by the app');
    }
  }
  if (env.MEDIA_OFFLOAD === 'nginx') checkOffload(env, problems);
  if (env.NODE_ENV === 'production') {
    checkProductionSecrets(env, problems);
    checkProductionCookies(env, problems);
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
    sessionMaxMs: env.SESSION_MAX_HOURS * 3_600_000,
    loginMaxAttemptsPerIp: env.LOGIN_MAX_ATTEMPTS_PER_IP,
    loginMaxAttemptsPerAccount: env.LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
    publicUrl: env.PUBLIC_URL,
    allowedEmbedOrigins: env.ALLOWED_EMBED_ORIGINS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
    trustProxy: env.TRUST_PROXY,
    seedDemo: env.SEED_DEMO ?? env.NODE_ENV !== 'production',
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    siteName: env.SITE_NAME,
    storage: env.STORAGE,
    delivery: env.STORAGE === 's3' ? (env.MEDIA_DELIVERY ?? 'redirect') : 'proxy',
    mediaOffload: env.MEDIA_OFFLOAD,
    mediaOffloadSecret: env.MEDIA_OFFLOAD === 'nginx' ? env.MEDIA_OFFLOAD_SECRET : undefined,
    mediaUrlTtlSeconds: env.MEDIA_URL_TTL_SECONDS,
    maxUploadBytes: env.MAX_UPLOAD_MB * 1024 * 1024,
    multipartThresholdBytes: env.MULTIPART_THRESHOLD_MB * 1024 * 1024,
    importPrefix: env.IMPORT_PREFIX,
    ffmpegPath: env.FFMPEG_PATH,
    transcodeConcurrency: env.TRANSCODE_CONCURRENCY,
    transcodeMaxAttempts: env.TRANSCODE_MAX_ATTEMPTS,
    s3,
  };
}

/** An empty variable, as in `PORT=` copied from .env.example, means "not set": its default applies. */
function withoutBlanks(source: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''),
  );
}

function withoutNames(source: Record<string, string>, names: Set<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter(([name]) => !names.has(name)));
}

function problemNames(error: z.ZodError): Set<string> {
  return new Set(error.issues.map((issue) => String(issue.path[0])));
}

/** The rejected value for the message, without secrets: none for keys, and URLs without their user and password. */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined || /SECRET|KEY|PASSWORD/.test(name)) return '';
  return ` (got "${value.replace(/\/\/[^/@]*@/, '//***@')}")`;
}

const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isTrustProxyValue(value: string): boolean {
  if (value === 'false' || value === 'true' || /^\d+$/.test(value)) return true;
  return value.split(',').every((entry) => {
    const [address = '', bits, ...rest] = entry.trim().split('/');
    if (TRUST_PROXY_NAMES.has(address) && bits === undefined) return true;
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return false;
    if (bits === undefined) return true;
    if (/^\d+$/.test(bits)) return Number(bits) <= (version === 4 ? 32 : 128);
    return version === 4 && isIP(bits) === 4;
  });
}

function buildS3Config(env: Environment, problems: string[]): S3Config | undefined {
  if (!env.S3_BUCKET) problems.push('S3_BUCKET is missing: STORAGE=s3 needs the bucket name');
  if (!env.S3_REGION) problems.push('S3_REGION is missing: STORAGE=s3 needs a region (use us-east-1 for most S3-compatible stores)');
  if (env.S3_PUBLIC_ENDPOINT && !env.S3_ENDPOINT) {
    problems.push('S3_PUBLIC_ENDPOINT is set without S3_ENDPOINT: set S3_ENDPOINT to the address the app uses');
  }
  if (Boolean(env.AWS_ACCESS_KEY_ID) !== Boolean(env.AWS_SECRET_ACCESS_KEY)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither to use the SDK\'s other credential sources');
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
    credentials: staticCredentials(env),
  };
}

function staticCredentials(env: Environment): S3Config['credentials'] {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  return env.AWS_SESSION_TOKEN ? { ...credentials, sessionToken: env.AWS_SESSION_TOKEN } : credentials;
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
  // One leaked value would then give both powers: forging session cookies and forging media URLs.
  if (env.SESSION_SECRET && env.SESSION_SECRET === env.MEDIA_SIGNING_KEY) {
    problems.push('SESSION_SECRET and MEDIA_SIGNING_KEY are the same: give each its own random value (openssl rand -hex 32)');
  }
}

/**
 * nginx proves that it will follow X-Accel-Redirect by sending MEDIA_OFFLOAD_SECRET. Without a secret a client
 * that reaches the app directly could ask for the signed S3 headers, so it is required in every environment.
 */
function checkOffload(env: Environment, problems: string[]): void {
  if (env.STORAGE !== 's3' || env.MEDIA_DELIVERY !== 'proxy') {
    problems.push('MEDIA_OFFLOAD=nginx needs STORAGE=s3 and MEDIA_DELIVERY=proxy; set MEDIA_OFFLOAD=none otherwise');
  }
  const secret = env.MEDIA_OFFLOAD_SECRET;
  if (!secret) {
    problems.push('MEDIA_OFFLOAD_SECRET is missing: MEDIA_OFFLOAD=nginx needs a random value of at least 32 characters, set in nginx too (openssl rand -hex 32)');
  } else if (secret.length < 32) {
    problems.push('MEDIA_OFFLOAD_SECRET is too short: use at least 32 random characters (openssl rand -hex 32)');
  } else if (secret === env.SESSION_SECRET || secret === env.MEDIA_SIGNING_KEY) {
    problems.push('MEDIA_OFFLOAD_SECRET is the same as another secret: give it its own random value (openssl rand -hex 32)');
  } else if (!/^[\x21-\x7e]+$/.test(secret)) {
    problems.push('MEDIA_OFFLOAD_SECRET must be printable ASCII without spaces, because nginx sends it as a header value (openssl rand -hex 32)');
  }
}

/**
 * The app never terminates TLS itself, so in production it must run behind a TLS proxy. The session cookie
 * is marked Secure only when Express treats the request as HTTPS, which needs TRUST_PROXY to believe the
 * proxy's X-Forwarded-Proto. Without both settings, session cookies would travel without the Secure flag.
 */
function checkProductionCookies(env: Environment, problems: string[]): void {
  if (!env.PUBLIC_URL) {
    problems.push('PUBLIC_URL is missing: production needs the https:// origin that browsers use, e.g. https://videos.example.com');
  } else if (!env.PUBLIC_URL.startsWith('https://')) {
    problems.push(`PUBLIC_URL must start with https:// in production (got "${env.PUBLIC_URL}"): put a TLS-terminating proxy in front of the app`);
  }
  // A hop count of 0 trusts no proxy, so it leaves X-Forwarded-Proto unread just as false does.
  if (env.TRUST_PROXY === false || env.TRUST_PROXY === 0) {
    problems.push(
      'TRUST_PROXY is not set: the app listens on plain HTTP behind the TLS proxy of PUBLIC_URL, and without TRUST_PROXY ' +
        'it cannot see that requests arrived over HTTPS, so session cookies would not be Secure. Set TRUST_PROXY=1 for one proxy in front',
    );
  }
}

function isBareOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;

  const url = new URL(value);
  const hasOnlyOrigin = url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  // new URL() adds "/" as the path of "https://host", so the original text must not end in one.
  return (url.protocol === 'https:' || url.protocol === 'http:') && hasOnlyOrigin && url.pathname === '/' && !value.endsWith('/');
}
