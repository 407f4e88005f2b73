import path from 'node:path';

import type { Config } from '../config.js';
import { LocalStorage } from './local-storage.js';
import { S3Storage } from './s3-storage.js';
import type { Storage } from './storage.js';

/** Local storage keeps media under DATA_DIR/media; S3 uses the configured bucket. */
export function createStorage(config: Config): Storage {
  if (config.storage === 's3') {
    if (!config.s3) throw new Error('STORAGE=s3 without a validated S3 configuration');
    return new S3Storage(config.s3);
  }
  return new LocalStorage(path.join(config.dataDir, 'media'));
}
