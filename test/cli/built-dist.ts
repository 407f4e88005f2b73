import fs from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The absolute path of a compiled file in dist/ (e.g. "server.js"). Throws, telling to run the build, when
 * dist/ is missing or older than src/: a test of the real process must not pass or fail on stale code.
 */
export function builtFile(relativePath: string): string {
  const file = path.join(PROJECT_ROOT, 'dist', relativePath);
  if (!fs.existsSync(file)) {
    throw new Error(`${path.relative(PROJECT_ROOT, file)} is missing: run "npm run build" before these tests`);
  }
  const stale = staleSources(path.join(PROJECT_ROOT, 'src'));
  if (stale.length > 0) {
    throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}: run "npm run build" before these tests`);
  }
  return file;
}

function staleSources(folder: string): string[] {
  const stale: string[] = [];
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const source = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      stale.push(...staleSources(source));
      continue;
    }
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;

    const compiled = path.join(PROJECT_ROOT, 'dist', path.relative(path.join(PROJECT_ROOT, 'src'), source)).replace(/\.ts$/, '.js');
    if (!fs.existsSync(compiled) || fs.statSync(compiled).mtimeMs < fs.statSync(source).mtimeMs) {
      stale.push(path.relative(PROJECT_ROOT, source));
    }
  }
  return stale;
}
