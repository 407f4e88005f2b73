import { Router, type Request, type Response } from 'express';
import { sql } from 'kysely';

import type { AppContext } from './context.js';

const CHECK_TIMEOUT_MS = 3000;
const SERVICE_UNAVAILABLE_503 = 503;

export function healthRouter(context: AppContext): Router {
  const router = Router();
  router.get('/healthz', healthController(context));
  return router;
}

/** 200 when the database and the storage answer within a few seconds, 503 naming the failing part. */
function healthController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const [database, storage] = await Promise.all([
      probe(() => sql`select 1`.execute(context.db)),
      probe(() => context.storage.check()),
    ]);
    res.setHeader('Cache-Control', 'no-store');

    if (database.ok && storage.ok) return res.json({ status: 'ok' });

    const failed = [database.ok ? null : 'database', storage.ok ? null : 'storage'].filter(Boolean);
    context.log.error({ err: database.error ?? storage.error, failed }, 'health check failed');
    res.status(SERVICE_UNAVAILABLE_503).json({ status: 'unavailable', reason: `${failed.join(' and ')} not answering` });
  };
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
