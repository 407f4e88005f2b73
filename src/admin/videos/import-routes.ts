import { Router, type Request, type Response } from 'express';
import { z } from 'zod';

import { requireAdmin } from '../../auth/require-login.js';
import { newId } from '../../ids.js';
import type { AppContext } from '../../http/context.js';
import { sniffVideoType } from '../../videos/media-probe.js';
import { findRegisteredStorageKeys } from '../../videos/video-repository.js';
import { adminActorOf } from '../http/admin-actor.js';
import { setFlash } from '../http/flash.js';
import { defineInput } from '../http/input.js';
import { formatBytes } from './format-bytes.js';
import { readHead, readStoredDuration } from './storage-probe.js';
import { titleFromFileName } from './upload-names.js';
import { registerVideoAsAdmin } from './video-admin-service.js';

/** The form body parser accepts 50 parameters, so one import takes at most 40 objects. */
const MAX_LISTED_OBJECTS = 40;
/** Objects scanned to find MAX_LISTED_OBJECTS that are not in the catalogue yet. */
const MAX_SCANNED_OBJECTS = 2000;

const importForm = defineInput(
  'body',
  z.object({
    keys: z
      .union([z.string(), z.array(z.string())], { error: 'Tick at least one file to import.' })
      .transform((keys) => (Array.isArray(keys) ? keys : [keys]))
      .pipe(z.array(z.string().min(1).max(1024)).min(1, { error: 'Tick at least one file to import.' }).max(MAX_LISTED_OBJECTS)),
  }),
);

export function importRoutes(context: AppContext): Router {
  const router = Router();
  router.get('/admin/videos/import', requireAdmin, importPageController(context));
  router.post('/admin/videos/import', requireAdmin, importForm.validate, importController(context));
  return router;
}

function importPageController(context: AppContext) {
  return async (_req: Request, res: Response) => {
    const candidates = await listImportCandidates(context);
    res.render('admin/video-import', {
      title: 'Import videos',
      prefix: context.config.importPrefix,
      candidates: candidates.map((object) => ({ ...object, size: formatBytes(object.size) })),
      max: MAX_LISTED_OBJECTS,
    });
  };
}

/**
 * Registers each selected object that is under the import prefix, not in the catalogue yet, and a video by
 * its first bytes. Keys are checked against the storage listing, so a forged key cannot name another object.
 */
function importController(context: AppContext) {
  return async (req: Request, res: Response) => {
    const { keys } = importForm.of(res);
    const importable = new Map((await listImportCandidates(context)).map((object) => [object.key, object]));

    const imported: string[] = [];
    const refused: string[] = [];
    for (const key of new Set(keys)) {
      const object = importable.get(key);
      if (!object) {
        if (!key.startsWith(context.config.importPrefix)) context.log.warn({ adminId: adminActorOf(res).id }, 'import named a key outside the import prefix');
        refused.push(`${key} (not under ${context.config.importPrefix} or already imported)`);
        continue;
      }
      const contentType = sniffVideoType(await readHead(context.storage, key, object.size));
      if (!contentType) {
        refused.push(`${key} (not a video)`);
        continue;
      }

      const durationSeconds = await readStoredDuration(context.storage, key, contentType, object.size).catch((err: unknown) => {
        context.log.warn({ err }, 'reading the duration of an imported video failed');
        return null;
      });
      await registerVideoAsAdmin(context, adminActorOf(res), {
        id: newId(),
        title: titleFromFileName(key),
        description: '',
        storageKey: key,
        contentType,
        sizeBytes: object.size,
        durationSeconds,
        posterKey: null,
        published: false,
      });
      imported.push(key);
    }

    if (refused.length > 0) {
      context.log.debug({ refused: refused.length }, 'import skipped some objects');
      setFlash(req, 'error', `Imported ${imported.length} as drafts. Skipped: ${refused.join(', ')}.`);
    } else {
      setFlash(req, 'info', `Imported ${imported.length} ${imported.length === 1 ? 'video' : 'videos'} as drafts. Edit and publish them below.`);
    }
    res.redirect(303, imported.length > 0 ? '/admin/videos' : '/admin/videos/import');
  };
}

async function listImportCandidates(context: AppContext) {
  const objects = await context.storage.list(context.config.importPrefix, { limit: MAX_SCANNED_OBJECTS });
  const registered = await findRegisteredStorageKeys(context.db, objects.map((object) => object.key));
  return objects.filter((object) => !registered.has(object.key)).slice(0, MAX_LISTED_OBJECTS);
}
