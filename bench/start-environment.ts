import fs from 'node:fs';
import path from 'node:path';

const PACKAGE_JSON = path.resolve(import.meta.dirname, '../package.json');

/**
 * Returns the variables that package.json's start script sets before `node`, for example
 * `GLIBC_TUNABLES=... node dist/server.js`, so that the benchmark runs the app as `npm start` does.
 */
export function startScriptEnvironment(): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { scripts?: Record<string, string> };
  const start = pkg.scripts?.start;
  if (start === undefined) throw new Error('package.json has no start script');

  const environment: Record<string, string> = {};
  for (const word of start.trim().split(/\s+/)) {
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word);
    if (!assignment) break;
    environment[assignment[1]!] = assignment[2]!;
  }
  return environment;
}
