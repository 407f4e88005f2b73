import fs from 'node:fs';
import path from 'node:path';

import { TransferError, exportDatabase, importDatabase, parseExport } from '../db/transfer.js';
import type { Services } from '../services.js';
import { CliError, type CliIo } from './cli-io.js';

/** Opening the services runs pending migrations; this reports what ran, for upgrade scripts. */
export async function migrateCommand(services: Services, io: CliIo): Promise<void> {
  const ran = services.migrationsRun;
  io.out(ran.length === 0 ? 'The database schema is up to date.\n' : `Ran migrations: ${ran.join(', ')}.\n`);
}

export async function exportCommand(services: Services, io: CliIo, options: { output?: string }): Promise<void> {
  const data = await exportDatabase(services.database.db);
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (!options.output) {
    io.out(text);
    return;
  }

  const target = path.resolve(io.cwd, options.output);
  try {
    // The export holds password hashes: readable by the owner only, and never over an existing file.
    fs.writeFileSync(target, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${target} already exists: choose another --output file`);
    throw new CliError(`cannot write ${target}: ${(err as Error).message}`);
  }
  const counts = Object.entries(data.tables).map(([table, rows]) => `${rows.length} ${table}`).join(', ');
  io.out(`Exported ${counts} to ${target}.\n`);
}

export async function importCommand(services: Services, io: CliIo, file: string): Promise<void> {
  const source = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(source, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${source} does not exist` : `cannot read ${source}: ${(err as Error).message}`);
  }

  try {
    const counts = await importDatabase(services.database.db, services.database.dialect, parseExport(text));
    const summary = Object.entries(counts).map(([table, count]) => `${count} ${table}`).join(', ');
    io.out(`Imported ${summary} into the ${services.database.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} database.\n`);
  } catch (err) {
    if (err instanceof TransferError) throw new CliError(err.message);
    throw err;
  }
}
