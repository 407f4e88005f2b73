import fs from 'node:fs';
import path from 'node:path';

import type { WatchPage } from './watch-page.js';

export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '../../test-artifacts');

/** Saves a screenshot and the page's console and network log as test-artifacts/NAME.png and NAME.log. */
export async function saveFailureArtifacts(watchPage: WatchPage, testName: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const base = path.join(ARTIFACTS_DIR, testName.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase());

  fs.writeFileSync(`${base}.log`, `${watchPage.log.join('\n')}\n`);
  try {
    await watchPage.page.screenshot({ path: `${base}.png`, timeout: 5000 });
  } catch (err) {
    fs.appendFileSync(`${base}.log`, `screenshot failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
