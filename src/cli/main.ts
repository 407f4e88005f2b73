import { Command, CommanderError } from 'commander';
import dotenv from 'dotenv';
import path from 'node:path';

import { ConfigError, loadConfig, type Config } from '../config.js';
import { openServices, type Services } from '../services.js';
import { CliError, type CliIo } from './cli-io.js';
import { addUserCommand, addVideoCommand, listVideosCommand, setSubscriptionCommand } from './commands.js';
import { exportCommand, importCommand, migrateCommand } from './db-commands.js';
import { resetPasswordCommand } from './user-password-command.js';
import { registerS3Commands } from './s3-commands.js';

/**
 * Runs one reelgate command and returns its exit code: 0 on success, 1 on an error (printed as one line
 * on stderr), 2 on a usage error. Works while the server runs on the same DATA_DIR or DATABASE_URL.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const withServices = (action: (services: Services, config: Config) => Promise<void>) => async () => {
    const config = loadConfig(withDotenv(io), io.cwd);
    const services = await openServices(config);
    try {
      await action(services, config);
    } finally {
      await services.close();
    }
  };

  const program = buildProgram(io, withServices);
  registerS3Commands(program, io, () => loadConfig(withDotenv(io), io.cwd));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    exitCode = reportError(err, io);
  }
  return exitCode;
}

type WithServices = (action: (services: Services, config: Config) => Promise<void>) => () => Promise<void>;

function buildProgram(io: CliIo, withServices: WithServices): Command {
  const program = new Command('reelgate')
    .description('Manage a reelgate site: users, subscriptions and videos. Reads the same .env as the server.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)');

  const user = program.command('user').description('manage user accounts');
  user
    .command('add')
    .description('create a user; the password is read from standard input, or generated and printed once')
    .argument('<email>', 'the email the user logs in with')
    .option('--admin', 'make the user an administrator')
    .option('--password-stdin', 'read the password from standard input (at least 10 characters)')
    .action((email: string, options: { admin?: boolean; passwordStdin?: boolean }) =>
      withServices((services) => addUserCommand(services, io, email, options))(),
    );
  user
    .command('password')
    .description("set a new password for a user and end all of the user's sessions (also recovers a lost demo password)")
    .argument('<email>', 'the user')
    .option('--password-stdin', 'read the new password from standard input; without it one is generated and printed once')
    .action((email: string, options: { passwordStdin?: boolean }) =>
      withServices((services) => resetPasswordCommand(services, io, email, options))(),
    );

  const subscription = program.command('subscription').description('grant or revoke access to the videos');
  subscription
    .command('set')
    .description("set a user's subscription; takes effect on the user's next playback request")
    .argument('<email>', 'the user')
    .requiredOption('--active <true|false>', 'whether the subscription is active (required)')
    .option('--until <YYYY-MM-DD>', 'last day of access (inclusive, UTC); omit for no end date')
    .action((email: string, options: { active: string; until?: string }) =>
      withServices((services) => setSubscriptionCommand(services, io, email, options))(),
    );

  const video = program.command('video').description('manage the video catalogue');
  video
    .command('add')
    .description('upload a video file to the configured storage, register it, and print its id')
    .argument('<file>', 'an MP4, MOV, WebM or Ogg video file')
    .requiredOption('--title <title>', 'the title shown in the catalogue (required)')
    .option('--description <text>', 'a longer description for the watch page')
    .option('--poster <file>', 'a poster image (.jpg, .png or .webp)')
    .action((file: string, options: { title: string; description?: string; poster?: string }) =>
      withServices((services, config) => addVideoCommand({ ...services, maxUploadBytes: config.maxUploadBytes }, io, file, options))(),
    );
  video
    .command('list')
    .description('list the videos, oldest first')
    .option('--json', 'print a JSON array of objects with id, title and details')
    .action((options: { json?: boolean }) => withServices((services) => listVideosCommand(services, io, options))());

  registerDbCommands(program, io, withServices);

  return program;
}

function registerDbCommands(program: Command, io: CliIo, withServices: WithServices): void {
  const db = program.command('db').description('database schema and moving data between databases');
  db.command('migrate')
    .description('run pending schema migrations (the server also runs them at start)')
    .action(() => withServices((services) => migrateCommand(services, io))());
  db.command('export')
    .description('write users, subscriptions, videos and the audit log as JSON (it contains password hashes)')
    .option('--output <file>', 'write to this new file (mode 0600) instead of standard output')
    .action((options: { output?: string }) => withServices((services) => exportCommand(services, io, options))());
  db.command('import')
    .description('load a "db export" file into an empty database, e.g. a new PostgreSQL one (DATABASE_URL)')
    .argument('<file>', 'a file written by reelgate db export')
    .action((file: string) => withServices((services) => importCommand(services, io, file))());
}

function withDotenv(io: CliIo): NodeJS.ProcessEnv {
  const fromFile: Record<string, string> = {};
  dotenv.config({ path: path.join(io.cwd, '.env'), processEnv: fromFile, quiet: true });
  // Real environment variables win over .env, as they do for the server; an unset one (undefined) does not.
  const fromEnvironment = Object.entries(io.env).filter(([, value]) => value !== undefined);
  return { ...fromFile, ...Object.fromEntries(fromEnvironment) };
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // Help and version output are successful exits; commander has already printed usage errors.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof CliError) {
    io.err(`reelgate: error: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConfigError) {
    io.err(`reelgate: error: ${err.problems.join('; ')}\n`);
    return 1;
  }
  io.err(`reelgate: error: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}
