import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Config } from './config.js';

export interface Secrets {
  sessionSecret: string;
  /** HMAC-SHA256 key that signs app-served media URLs. */
  mediaSigningKey: Buffer;
}

const SECRETS_FILE = 'secrets.json';

/**
 * Takes SESSION_SECRET and MEDIA_SIGNING_KEY from the configuration. Outside production a missing one is
 * generated on first start and kept in DATA_DIR/secrets.json (mode 0600), so sessions and signed URLs stay
 * valid across restarts without any setup. Every instance of a scaled-out deployment must share both values.
 */
export function loadSecrets(config: Config): Secrets {
  if (config.sessionSecret && config.mediaSigningKey) {
    return { sessionSecret: config.sessionSecret, mediaSigningKey: Buffer.from(config.mediaSigningKey, 'utf8') };
  }

  const file = path.join(config.dataDir, SECRETS_FILE);
  const stored = readStoredSecrets(file) ?? writeNewSecrets(file);
  return {
    sessionSecret: config.sessionSecret ?? stored.sessionSecret,
    mediaSigningKey: Buffer.from(config.mediaSigningKey ?? stored.mediaSigningKey, 'utf8'),
  };
}

function readStoredSecrets(file: string): { sessionSecret: string; mediaSigningKey: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Record<string, unknown>;
  if (typeof parsed.sessionSecret !== 'string' || typeof parsed.mediaSigningKey !== 'string') {
    throw new Error(`${file} is damaged: delete it to generate new secrets (this logs everyone out)`);
  }
  return { sessionSecret: parsed.sessionSecret, mediaSigningKey: parsed.mediaSigningKey };
}

function writeNewSecrets(file: string): { sessionSecret: string; mediaSigningKey: string } {
  const secrets = { sessionSecret: randomBytes(32).toString('hex'), mediaSigningKey: randomBytes(32).toString('hex') };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    // "wx" fails when another process (a CLI run, a second start) wrote the file first; then use theirs.
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
    return secrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readStoredSecrets(file)!;
    throw err;
  }
}
