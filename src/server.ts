import 'dotenv/config';

import { createServer, type Server } from 'node:http';

import { allocatorFactsOf, allocatorSettingHint } from './allocator-setting.js';
import { createApp } from './app.js';
import { DatabaseSessionStore } from './auth/session-store.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { printDemoAccounts, seedDemo, type DemoAccounts } from './demo/seed-demo.js';
import { buildAppContext, type AppContext } from './http/context.js';
import { createLogger, type Logger } from './logger.js';
import { openServices, type Services } from './services.js';
import { startTranscodeWorker } from './transcode/start-worker.js';
import type { TranscodeWorker } from './transcode/transcode-worker.js';

const SESSION_PRUNE_INTERVAL_MS = 15 * 60_000;

async function main(): Promise<void> {
  const config = readConfigOrExit();
  const log = createLogger(config.logLevel);

  let services: Services;
  try {
    services = await openServices(config);
  } catch (err) {
    log.fatal({ err }, 'could not open the database or storage; check DATABASE_URL, DATA_DIR and the S3 settings');
    process.exit(1);
  }

  const sessionStore = new DatabaseSessionStore(services.database.db, {
    defaultTtlMs: config.sessionIdleMs,
    pruneIntervalMs: SESSION_PRUNE_INTERVAL_MS,
    log,
  });
  const context = buildAppContext(config, services, { log, sessionStore, now: () => new Date() });

  const demoAccounts = await seedIfWanted(context, config);

  const server = createServer(createApp(context));
  let worker: TranscodeWorker | undefined;
  server.listen({ port: config.port, host: config.host }, () => {
    const settings = { storage: config.storage, delivery: config.delivery, mediaOffload: config.mediaOffload, database: services.database.dialect };
    log.info({ port: config.port, host: config.host ?? 'all interfaces', ...settings }, 'reelgate listening');
    const hint = allocatorSettingHint(allocatorFactsOf(config));
    if (hint !== null) log.info(hint);
    worker = startTranscodeWorker(context);
    if (demoAccounts) printDemoAccounts(demoAccounts, siteUrlOf(server, config));
  });
  server.on('error', (err) => {
    log.fatal({ err, port: config.port }, 'could not listen; is another program using PORT?');
    // The demo data now exists, and its passwords are shown only once: show them even on this failed start.
    if (demoAccounts) printDemoAccounts(demoAccounts, siteUrlOf(server, config));
    process.exit(1);
  });

  const stop = (signal: string) => shutDown(server, services, sessionStore, log, signal, config.shutdownGraceMs, () => worker?.stop());
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

function readConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nFix these in the environment or in .env (see .env.example), then start again.\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function seedIfWanted(context: AppContext, config: Config): Promise<DemoAccounts | null> {
  if (!config.seedDemo) return null;
  // Demo accounts with well-known emails and passwords on the console have no place on a live site.
  if (config.env === 'production') {
    context.log.warn('SEED_DEMO is ignored in production: no demo data is added');
    return null;
  }
  try {
    return await seedDemo({ db: context.db, storage: context.storage, log: context.log });
  } catch (err) {
    if (err instanceof Error && err.name === 'NoSuchBucket') {
      const bucket = config.s3?.bucket ?? '';
      context.log.error(`the S3 bucket "${bucket}" does not exist, so the demo catalogue was not added: create the bucket and start again`);
      return null;
    }
    context.log.error({ err }, 'seeding the demo catalogue failed; the site starts without it');
    return null;
  }
}

/** Returns the address to open in a browser: localhost when listening on every interface or on loopback. */
function siteUrlOf(server: Server, config: Config): string {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = !config.host || config.host === '0.0.0.0' || config.host === '::' || config.host === '127.0.0.1' ? 'localhost' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops accepting connections, lets in-flight responses finish for a while, then closes clients and exits. */
async function shutDown(
  server: Server,
  services: Services,
  sessionStore: DatabaseSessionStore,
  log: Logger,
  signal: string,
  graceMs: number,
  stopWorker: () => Promise<void> | undefined,
): Promise<void> {
  log.info({ signal, graceMs }, 'shutting down');
  // The worker kills ffmpeg and requeues its job at once; it needs the database, so it ends before services close.
  const workerStopped = stopWorker();
  const forced = setTimeout(() => {
    log.warn({ graceMs }, 'in-flight requests still open after the grace period (SHUTDOWN_GRACE_SECONDS); closing them');
    server.closeAllConnections();
  }, graceMs);
  forced.unref();

  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearTimeout(forced);
  await workerStopped;
  sessionStore.close();
  await services.close();
  log.info('stopped');
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`reelgate failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
