import fs from 'node:fs';
import path from 'node:path';

import dotenv from 'dotenv';
import express from 'express';
import { describe, expect, it } from 'vitest';

import { ConfigError, EXAMPLE_SECRET, loadConfig } from '../src/config.js';

const CWD = '/srv/reelgate';
const STRONG_SECRET = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(8);
const OTHER_STRONG_SECRET = 'd'.repeat(20) + 'e'.repeat(20);
const PRODUCTION = {
  NODE_ENV: 'production',
  SESSION_SECRET: STRONG_SECRET,
  MEDIA_SIGNING_KEY: OTHER_STRONG_SECRET,
  PUBLIC_URL: 'https://videos.example.com',
  TRUST_PROXY: '1',
};
const S3 = { STORAGE: 's3', S3_BUCKET: 'videos', S3_REGION: 'eu-west-1' };

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, CWD);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems;
  }
}

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, CWD);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  const config = loadConfig({}, CWD);

  it.each([
    ['port', 3000],
    ['host', undefined],
    ['dataDir', path.join(CWD, 'data')],
    ['databaseUrl', undefined],
    ['storage', 'local'],
    ['delivery', 'proxy'],
    ['mediaUrlTtlSeconds', 60],
    ['env', 'development'],
    ['seedDemo', true],
    ['logLevel', 'info'],
    ['trustProxy', false],
    ['s3', undefined],
    ['siteName', 'reelgate'],
    ['maxUploadBytes', 5120 * 1024 * 1024],
  ] as const)('%s is %j when nothing is set', (key, expected) => {
    expect(config[key]).toEqual(expected);
  });

  it('resolves a relative DATA_DIR against cwd and keeps an absolute one', () => {
    expect(loadConfig({ DATA_DIR: 'var/media' }, CWD).dataDir).toBe(path.join(CWD, 'var/media'));
    expect(loadConfig({ DATA_DIR: '/var/lib/reelgate' }, CWD).dataDir).toBe('/var/lib/reelgate');
  });

  it('is silent under NODE_ENV=test unless LOG_LEVEL says otherwise', () => {
    expect(loadConfig({ NODE_ENV: 'test' }, CWD).logLevel).toBe('silent');
    expect(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'debug' }, CWD).logLevel).toBe('debug');
  });

  it.each([
    ['PORT', 'port', 3000],
    ['MEDIA_URL_TTL_SECONDS', 'mediaUrlTtlSeconds', 60],
    ['SEED_DEMO', 'seedDemo', true],
    ['MEDIA_DELIVERY', 'delivery', 'proxy'],
    ['TRUST_PROXY', 'trustProxy', false],
    ['DATA_DIR', 'dataDir', path.join(CWD, 'data')],
  ] as const)('an empty %s means its default', (name, key, expected) => {
    expect(loadConfig({ [name]: '' }, CWD)[key]).toEqual(expected);
    expect(loadConfig({ [name]: '  ' }, CWD)[key]).toEqual(expected);
  });

  it('accepts .env.example as shipped, with its empty values', () => {
    const example = dotenv.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../.env.example')));

    const config = loadConfig(example, CWD);

    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe(path.join(CWD, 'data'));
    expect(config.seedDemo).toBe(true);
  });
});

describe('MEDIA_URL_TTL_SECONDS', () => {
  it.each([
    ['5', 5],
    ['60', 60],
    [' 90 ', 90],
    ['604800', 604800],
  ])('accepts %j', (value, expected) => {
    expect(loadConfig({ MEDIA_URL_TTL_SECONDS: value }, CWD).mediaUrlTtlSeconds).toBe(expected);
  });

  it.each([
    ['3', 'MEDIA_URL_TTL_SECONDS must be at least 5 (got "3")'],
    ['4', 'MEDIA_URL_TTL_SECONDS must be at least 5 (got "4")'],
    ['0', 'MEDIA_URL_TTL_SECONDS must be at least 5 (got "0")'],
    ['-10', 'MEDIA_URL_TTL_SECONDS must be at least 5 (got "-10")'],
    ['604801', 'MEDIA_URL_TTL_SECONDS must be at most 604800 (got "604801")'],
    ['abc', 'MEDIA_URL_TTL_SECONDS must be a whole number (got "abc")'],
    ['60s', 'MEDIA_URL_TTL_SECONDS must be a whole number (got "60s")'],
    ['60.5', 'MEDIA_URL_TTL_SECONDS must be a whole number (got "60.5")'],
    ['1e2', 'MEDIA_URL_TTL_SECONDS must be a whole number (got "1e2")'],
    ['0x10', 'MEDIA_URL_TTL_SECONDS must be a whole number (got "0x10")'],
    ['Infinity', 'MEDIA_URL_TTL_SECONDS must be a whole number (got "Infinity")'],
  ])('refuses %j with one clear problem', (value, problem) => {
    expect(problemsOf({ MEDIA_URL_TTL_SECONDS: value })).toEqual([problem]);
  });

  it('names the variable in the error message', () => {
    expect(configErrorOf({ MEDIA_URL_TTL_SECONDS: '3' }).message).toBe(
      'Invalid configuration:\n  - MEDIA_URL_TTL_SECONDS must be at least 5 (got "3")',
    );
  });
});

describe('other values', () => {
  it.each([
    [{ PORT: '65536' }, 'PORT must be at most 65535 (got "65536")'],
    [{ PORT: 'http' }, 'PORT must be a whole number (got "http")'],
    [{ STORAGE: 'S3' }, 'STORAGE must be local or s3 (got "S3")'],
    [{ NODE_ENV: 'prod' }, 'NODE_ENV must be development, production or test (got "prod")'],
    [{ SEED_DEMO: 'maybe' }, 'SEED_DEMO must be true or false (got "maybe")'],
    [{ MEDIA_DELIVERY: 'stream' }, 'MEDIA_DELIVERY must be redirect or proxy (got "stream")'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
    [{ DATABASE_URL: 'mysql://db.internal/app' }, 'DATABASE_URL must start with postgres:// or postgresql:// (got "mysql://db.internal/app")'],
  ])('refuses %j', (env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it('lists every problem at once, across variables', () => {
    const problems = problemsOf({ PORT: '-1', MEDIA_URL_TTL_SECONDS: '3', MEDIA_DELIVERY: 'redirect', NODE_ENV: 'production' });

    expect(problems).toEqual([
      'PORT must be at least 0 (got "-1")',
      'MEDIA_URL_TTL_SECONDS must be at least 5 (got "3")',
      expect.stringMatching(/^MEDIA_DELIVERY=redirect needs STORAGE=s3/),
      expect.stringMatching(/^SESSION_SECRET is missing/),
      expect.stringMatching(/^MEDIA_SIGNING_KEY is missing/),
      expect.stringMatching(/^PUBLIC_URL is missing/),
      expect.stringMatching(/^TRUST_PROXY is not set/),
    ]);
  });

  it.each([
    ['yes', true],
    ['1', true],
    ['true', true],
    ['no', false],
    ['0', false],
    ['false', false],
  ])('reads SEED_DEMO=%s as %s', (value, expected) => {
    expect(loadConfig({ SEED_DEMO: value }, CWD).seedDemo).toBe(expected);
  });
});

describe('storage and delivery', () => {
  it('refuses MEDIA_DELIVERY=redirect with local storage', () => {
    expect(problemsOf({ MEDIA_DELIVERY: 'redirect' })).toEqual([
      'MEDIA_DELIVERY=redirect needs STORAGE=s3; local files are always served by the app',
    ]);
  });

  const OFFLOAD_SECRET = 'b'.repeat(40);

  it.each([
    ['local storage', { MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: OFFLOAD_SECRET }],
    ['S3 redirect delivery', { ...S3, MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: OFFLOAD_SECRET, MEDIA_DELIVERY: 'redirect' }],
    ['S3 without MEDIA_DELIVERY', { ...S3, MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: OFFLOAD_SECRET }],
  ])('refuses MEDIA_OFFLOAD=nginx with %s', (_name, env) => {
    expect(problemsOf(env)).toEqual(['MEDIA_OFFLOAD=nginx needs STORAGE=s3 and MEDIA_DELIVERY=proxy; set MEDIA_OFFLOAD=none otherwise']);
  });

  it('accepts MEDIA_OFFLOAD=nginx with S3 proxy delivery and a secret', () => {
    const config = loadConfig({ ...S3, MEDIA_OFFLOAD: 'nginx', MEDIA_OFFLOAD_SECRET: OFFLOAD_SECRET, MEDIA_DELIVERY: 'proxy' }, CWD);

    expect(config.mediaOffload).toBe('nginx');
    expect(config.mediaOffloadSecret).toBe(OFFLOAD_SECRET);
  });

  it.each([
    [undefined, 'MEDIA_OFFLOAD_SECRET is missing: MEDIA_OFFLOAD=nginx needs a random value of at least 32 characters, set in nginx too (openssl rand -hex 32)'],
    ['short-secret', 'MEDIA_OFFLOAD_SECRET is too short: use at least 32 random characters (openssl rand -hex 32)'],
    ['s'.repeat(40), 'MEDIA_OFFLOAD_SECRET is the same as another secret: give it its own random value (openssl rand -hex 32)'],
    [`${'c'.repeat(20)} ${'d'.repeat(20)}`, 'MEDIA_OFFLOAD_SECRET must be printable ASCII without spaces, because nginx sends it as a header value (openssl rand -hex 32)'],
  ])('refuses MEDIA_OFFLOAD_SECRET %j', (secret, problem) => {
    const env: Record<string, string> = { ...S3, MEDIA_OFFLOAD: 'nginx', MEDIA_DELIVERY: 'proxy', SESSION_SECRET: 's'.repeat(40) };
    if (secret !== undefined) env.MEDIA_OFFLOAD_SECRET = secret;

    expect(problemsOf(env)).toEqual([problem]);
  });

  it('takes static S3 credentials from the environment it is given', () => {
    const config = loadConfig({ ...S3, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' }, CWD);

    expect(config.s3?.credentials).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
  });

  it('leaves S3 credentials to the SDK without AWS_ACCESS_KEY_ID', () => {
    expect(loadConfig(S3, CWD).s3?.credentials).toBeUndefined();
  });

  it('refuses an AWS access key id without its secret', () => {
    expect(problemsOf({ ...S3, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE' })).toEqual([
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both, or neither to use the SDK's other credential sources",
    ]);
  });

  it('ignores MEDIA_OFFLOAD_SECRET without MEDIA_OFFLOAD', () => {
    expect(loadConfig({ MEDIA_OFFLOAD_SECRET: 'x' }, CWD).mediaOffloadSecret).toBeUndefined();
  });

  it('refuses an unknown MEDIA_OFFLOAD', () => {
    expect(problemsOf({ MEDIA_OFFLOAD: 'apache' })).toEqual(['MEDIA_OFFLOAD must be none or nginx (got "apache")']);
  });

  it('serves local storage through the app', () => {
    expect(loadConfig({ MEDIA_DELIVERY: 'proxy' }, CWD).delivery).toBe('proxy');
  });

  it('needs S3_BUCKET and S3_REGION with STORAGE=s3, naming both', () => {
    const problems = problemsOf({ STORAGE: 's3' });

    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^S3_BUCKET is missing/);
    expect(problems[1]).toMatch(/^S3_REGION is missing/);
  });

  it('refuses S3_PUBLIC_ENDPOINT without S3_ENDPOINT', () => {
    expect(problemsOf({ ...S3, S3_PUBLIC_ENDPOINT: 'https://media.example.com' })).toEqual([
      'S3_PUBLIC_ENDPOINT is set without S3_ENDPOINT: set S3_ENDPOINT to the address the app uses',
    ]);
  });

  it.each([
    ['S3_ENDPOINT', 'minio:9000'],
    ['S3_ENDPOINT', 'ftp://minio.internal'],
    ['S3_ENDPOINT', 'not a url'],
    ['S3_PUBLIC_ENDPOINT', '//media.example.com'],
  ])('refuses %s=%j', (name, value) => {
    const env = { ...S3, S3_ENDPOINT: 'http://minio.internal:9000', [name]: value };

    expect(problemsOf(env)).toEqual([`${name} must be an http:// or https:// URL (got "${value}")`]);
  });

  it('builds the S3 settings, redirect delivery by default', () => {
    const config = loadConfig(
      { ...S3, S3_ENDPOINT: 'http://minio.internal:9000', S3_PUBLIC_ENDPOINT: 'https://media.example.com', S3_FORCE_PATH_STYLE: 'true' },
      CWD,
    );

    expect(config.delivery).toBe('redirect');
    expect(config.s3).toEqual({
      bucket: 'videos',
      region: 'eu-west-1',
      prefix: '',
      endpoint: 'http://minio.internal:9000',
      publicEndpoint: 'https://media.example.com',
      forcePathStyle: true,
      maxSockets: 200,
    });
  });

  it('takes MEDIA_DELIVERY=proxy with S3', () => {
    expect(loadConfig({ ...S3, MEDIA_DELIVERY: 'proxy' }, CWD).delivery).toBe('proxy');
  });

  it.each([
    [undefined, ''],
    ['', ''],
    ['/', ''],
    ['reelgate', 'reelgate/'],
    ['reelgate/', 'reelgate/'],
    ['/reelgate', 'reelgate/'],
    ['sites/one', 'sites/one/'],
    ['//sites/one/', 'sites/one/'],
  ])('normalises S3_PREFIX %j to %j', (value, expected) => {
    const env: Record<string, string> = value === undefined ? S3 : { ...S3, S3_PREFIX: value };

    expect(loadConfig(env, CWD).s3?.prefix).toBe(expected);
  });
});

describe('production', () => {
  it('accepts strong secrets and seeds no demo data by default', () => {
    const config = loadConfig(PRODUCTION, CWD);

    expect(config.env).toBe('production');
    expect(config.seedDemo).toBe(false);
    expect(config.logLevel).toBe('info');
  });

  it.each([
    ['missing', undefined, 'is missing: production needs a random value of at least 32 characters'],
    ['blank', '   ', 'is missing: production needs a random value of at least 32 characters'],
    ['short', 'hunter2-hunter2-hunter2', 'is too short: use at least 32 random characters'],
    ['the example value', EXAMPLE_SECRET, 'is still the example value: replace it with a random one'],
  ])('refuses a %s secret without echoing it', (_case, value, problem) => {
    for (const name of ['SESSION_SECRET', 'MEDIA_SIGNING_KEY'] as const) {
      const env: Record<string, string> = { ...PRODUCTION };
      if (value === undefined) delete env[name];
      else env[name] = value;

      const error = configErrorOf(env);

      expect(error.problems).toEqual([expect.stringContaining(`${name} ${problem}`)]);
      if (value?.trim()) expect(error.message).not.toContain(value);
    }
  });

  it('names both secrets when both are missing', () => {
    const problems = problemsOf({ NODE_ENV: 'production', PUBLIC_URL: PRODUCTION.PUBLIC_URL, TRUST_PROXY: '1' });

    expect(problems).toEqual([expect.stringMatching(/^SESSION_SECRET is missing/), expect.stringMatching(/^MEDIA_SIGNING_KEY is missing/)]);
  });

  it('lists every production problem in one start', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });

    expect(problems).toEqual([
      expect.stringMatching(/^SESSION_SECRET is missing/),
      expect.stringMatching(/^MEDIA_SIGNING_KEY is missing/),
      expect.stringMatching(/^PUBLIC_URL is missing/),
      expect.stringMatching(/^TRUST_PROXY is not set/),
    ]);
  });

  it('refuses the same value for both secrets', () => {
    const shared = 'f'.repeat(40);

    const error = configErrorOf({ ...PRODUCTION, SESSION_SECRET: shared, MEDIA_SIGNING_KEY: shared });

    expect(error.problems).toEqual(['SESSION_SECRET and MEDIA_SIGNING_KEY are the same: give each its own random value (openssl rand -hex 32)']);
    expect(error.message).not.toContain(shared);
  });

  it('keeps SEED_DEMO=true as given (the server refuses to seed in production)', () => {
    expect(loadConfig({ ...PRODUCTION, SEED_DEMO: 'true' }, CWD).seedDemo).toBe(true);
  });
});

describe('secrets in error messages', () => {
  it.each([
    [{ DATABASE_URL: 'mysql://reelgate:hunter2secret@db.internal/app' }, 'DATABASE_URL', 'mysql://***@db.internal/app'],
    [{ ...S3, S3_ENDPOINT: 'ftp://AKIAEXAMPLE:hunter2secret@minio.internal' }, 'S3_ENDPOINT', 'ftp://***@minio.internal'],
  ])('hides the user and password of a refused URL: %j', (env, name, shown) => {
    const error = configErrorOf(env);

    expect(error.message).toContain(name);
    expect(error.message).toContain(shown);
    expect(error.message).not.toContain('hunter2secret');
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['0', 0],
    ['1', 1],
    ['2', 2],
    ['loopback', 'loopback'],
    ['10.0.0.1', '10.0.0.1'],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
    ['192.168.0.0/255.255.0.0,::1', '192.168.0.0/255.255.0.0,::1'],
    ['fd00::/8', 'fd00::/8'],
  ])('reads %j as %j, a value Express accepts', (value, expected) => {
    const config = loadConfig(value === undefined ? {} : { TRUST_PROXY: value }, CWD);

    expect(config.trustProxy).toEqual(expected);
    expect(() => express().set('trust proxy', config.trustProxy)).not.toThrow();
  });

  it.each(['yes', 'TRUE', '10.0.0.300', 'loopback,nope', '10.0.0.0/33', '10.0.0.1/8/8'])('refuses %j before start-up', (value) => {
    const problems = problemsOf({ TRUST_PROXY: value });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TRUST_PROXY must be false, true, a hop count, or a comma-separated list/);
  });
});
