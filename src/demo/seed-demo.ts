import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { z } from 'zod';

import { generatePassword, hashPassword } from '../auth/passwords.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/storage.js';
import { setSubscription } from '../subscriptions/subscription-repository.js';
import { countUsers, createUser } from '../users/user-repository.js';
import { addVideoFromFile } from '../videos/add-video.js';
import { countVideos } from '../videos/video-repository.js';

export const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../demo');
export const DEMO_ADMIN_EMAIL = 'admin@example.com';
export const DEMO_VIEWER_EMAIL = 'viewer@example.com';

const catalogueSchema = z.array(
  z.object({ file: z.string(), poster: z.string().optional(), title: z.string(), description: z.string() }),
);

export interface DemoAccounts {
  admin: { email: string; password: string };
  viewer: { email: string; password: string };
}

/**
 * Fills an empty database with the demo catalogue and two accounts with random passwords. Does nothing
 * (returns null) when any user or video exists, so it never touches a real installation.
 */
export async function seedDemo(services: { db: Db; storage: Storage; log: Logger }): Promise<DemoAccounts | null> {
  const [users, videos] = await Promise.all([countUsers(services.db), countVideos(services.db)]);
  if (users > 0 || videos > 0) return null;

  const entries = catalogueSchema.parse(JSON.parse(fs.readFileSync(path.join(DEMO_DIR, 'catalogue.json'), 'utf8')));
  for (const entry of entries) {
    const video = await addVideoFromFile(services, {
      filePath: path.join(DEMO_DIR, entry.file),
      posterPath: entry.poster ? path.join(DEMO_DIR, entry.poster) : undefined,
      title: entry.title,
      description: entry.description,
    });
    services.log.info({ videoId: video.id }, 'demo video added');
  }

  const accounts: DemoAccounts = {
    admin: { email: DEMO_ADMIN_EMAIL, password: generatePassword() },
    viewer: { email: DEMO_VIEWER_EMAIL, password: generatePassword() },
  };
  await createUser(services.db, { email: accounts.admin.email, passwordHash: await hashPassword(accounts.admin.password), isAdmin: true });
  const viewer = await createUser(services.db, {
    email: accounts.viewer.email,
    passwordHash: await hashPassword(accounts.viewer.password),
    isAdmin: false,
  });
  await setSubscription(services.db, { userId: viewer.id, active: true, endsAt: null });
  services.log.info({ userIds: [viewer.id] }, 'demo accounts created');
  return accounts;
}

/** The one place the demo passwords appear: the console of the first start, never the log. */
export function printDemoAccounts(
  accounts: DemoAccounts,
  siteUrl: string,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  write(
    [
      '',
      '  reelgate demo data created. These passwords are shown only this once:',
      `    admin:      ${accounts.admin.email}  ${accounts.admin.password}`,
      `    subscriber: ${accounts.viewer.email}  ${accounts.viewer.password}`,
      `  Open ${siteUrl} and log in. Set SEED_DEMO=false to start with an empty site.`,
      '',
      '',
    ].join('\n'),
  );
}
