import { randomUUID } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  DirectUploadUnsupportedError,
  InvalidKeyError,
  type ByteRange,
  type ListedObject,
  type ObjectInfo,
  type SignedStorageRequest,
  type Storage,
  type UploadedPart,
} from './storage.js';

const MAX_KEY_BYTES = 1024;
const TEMP_FILE_PREFIX = '.reelgate-upload-';

// Unicode category Cc: C0 controls, DEL and C1 controls, NUL included.
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Keeps objects as plain files below one media folder. A key such as "videos/abc/My film + extras (é).mp4" is
 * stored under that literal relative path, so reserved URL characters (`%`, `#`, `?`, `+`) are ordinary file
 * name characters here.
 */
export class LocalStorage implements Storage {
  readonly kind = 'local' as const;

  private readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const filePath = this.pathFor(key);

    let stats;
    try {
      stats = await stat(filePath, { bigint: true });
    } catch (err) {
      if (isMissingFileError(err)) return null;
      throw err;
    }

    // A folder such as "videos/abc" is not an object.
    if (!stats.isFile()) return null;

    return {
      size: Number(stats.size),
      contentType: undefined,
      etag: `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`,
      lastModified: new Date(Number(stats.mtimeMs)),
    };
  }

  async read(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<Readable> {
    const filePath = this.pathFor(key);
    const { range, signal } = options;

    // Opening before returning makes a missing or unreadable file reject here, before the caller has sent
    // any response headers.
    const handle = await open(filePath, 'r');

    if (signal?.aborted) {
      await handle.close();
      throw signal.reason;
    }

    // autoClose (the default) closes the file handle when the stream ends or is destroyed, and `signal`
    // destroys the stream as soon as it aborts.
    return createReadStream('', {
      fd: handle,
      start: range?.start,
      end: range?.end,
      signal,
    });
  }

  async write(key: string, body: Readable, options: { contentType: string; size?: number }): Promise<void> {
    // A source that fails while the folder is being created (a file that cannot be opened, say) emits
    // 'error' before pipeline() listens. Without this listener that error would crash the process.
    let sourceError: unknown;
    const rememberSourceError = (err: unknown) => {
      sourceError = err;
    };
    body.once('error', rememberSourceError);

    let filePath: string;
    try {
      filePath = this.pathFor(key);
      await mkdir(path.dirname(filePath), { recursive: true });
    } catch (err) {
      body.destroy();
      throw err;
    } finally {
      body.off('error', rememberSourceError);
    }
    if (sourceError) throw sourceError;
    const folder = path.dirname(filePath);

    // The temp file sits in the target folder so that the rename is atomic on one file system, and readers
    // never see a half-written object.
    const tempPath = path.join(folder, `${TEMP_FILE_PREFIX}${randomUUID()}.tmp`);

    try {
      await pipeline(body, createWriteStream(tempPath, { flags: 'wx' }));
      await assertWrittenSize(tempPath, key, options.size);
      await rename(tempPath, filePath);
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathFor(key));
    } catch (err) {
      if (!isMissingFileError(err)) throw err;
    }
  }

  // Local files have no URL of their own, so playback always streams them through the app.
  async presignRead(_key: string, _options: { expiresInSeconds: number; contentType: string }): Promise<string | null> {
    return null;
  }

  async signReadRequest(_key: string, _options: { contentType: string }): Promise<SignedStorageRequest | null> {
    return null;
  }

  async presignWrite(_key: string, _options: { expiresInSeconds: number; contentType: string }): Promise<string | null> {
    return null;
  }

  async createMultipartUpload(_key: string, _options: { contentType: string }): Promise<string> {
    throw new DirectUploadUnsupportedError();
  }

  async presignUploadPart(_key: string, _uploadId: string, _partNumber: number, _options: { expiresInSeconds: number }): Promise<string | null> {
    return null;
  }

  async completeMultipartUpload(_key: string, _uploadId: string, _parts: UploadedPart[]): Promise<void> {
    throw new DirectUploadUnsupportedError();
  }

  async abortMultipartUpload(_key: string, _uploadId: string): Promise<void> {
    throw new DirectUploadUnsupportedError();
  }

  async listParts(_key: string, _uploadId: string): Promise<UploadedPart[]> {
    throw new DirectUploadUnsupportedError();
  }

  async list(prefix: string, options: { limit: number }): Promise<ListedObject[]> {
    // Only the folder that the prefix names is walked; the rest of the prefix filters file names.
    const folderKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const folder = folderKey === '' ? this.rootDir : this.pathFor(folderKey);

    const keys: string[] = [];
    for (const relativePath of await listFilesBelow(folder)) {
      const key = folderKey === '' ? relativePath : `${folderKey}/${relativePath}`;
      if (key.startsWith(prefix) && !isTempFileName(path.posix.basename(key))) keys.push(key);
    }
    keys.sort();

    const listed: ListedObject[] = [];
    for (const key of keys.slice(0, options.limit)) {
      const info = await this.stat(key);
      if (info) listed.push({ key, size: info.size, lastModified: info.lastModified });
    }
    return listed;
  }

  publicOrigin(): string | null {
    return null;
  }

  async check(): Promise<void> {
    try {
      await mkdir(this.rootDir, { recursive: true });
    } catch (err) {
      // EEXIST here means a file is in the way, which the directory check below reports more clearly.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        const message = `Media folder ${this.rootDir} could not be created. Check the path and its permissions.`;
        throw new Error(message, { cause: err });
      }
    }

    const stats = await stat(this.rootDir);
    if (!stats.isDirectory()) {
      const message = `Media folder ${this.rootDir} is not a directory. Remove that file or pick another folder.`;
      throw new Error(message);
    }

    try {
      await access(this.rootDir, fsConstants.W_OK);
    } catch (err) {
      throw new Error(`Media folder ${this.rootDir} is not writable. Fix its permissions or mount.`, { cause: err });
    }
  }

  async close(): Promise<void> {}

  /** Maps a key to its file, rejecting every key whose path could resolve outside rootDir. */
  private pathFor(key: string): string {
    const segments = validateKey(key);
    const filePath = path.join(this.rootDir, ...segments);

    // validateKey already rules out escapes, and this second check guards against a future change to it.
    if (!filePath.startsWith(this.rootDir + path.sep)) {
      throw new InvalidKeyError(key, 'it resolves outside the media folder');
    }

    return filePath;
  }
}

/** Returns the key's path segments, or throws InvalidKeyError. */
function validateKey(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidKeyError(String(key), 'it is empty');
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidKeyError(key, `it is longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (CONTROL_CHARACTER.test(key)) {
    throw new InvalidKeyError(key, 'it contains a NUL byte or another control character');
  }
  // A backslash is a separator on Windows, so it would allow "..\\" traversal there.
  if (key.includes('\\')) {
    throw new InvalidKeyError(key, 'it contains a backslash');
  }
  if (key.startsWith('/')) {
    throw new InvalidKeyError(key, 'it is an absolute path');
  }

  const segments = key.split('/');
  for (const segment of segments) {
    if (segment === '..') {
      throw new InvalidKeyError(key, 'it contains a ".." segment');
    }
    // "a//b", "a/./b" and "a/" would alias another key or name a folder.
    if (segment === '' || segment === '.') {
      throw new InvalidKeyError(key, 'it contains an empty or "." segment');
    }
  }

  return segments;
}

async function assertWrittenSize(tempPath: string, key: string, expectedSize: number | undefined): Promise<void> {
  if (expectedSize === undefined) return;

  const { size } = await stat(tempPath);
  if (size !== expectedSize) {
    const message = `Upload of ${JSON.stringify(key)} stored ${size} bytes, expected ${expectedSize}. Upload it again.`;
    throw new Error(message);
  }
}

/** Relative paths, with "/" separators, of every regular file below `folder`; none when it does not exist. */
async function listFilesBelow(folder: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(folder, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (isMissingFileError(err)) return [];
    throw err;
  }

  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => {
      // Dirent.parentPath arrived in Node 20.12; 20.11 names the same folder Dirent.path.
      const parent = entry.parentPath ?? (entry as unknown as { path: string }).path;
      return path.relative(folder, path.join(parent, entry.name)).split(path.sep).join('/');
    });
}

function isTempFileName(name: string): boolean {
  return name.startsWith(TEMP_FILE_PREFIX);
}

function isMissingFileError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
