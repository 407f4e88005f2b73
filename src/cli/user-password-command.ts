import { CLI_ACTOR, recordChange } from '../audit/audit-recorder.js';
import { generatePassword, hashPassword, passwordProblem } from '../auth/passwords.js';
import { DatabaseSessionStore } from '../auth/session-store.js';
import type { Services } from '../services.js';
import { findUserByEmail, setPasswordHash } from '../users/user-repository.js';
import { CliError, readStdin, type CliIo } from './cli-io.js';
import { cliProblem } from './cli-problem.js';

/**
 * Sets a new password for an existing user and ends all of their sessions, as the admin console's reset
 * does. It is also the way back in when the demo passwords printed at the first start were lost.
 */
export async function resetPasswordCommand(services: Services, io: CliIo, email: string, options: { passwordStdin?: boolean }): Promise<void> {
  const user = await findUserByEmail(services.database.db, email);
  if (!user) throw new CliError(`unknown user ${email}: create it with reelgate user add`);

  const generated = !options.passwordStdin;
  const password = options.passwordStdin ? await readStdin(io.stdin) : generatePassword();
  if (options.passwordStdin && password === '') {
    throw new CliError('no password on standard input: pipe one in, e.g. printf %s "$PASSWORD" | reelgate user password ...');
  }
  const problem = passwordProblem(password);
  if (problem) throw new CliError(cliProblem(problem));

  const passwordHash = await hashPassword(password);
  await services.database.db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, user.id, passwordHash);
    await recordChange(trx, CLI_ACTOR, {
      action: 'user.password_reset',
      target: { type: 'user', id: user.id, label: user.email },
      before: null,
      after: { passwordChanged: true, generated },
    }, new Date());
  });
  const sessionsEnded = await new DatabaseSessionStore(services.database.db, { defaultTtlMs: 0 }).destroyUserSessions(user.id);

  io.out(`Set a new password for ${user.email} and ended ${sessionsEnded} ${sessionsEnded === 1 ? 'session' : 'sessions'}.\n`);
  if (generated) io.out(`Password (shown only now): ${password}\n`);
}
