import { sql } from 'kysely';
import { z } from 'zod';

import { currentSchema, type Db } from './database.js';
import type { Dialect } from './dialect.js';

/*
 * Moves a whole installation between databases (embedded SQLite to PostgreSQL, or one server to another)
 * through a JSON document. Sessions and unfinished uploads are not carried over: users log in again.
 */

/** Tables in an order that satisfies foreign keys on import. */
export const TRANSFER_TABLES = ['users', 'subscriptions', 'videos', 'audit_log'] as const;
type TransferTable = (typeof TRANSFER_TABLES)[number];

/** A stable row order per table, so two exports of the same data are identical. */
const EXPORT_ORDER = { users: 'created_at', subscriptions: 'user_id', videos: 'created_at', audit_log: 'id' } as const;

const FORMAT = 'reelgate-export';
const VERSION = 1;
const INSERT_CHUNK_ROWS = 200;

const rowSchema = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));
const exportSchema = z.object({
  format: z.literal(FORMAT, { error: `not a reelgate export: "format" must be "${FORMAT}"` }),
  version: z.literal(VERSION, { error: `unsupported export version: this reelgate reads version ${VERSION}` }),
  exportedAt: z.string(),
  tables: z.object(Object.fromEntries(TRANSFER_TABLES.map((table) => [table, z.array(rowSchema)])) as Record<TransferTable, z.ZodArray<typeof rowSchema>>),
});

export type DatabaseExport = z.infer<typeof exportSchema>;

export class TransferError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferError';
  }
}

export async function exportDatabase(db: Db, now = new Date()): Promise<DatabaseExport> {
  const tables = {} as DatabaseExport['tables'];
  for (const table of TRANSFER_TABLES) {
    const order = EXPORT_ORDER[table];
    tables[table] = (await db.selectFrom(table).selectAll().orderBy(order).execute()) as DatabaseExport['tables'][TransferTable];
  }
  return { format: FORMAT, version: VERSION, exportedAt: now.toISOString(), tables };
}

/** Parses and checks an export document; throws TransferError naming the first problem. */
export function parseExport(text: string): DatabaseExport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TransferError('the file is not valid JSON: pass a file written by "reelgate db export"');
  }
  const parsed = exportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TransferError(`the file is not a valid export: ${issue?.path.join('.') || 'document'} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

/**
 * Loads an export into an empty, migrated database in one transaction, so a failure leaves it empty.
 * Returns the number of rows per table.
 */
export async function importDatabase(db: Db, dialect: Dialect, data: DatabaseExport): Promise<Record<TransferTable, number>> {
  const columns = await columnsOf(db, dialect === 'postgres' ? await currentSchema(db) : undefined);
  for (const table of TRANSFER_TABLES) {
    for (const row of data.tables[table]) {
      const unknown = Object.keys(row).filter((column) => !columns[table].has(column));
      if (unknown.length > 0) {
        throw new TransferError(`${table} has columns this version does not know (${unknown.join(', ')}): run a newer reelgate, or migrate the source first`);
      }
    }
  }

  return db.transaction().execute(async (trx) => {
    await ensureEmpty(trx);
    const counts = {} as Record<TransferTable, number>;
    for (const table of TRANSFER_TABLES) {
      const rows = data.tables[table];
      for (let start = 0; start < rows.length; start += INSERT_CHUNK_ROWS) {
        await trx.insertInto(table).values(rows.slice(start, start + INSERT_CHUNK_ROWS) as never).execute();
      }
      counts[table] = rows.length;
    }
    if (dialect === 'postgres') {
      // Explicit ids bypass the sequence; move it past them so new audit entries do not collide.
      await sql`select setval(pg_get_serial_sequence('audit_log', 'id'), coalesce((select max(id) from audit_log), 0) + 1, false)`.execute(trx);
    }
    return counts;
  });
}

async function ensureEmpty(db: Db): Promise<void> {
  for (const table of TRANSFER_TABLES) {
    const row = await db.selectFrom(table).select(sql<number>`1`.as('one')).limit(1).executeTakeFirst();
    if (row) throw new TransferError(`the target database is not empty (${table} has rows): import only into a new database`);
  }
}

async function columnsOf(db: Db, schema: string | undefined): Promise<Record<TransferTable, Set<string>>> {
  const tables = await db.introspection.getTables();
  const result = {} as Record<TransferTable, Set<string>>;
  for (const table of TRANSFER_TABLES) {
    // On PostgreSQL getTables lists every schema; only the connection's own counts.
    const metadata = tables.find((candidate) => candidate.name === table && (schema === undefined || candidate.schema === schema));
    if (!metadata) throw new TransferError(`the target database has no ${table} table: run "reelgate db migrate" first`);
    result[table] = new Set(metadata.columns.map((column) => column.name));
  }
  return result;
}
