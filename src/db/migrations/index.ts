import type { Migration } from 'kysely';

import type { Dialect } from '../dialect.js';
import { initialSchema } from './001-initial.js';
import { adminSchema } from './002-admin.js';
import { rateLimitSchema } from './003-rate-limits.js';
import { hlsSchema } from './004-hls.js';

/** Every migration, keyed by a name that sorts in the order they must run. Never rename or edit a shipped one. */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '001-initial': initialSchema(dialect),
    '002-admin': adminSchema(dialect),
    '003-rate-limits': rateLimitSchema,
    '004-hls': hlsSchema,
  };
}
