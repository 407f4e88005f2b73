import { Router, type Request, type Response } from 'express';
import { sql } from 'kysely';

import { pendingMigrations } from '../db/database.js';
import type { AppContext } from './context.js';

const CHECK_TIMEOUT_MS = 3000;
const SERVICE_UNAVAILABLE_503 = 503;

/**
 * /healthz: the database and the storage answer. /readyz, for load balancers: the same, and the schema is
 * migrated to what this version of the app expects, so an instance that started before a migration finished
 * gets no traffic.
 */
export function healthRouter(context: AppContext): Router {
  const router = Router();
  router.get('/healthz', checkController(context, { migrations: false }));
  router.get('/readyz', checkController(context, { migrations: true }));
  return router;
}

function checkController(context: AppContext, options: { migrations: boolean }) {
  return async (_req: Request, res: Response) => {
    const checks: Array<[string, () => Promise<unknown>]> = [
      ['database', () => sql`select 1`.execute(context.db)],
      ['storage', () => context.storage.check()],
    ];
    if (options.migrations) checks.push(['migrations', () => ensureMigrated(context)]);

    const results = await Promise.all(checks.map(async ([name, check]) => ({ name, ...(await probe(check)) })));
    res.setHeader('Cache-Control', 'no-store');

    const failed = results.filter((result) => !result.ok);
    if (failed.length === 0) return res.json({ status: 'ok' });

    context.log.error({ err: failed[0]?.error, failed: failed.map((result) => result.name) }, 'health check failed');
    res.status(SERVICE_UNAVAILABLE_503).json({ status: 'unavailable', reason: failed.map(reasonOf).join('; ') });
  };
}

function reasonOf(result: { name: string }): string {
  return result.name === 'migrations' ? 'database migrations pending' : `${result.name} not answering`;
}

async function ensureMigrated(context: AppContext): Promise<void> {
  const pending = await pendingMigrations(context);
  if (pending.length > 0) throw new Error(`pending migrations: ${pending.join(', ')}`);
}

async function probe(check: () => Promise<unknown>): Promise<{ ok: boolean; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}
