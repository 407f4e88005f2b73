import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LocalStorage } from '../../src/storage/local-storage.js';
import { InvalidKeyError } from '../../src/storage/storage.js';

let rootDir: string;
let storage: LocalStorage;

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), 'reelgate-local-storage-'));
  storage = new LocalStorage(rootDir);
});

afterEach(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

async function writeText(key: string, content: string): Promise<void> {
  await storage.write(key, Readable.from([Buffer.from(content)]), { contentType: 'video/mp4' });
}

describe('LocalStorage write and read', () => {
  it('rejects a source that fails early', async () => {
    // Fails on the next tick, while write() is still creating the folder, as an unopenable file would.
    const failing = new Readable({ read() {} });
    process.nextTick(() => failing.destroy(Object.assign(new Error('cannot open the poster'), { code: 'ENOENT' })));

    await expect(storage.write('posters/p.jpg', failing, { contentType: 'image/jpeg' })).rejects.toMatchObject({ code: 'ENOENT' });

    expect(await readdir(rootDir, { recursive: true })).toEqual(['posters']);
  });

  it('round-trips content', async () => {
    await writeText('videos/abc123/film.mp4', 'hello video');

    const body = await storage.read('videos/abc123/film.mp4');

    expect(await text(body)).toBe('hello video');
  });

  it('stores the key as a relative path', async () => {
    await writeText('videos/abc123/film.mp4', 'on disk');

    const onDisk = await readFile(path.join(rootDir, 'videos', 'abc123', 'film.mp4'), 'utf8');

    expect(onDisk).toBe('on disk');
  });

  it('reads an inclusive range', async () => {
    await writeText('range.bin', '0123456789');

    const body = await storage.read('range.bin', { range: { start: 2, end: 5 } });

    expect(await text(body)).toBe('2345');
  });

  it('reads a one-byte range', async () => {
    await writeText('range.bin', '0123456789');

    const body = await storage.read('range.bin', { range: { start: 9, end: 9 } });

    expect(await text(body)).toBe('9');
  });

  it('replaces an existing object', async () => {
    await writeText('a.mp4', 'first version');
    await writeText('a.mp4', 'second');

    expect(await text(await storage.read('a.mp4'))).toBe('second');
  });

  it('leaves no temp file after write', async () => {
    await writeText('videos/x/a.mp4', 'content');

    expect(await readdir(path.join(rootDir, 'videos', 'x'))).toEqual(['a.mp4']);
  });

  it('removes temp file when body fails', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('upload interrupted'));
      },
    });

    await expect(storage.write('videos/y/a.mp4', failing, { contentType: 'video/mp4' })).rejects.toThrow(
      'upload interrupted',
    );
    expect(await readdir(path.join(rootDir, 'videos', 'y'))).toEqual([]);
  });

  it('rejects write with wrong size', async () => {
    const body = Readable.from([Buffer.from('12345')]);

    await expect(storage.write('sized.mp4', body, { contentType: 'video/mp4', size: 6 })).rejects.toThrow(
      'stored 5 bytes, expected 6',
    );
    expect(await storage.stat('sized.mp4')).toBeNull();
    expect(await readdir(rootDir)).toEqual([]);
  });

  it('rejects read of missing file', async () => {
    await expect(storage.read('missing.mp4')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('LocalStorage keys', () => {
  const unusualKeys = [
    'videos/abc123/My film + extras (é).mp4',
    'with space.mp4',
    'plus+sign.mp4',
    'unicode/日本語 ünïcödé 🎬.mp4',
    'percent%20encoded%2F.mp4',
    'hash#fragment.mp4',
    'question?mark=1&x=2.mp4',
    "quotes \"double\" and 'single'.mp4",
    'dots..in..name.mp4',
    '.hidden.mp4',
  ];

  it.each(unusualKeys)('round-trips key %s', async (key) => {
    await writeText(key, `content of ${key}`);

    expect(await text(await storage.read(key))).toBe(`content of ${key}`);
    expect((await storage.stat(key))?.size).toBe(Buffer.byteLength(`content of ${key}`));
  });

  it('stores reserved characters literally', async () => {
    await writeText('a%20b#c?d+e.mp4', 'x');

    expect(await readdir(rootDir)).toEqual(['a%20b#c?d+e.mp4']);
  });

  const invalidKeys: Array<[name: string, key: string]> = [
    ['empty', ''],
    ['parent segment', '../x'],
    ['nested parent segment', 'a/../../x'],
    ['trailing parent segment', 'a/..'],
    ['parent segment staying inside', 'a/../b.mp4'],
    ['absolute path', '/etc/passwd'],
    ['backslash', 'a\\b'],
    ['backslash traversal', '..\\x'],
    ['NUL byte', 'a\u0000b.mp4'],
    ['newline', 'a\nb.mp4'],
    ['DEL character', 'a\u007fb.mp4'],
    ['C1 control character', 'a\u0085b.mp4'],
    ['empty segment', 'a//b.mp4'],
    ['trailing slash', 'videos/'],
    ['dot segment', 'a/./b.mp4'],
    ['over 1024 bytes', `${'é'.repeat(513)}`],
  ];

  it.each(invalidKeys)('rejects %s key', async (_name, key) => {
    await expect(storage.stat(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.read(key)).rejects.toBeInstanceOf(InvalidKeyError);
    await expect(storage.write(key, Readable.from([]), { contentType: 'video/mp4' })).rejects.toBeInstanceOf(
      InvalidKeyError,
    );
    await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('accepts a 1024-byte key', async () => {
    const key = `${'a'.repeat(200)}/${'b'.repeat(200)}/${'c'.repeat(200)}/${'d'.repeat(200)}/${'e'.repeat(220)}`;
    expect(Buffer.byteLength(key)).toBe(1024);

    await writeText(key, 'long');

    expect(await text(await storage.read(key))).toBe('long');
  });

  it('rejected write leaves rootDir untouched', async () => {
    await expect(writeText('../escaped.mp4', 'x')).rejects.toBeInstanceOf(InvalidKeyError);

    expect(await readdir(rootDir)).toEqual([]);
    expect(await readdir(path.dirname(rootDir))).not.toContain('escaped.mp4');
  });
});

describe('LocalStorage stat', () => {
  it('returns null for missing file', async () => {
    expect(await storage.stat('missing.mp4')).toBeNull();
  });

  it('returns null below a file (ENOTDIR)', async () => {
    await writeText('file.mp4', 'x');

    expect(await storage.stat('file.mp4/inner.mp4')).toBeNull();
  });

  it('returns null for a folder', async () => {
    await writeText('videos/abc/a.mp4', 'x');

    expect(await storage.stat('videos/abc')).toBeNull();
  });

  it('returns size, etag and mtime', async () => {
    await writeText('v.mp4', '0123456789');
    const before = Date.now();

    const info = await storage.stat('v.mp4');

    expect(info?.size).toBe(10);
    expect(info?.contentType).toBeUndefined();
    expect(info?.etag).toMatch(/^"a-[0-9a-f]+"$/);
    expect(info?.lastModified).toBeInstanceOf(Date);
    expect(Math.abs((info?.lastModified?.getTime() ?? 0) - before)).toBeLessThan(5000);
  });

  it('changes etag when content changes', async () => {
    await writeText('v.mp4', 'first');
    const first = await storage.stat('v.mp4');

    await writeText('v.mp4', 'second!');
    const second = await storage.stat('v.mp4');

    expect(second?.etag).not.toBe(first?.etag);
  });
});

describe('LocalStorage delete', () => {
  it('removes the file', async () => {
    await writeText('d.mp4', 'x');

    await storage.delete('d.mp4');

    expect(await storage.stat('d.mp4')).toBeNull();
  });

  it('ignores a missing file', async () => {
    await expect(storage.delete('never-written.mp4')).resolves.toBeUndefined();
  });
});

describe('LocalStorage abort', () => {
  it('destroys stream on abort', async () => {
    await writeFile(path.join(rootDir, 'big.bin'), Buffer.alloc(1024 * 1024));
    const controller = new AbortController();
    const body = await storage.read('big.bin', { signal: controller.signal });
    const closed = new Promise((resolve) => body.once('close', resolve));
    const errored = once(body, 'error');

    controller.abort();

    expect(body.destroyed).toBe(true);
    const [err] = await errored;
    expect((err as Error).name).toBe('AbortError');
    await closed;
  });

  it('rejects read with aborted signal', async () => {
    await writeText('a.mp4', 'x');
    const controller = new AbortController();
    controller.abort();

    await expect(storage.read('a.mp4', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('LocalStorage misc', () => {
  it('check creates missing rootDir', async () => {
    const nested = new LocalStorage(path.join(rootDir, 'new', 'media'));

    await nested.check();

    expect(await readdir(path.join(rootDir, 'new'))).toEqual(['media']);
  });

  it('check rejects a file as rootDir', async () => {
    await writeFile(path.join(rootDir, 'not-a-dir'), 'x');
    const onFile = new LocalStorage(path.join(rootDir, 'not-a-dir'));

    await expect(onFile.check()).rejects.toThrow('is not a directory');
  });

  it('has no presigned URL or public origin', async () => {
    expect(storage.kind).toBe('local');
    expect(await storage.presignRead('a.mp4', { expiresInSeconds: 60, contentType: 'video/mp4' })).toBeNull();
    expect(storage.publicOrigin()).toBeNull();
  });
});
