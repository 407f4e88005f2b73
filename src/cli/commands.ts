import fs from 'node:fs';
import path from 'node:path';

import { CLI_ACTOR, recordChange } from '../audit/audit-recorder.js';
import { generatePassword, hashPassword, passwordProblem } from '../auth/passwords.js';
import type { Services } from '../services.js';
import { findSubscription, setSubscription } from '../subscriptions/subscription-repository.js';
import { DuplicateEmailError, createUser, findUserByEmail } from '../users/user-repository.js';
import { VideoFileError, addVideoFromFile } from '../videos/add-video.js';
import { findLatestJobs } from '../transcode/job-repository.js';
import { listVideos } from '../videos/video-repository.js';
import { CliError, readStdin, type CliIo } from './cli-io.js';
import { endOfDayUtc } from './dates.js';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function addUserCommand(
  services: Services,
  io: CliIo,
  email: string,
  options: { admin?: boolean; passwordStdin?: boolean },
): Promise<void> {
  if (!EMAIL_PATTERN.test(email) || email.length > 320) throw new CliError(`invalid email "${email}": use name@example.com`);

  const generated = !options.passwordStdin;
  const password = options.passwordStdin ? await readStdin(io.stdin) : generatePassword();
  if (options.passwordStdin && password === '') throw new CliError('no password on standard input: pipe one in, e.g. printf %s "$PASSWORD" | reelgate user add ...');
  const problem = passwordProblem(password);
  if (problem) throw new CliError(problem);

  try {
    const passwordHash = await hashPassword(password);
    const user = await services.database.db.transaction().execute(async (trx) => {
      const created = await createUser(trx, { email, passwordHash, isAdmin: options.admin === true });
      await recordChange(trx, CLI_ACTOR, {
        action: 'user.create',
        target: { type: 'user', id: created.id, label: created.email },
        before: null,
        after: { email: created.email, isAdmin: created.isAdmin },
      }, new Date());
      return created;
    });
    io.out(`Created ${user.isAdmin ? 'admin' : 'user'} ${user.email} (id ${user.id}).\n`);
    if (generated) io.out(`Password (shown only now): ${password}\n`);
  } catch (err) {
    if (err instanceof DuplicateEmailError) throw new CliError(`a user with the email ${email.trim().toLowerCase()} already exists`);
    throw err;
  }
}

export async function setSubscriptionCommand(
  services: Services,
  io: CliIo,
  email: string,
  options: { active: string; until?: string },
): Promise<void> {
  if (options.active !== 'true' && options.active !== 'false') {
    throw new CliError(`invalid --active "${options.active}": use true or false`);
  }
  const endsAt = options.until === undefined ? null : endOfDayUtc(options.until);
  const user = await findUserByEmail(services.database.db, email);
  if (!user) throw new CliError(`unknown user ${email}: create it first with reelgate user add`);

  const subscription = await services.database.db.transaction().execute(async (trx) => {
    const before = await findSubscription(trx, user.id);
    const after = await setSubscription(trx, { userId: user.id, active: options.active === 'true', endsAt });
    await recordChange(trx, CLI_ACTOR, {
      action: 'subscription.set',
      target: { type: 'user', id: user.id, label: user.email },
      before: before ? { active: before.active, endsAt: before.endsAt?.toISOString() ?? null } : null,
      after: { active: after.active, endsAt: after.endsAt?.toISOString() ?? null },
    }, new Date());
    return after;
  });
  const until = subscription.endsAt ? ` until the end of ${options.until} (UTC)` : '';
  const ended = subscription.endsAt && subscription.endsAt.getTime() <= Date.now() ? ' That date has passed, so access is already over.' : '';
  io.out(`Subscription of ${user.email} is now ${subscription.active ? 'active' : 'inactive'}${until}.${ended}\n`);
}

export async function addVideoCommand(
  services: Services & { maxUploadBytes: number },
  io: CliIo,
  file: string,
  options: { title: string; description?: string; poster?: string },
): Promise<void> {
  const title = options.title.trim();
  if (title === '' || title.length > 200) throw new CliError('invalid --title: give 1 to 200 characters');
  if ((options.description ?? '').length > 5000) throw new CliError('invalid --description: use at most 5000 characters');

  const posterPath = options.poster ? path.resolve(io.cwd, options.poster) : undefined;
  if (posterPath) await ensureReadableFile(posterPath);

  try {
    const video = await addVideoFromFile(
      { db: services.database.db, storage: services.storage },
      {
        filePath: path.resolve(io.cwd, file),
        title,
        description: options.description?.trim(),
        posterPath,
        maxBytes: services.maxUploadBytes,
      },
    );
    // The video is stored and registered by now, so the entry cannot share its transaction.
    await recordChange(services.database.db, CLI_ACTOR, {
      action: 'video.create',
      target: { type: 'video', id: video.id, label: video.title },
      before: null,
      after: { title: video.title, storageKey: video.storageKey, sizeBytes: video.sizeBytes, published: video.published },
    }, new Date());
    io.out(`${video.id}\n`);
  } catch (err) {
    if (err instanceof VideoFileError) throw new CliError(err.message);
    throw err;
  }
}

/*
 * NOTE: addVideoFromFile does not check the poster before it stores the video, and an unreadable poster
 * stream errors while local storage is still creating folders, which crashes the process and leaves the
 * video object behind. Checking first keeps the CLI to one error line with nothing stored.
 */
async function ensureReadableFile(filePath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(filePath);
    await fs.promises.access(filePath, fs.constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError(`${filePath} does not exist`);
    if (code === 'EACCES') throw new CliError(`${filePath} cannot be read: permission denied`);
    throw err;
  }
  if (!stat.isFile()) throw new CliError(`${filePath} is not a file`);
}

export async function listVideosCommand(services: Services, io: CliIo, options: { json?: boolean }): Promise<void> {
  const videos = await listVideos(services.database.db, { publishedOnly: false });
  if (options.json) {
    const jobs = await findLatestJobs(services.database.db, videos.map((video) => video.id));
    const rows = videos.map((video) => ({
      id: video.id,
      title: video.title,
      description: video.description,
      contentType: video.contentType,
      sizeBytes: video.sizeBytes,
      durationSeconds: video.durationSeconds,
      published: video.published,
      createdAt: video.createdAt,
      // "ready" once the HLS renditions are stored, else the state of the newest transcode job, or "none".
      hls: video.hlsMasterKey ? 'ready' : (jobs.get(video.id)?.status ?? 'none'),
    }));
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (videos.length === 0) {
    io.out('No videos. Add one with: reelgate video add <file> --title <title>\n');
    return;
  }
  for (const video of videos) {
    io.out(`${video.id}  ${video.published ? 'published' : 'draft    '}  ${video.title}\n`);
  }
}
