import path from 'node:path';

import { generatePassword, hashPassword, passwordProblem } from '../auth/passwords.js';
import type { Services } from '../services.js';
import { setSubscription } from '../subscriptions/subscription-repository.js';
import { DuplicateEmailError, createUser, findUserByEmail } from '../users/user-repository.js';
import { VideoFileError, addVideoFromFile } from '../videos/add-video.js';
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
    const user = await createUser(services.database.db, { email, passwordHash: await hashPassword(password), isAdmin: options.admin === true });
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

  const subscription = await setSubscription(services.database.db, { userId: user.id, active: options.active === 'true', endsAt });
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

  try {
    const video = await addVideoFromFile(
      { db: services.database.db, storage: services.storage },
      {
        filePath: path.resolve(io.cwd, file),
        title,
        description: options.description?.trim(),
        posterPath: options.poster ? path.resolve(io.cwd, options.poster) : undefined,
        maxBytes: services.maxUploadBytes,
      },
    );
    io.out(`${video.id}\n`);
  } catch (err) {
    if (err instanceof VideoFileError) throw new CliError(err.message);
    throw err;
  }
}

export async function listVideosCommand(services: Services, io: CliIo, options: { json?: boolean }): Promise<void> {
  const videos = await listVideos(services.database.db, { publishedOnly: false });
  if (options.json) {
    const rows = videos.map((video) => ({
      id: video.id,
      title: video.title,
      description: video.description,
      contentType: video.contentType,
      sizeBytes: video.sizeBytes,
      durationSeconds: video.durationSeconds,
      published: video.published,
      createdAt: video.createdAt,
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
