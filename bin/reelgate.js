#!/usr/bin/env node
// Entry point of the `reelgate` command. It runs the compiled CLI in dist/, which `npm install` builds.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const compiled = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'bin.js');
if (!existsSync(compiled)) {
  process.stderr.write('reelgate: error: the compiled CLI is missing; run "npm run build" in the project folder first\n');
  process.exit(1);
}
await import(compiled);
