import type { Command } from 'commander';

import type { Config, S3Config } from '../config.js';
import {
  REFERER_CONDITION_WARNING,
  buildBucketPolicy,
  buildCorsConfiguration,
  checkBucket,
} from '../storage/s3-bucket-setup.js';
import { CliError, type CliIo } from './cli-io.js';

/** Registers `reelgate s3 policy|cors|check`. They read the configuration but never open the database. */
export function registerS3Commands(program: Command, io: CliIo, readConfig: () => Config): void {
  const s3 = program.command('s3').description('print and check the S3 bucket settings that reelgate needs');

  s3.command('policy')
    .description('print a bucket policy (JSON) that denies every request made without TLS')
    .option('--referer <origin>', 'also deny GetObject without this Referer (protects nothing by itself; read the warning)')
    .action((options: { referer?: string }) => policyCommand(io, readConfig(), options));

  s3.command('cors')
    .description('print the bucket CORS configuration (JSON for aws s3api put-bucket-cors) for PUBLIC_URL')
    .action(() => corsCommand(io, readConfig()));

  s3.command('check')
    .description('check that the bucket refuses anonymous reads, allows the site in CORS, and works with the credentials')
    .action(() => checkCommand(io, readConfig()));
}

function policyCommand(io: CliIo, config: Config, options: { referer?: string }): void {
  const s3 = requireS3(config);
  const refererOrigin = options.referer === undefined ? undefined : parseOrigin('--referer', options.referer);

  io.out(`${JSON.stringify(buildBucketPolicy(s3, { refererOrigin }), null, 2)}\n`);
  if (refererOrigin !== undefined) io.err(`${REFERER_CONDITION_WARNING}\n`);
}

function corsCommand(io: CliIo, config: Config): void {
  const siteOrigin = requirePublicUrl(config);

  io.out(`${JSON.stringify(buildCorsConfiguration(siteOrigin), null, 2)}\n`);
}

async function checkCommand(io: CliIo, config: Config): Promise<void> {
  const s3 = requireS3(config);

  const checks = await checkBucket(s3, config.publicUrl);

  for (const check of checks) {
    io.out(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
  }
  const failed = checks.filter((check) => !check.ok).length;
  if (failed > 0) throw new CliError(`${failed} of ${checks.length} bucket checks failed`);
}

function requireS3(config: Config): S3Config {
  if (config.s3 === undefined) {
    throw new CliError('STORAGE is not s3: set STORAGE=s3, S3_BUCKET and S3_REGION (see .env.example)');
  }
  return config.s3;
}

function requirePublicUrl(config: Config): string {
  if (config.publicUrl === undefined) {
    throw new CliError("PUBLIC_URL is missing: set it to the site's public origin, e.g. PUBLIC_URL=https://videos.example.com");
  }
  return config.publicUrl;
}

function parseOrigin(option: string, value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const isHttp = url?.protocol === 'https:' || url?.protocol === 'http:';
  const hasOnlyOrigin = url?.pathname === '/' && !value.endsWith('/') && url.search === '' && url.hash === '' && url.username === '';
  if (url === undefined || !isHttp || !hasOnlyOrigin) {
    throw new CliError(`${option} must be an origin such as https://videos.example.com, with no path or trailing slash (got "${value}")`);
  }
  return url.origin;
}
