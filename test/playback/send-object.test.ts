import express, { type NextFunction, type Request, type Response } from 'express';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';

import { collectBody } from '../helpers/binary-body.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { HttpError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { sendObject } from '../../src/playback/send-object.js';
import { LocalStorage } from '../../src/storage/local-storage.js';
import type { ByteRange, Storage } from '../../src/storage/storage.js';

const SIZE = 1000;
const CONTENT = Buffer.from(Array.from({ length: SIZE }, (_, i) => i % 251));
const KEY = 'videos/abc123/My film + extras (é).mp4';

interface LogEntry {
  level: number;
  msg: string;
  key?: string;
  err?: { message: string };
}

const DEBUG_LEVEL = 20;
const ERROR_LEVEL = 50;

/** Passes every call to a LocalStorage and keeps the streams that read() returned. */
class SpyStorage extends LocalStorage {
  readonly streams: Readable[] = [];
  readFailure: Error | undefined;
  bodyOverride: (() => Readable) | undefined;

  override async read(key: string, options?: { range?: ByteRange; signal?: AbortSignal }): Promise<Readable> {
    if (this.readFailure !== undefined) throw this.readFailure;

    const stream = this.bodyOverride ? this.bodyOverride() : await super.read(key, options);
    this.streams.push(stream);
    return stream;
  }
}

let rootDir: string;
let storage: SpyStorage;
let logEntries: LogEntry[];
let handledErrors: unknown[];
let requestsDone: Array<Promise<void>>;

function createLog(): Logger {
  const destination = { write: (line: string) => logEntries.push(JSON.parse(line) as LogEntry) };
  return pino({ level: 'debug' }, destination);
}

function createApp(contentType = 'video/mp4'): express.Express {
  const app = express();
  const log = createLog();

  app.get('/media/:name', (req: Request, res: Response, next: NextFunction) => {
    const key = req.params.name === 'film' ? KEY : `videos/${String(req.params.name)}`;
    const done = sendObject(req, res, { storage, key, contentType, log });
    requestsDone.push(done.catch(() => undefined));
    done.catch(next);
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    handledErrors.push(err);
    const status = err instanceof HttpError ? err.status : 500;
    const message = err instanceof HttpError ? err.message : 'Something went wrong.';
    res.status(status).json({ message });
  });

  return app;
}

function getBytes(app: express.Express, url: string, headers: Record<string, string> = {}) {
  return request(app).get(url).set(headers).buffer(true).parse(collectBody);
}

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), 'reelgate-send-object-'));
  storage = new SpyStorage(rootDir);
  logEntries = [];
  handledErrors = [];
  requestsDone = [];
  await storage.write(KEY, Readable.from([CONTENT]), { contentType: 'video/mp4' });
});

afterEach(async () => {
  await rm(rootDir, { recursive: true, force: true });
});

async function currentValidators(): Promise<{ etag: string; lastModified: string }> {
  const info = await storage.stat(KEY);
  return { etag: info?.etag ?? '', lastModified: info?.lastModified?.toUTCString() ?? '' };
}

describe('sendObject full response', () => {
  it('sends 200 with all headers', async () => {
    const { etag, lastModified } = await currentValidators();

    const res = await getBytes(createApp(), '/media/film');

    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.headers['etag']).toBe(etag);
    expect(res.headers['last-modified']).toBe(lastModified);
    expect(res.headers['content-range']).toBeUndefined();
    expect(Buffer.compare(res.body as Buffer, CONTENT)).toBe(0);
  });

  it('uses passed Content-Type over extension', async () => {
    await writeFile(path.join(rootDir, 'videos', 'clip.txt'), 'not really text');

    const res = await getBytes(createApp('video/webm'), '/media/clip.txt');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/webm');
    expect((res.body as Buffer).toString()).toBe('not really text');
  });

  it('sends 404 for missing object', async () => {
    const res = await request(createApp()).get('/media/missing.mp4');

    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'This video file is missing from storage.' });
    expect(storage.streams).toHaveLength(0);
  });

  it('sends empty object as 200', async () => {
    await writeFile(path.join(rootDir, 'videos', 'empty.mp4'), '');

    const res = await getBytes(createApp(), '/media/empty.mp4');

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('0');
    expect((res.body as Buffer).length).toBe(0);
  });
});

describe('sendObject ranges', () => {
  it('sends 206 for bytes=0-1', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=0-1' });

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-1/${SIZE}`);
    expect(res.headers['content-length']).toBe('2');
    expect(res.headers['content-type']).toBe('video/mp4');
    expect([...(res.body as Buffer)]).toEqual([0, 1]);
  });

  it('sends 206 for open-ended range', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=990-' });

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 990-999/${SIZE}`);
    expect(res.headers['content-length']).toBe('10');
    expect(Buffer.compare(res.body as Buffer, CONTENT.subarray(990))).toBe(0);
  });

  it('sends 206 for suffix range', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=-300' });

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 700-999/${SIZE}`);
    expect(res.headers['content-length']).toBe('300');
    expect(Buffer.compare(res.body as Buffer, CONTENT.subarray(700))).toBe(0);
  });

  it('sends 206 for middle range', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=250-259' });

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 250-259/${SIZE}`);
    expect(Buffer.compare(res.body as Buffer, CONTENT.subarray(250, 260))).toBe(0);
  });

  it('sends 416 for start at size', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: `bytes=${SIZE}-` });

    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(res.headers['content-type']).toBeUndefined();
    expect((res.body as Buffer).length).toBe(0);
    expect(storage.streams).toHaveLength(0);
  });

  it('sends 200 for malformed range', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=abc' });

    expect(res.status).toBe(200);
    expect(res.headers['content-range']).toBeUndefined();
    expect(Buffer.compare(res.body as Buffer, CONTENT)).toBe(0);
  });

  it('sends 200 for multi-range', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=0-1,10-20' });

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
  });
});

describe('sendObject conditional requests', () => {
  it('sends 304 for matching If-None-Match', async () => {
    const { etag } = await currentValidators();

    const res = await getBytes(createApp(), '/media/film', { 'If-None-Match': etag });

    expect(res.status).toBe(304);
    expect(res.headers['etag']).toBe(etag);
    expect(res.headers['content-type']).toBeUndefined();
    expect((res.body as Buffer).length).toBe(0);
    expect(storage.streams).toHaveLength(0);
  });

  it('sends 200 for other If-None-Match', async () => {
    const res = await getBytes(createApp(), '/media/film', { 'If-None-Match': '"something-else"' });

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
  });

  it('sends 304 for current If-Modified-Since', async () => {
    const { lastModified } = await currentValidators();

    const res = await getBytes(createApp(), '/media/film', { 'If-Modified-Since': lastModified });

    expect(res.status).toBe(304);
  });

  it('sends 200 for stale If-Range ETag', async () => {
    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=0-1', 'If-Range': '"stale-etag"' });

    expect(res.status).toBe(200);
    expect(res.headers['content-range']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(Buffer.compare(res.body as Buffer, CONTENT)).toBe(0);
  });

  it('sends 206 for current If-Range ETag', async () => {
    const { etag } = await currentValidators();

    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=0-1', 'If-Range': etag });

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-1/${SIZE}`);
    expect([...(res.body as Buffer)]).toEqual([0, 1]);
  });

  it('sends 200 for weak If-Range ETag', async () => {
    const { etag } = await currentValidators();

    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=0-1', 'If-Range': `W/${etag}` });

    expect(res.status).toBe(200);
  });

  it('sends 206 for current If-Range date', async () => {
    const { lastModified } = await currentValidators();

    const res = await getBytes(createApp(), '/media/film', { Range: 'bytes=0-1', 'If-Range': lastModified });

    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-1/${SIZE}`);
  });

  it('sends 200 for old If-Range date', async () => {
    const res = await getBytes(createApp(), '/media/film', {
      Range: 'bytes=0-1',
      'If-Range': 'Mon, 01 Jan 2001 00:00:00 GMT',
    });

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
  });
});

describe('sendObject HEAD', () => {
  it('sends headers without body', async () => {
    const { etag } = await currentValidators();

    const res = await request(createApp()).head('/media/film');

    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.headers['etag']).toBe(etag);
    expect(res.text).toBeUndefined();
    expect(storage.streams).toHaveLength(0);
  });

  it('ignores Range on HEAD', async () => {
    const res = await request(createApp()).head('/media/film').set('Range', 'bytes=0-1');

    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['content-range']).toBeUndefined();
  });

  it('sends 304 on HEAD with If-None-Match', async () => {
    const { etag } = await currentValidators();

    const res = await request(createApp()).head('/media/film').set('If-None-Match', etag);

    expect(res.status).toBe(304);
  });
});

describe('sendObject storage errors', () => {
  it('rethrows read error before headers', async () => {
    const failure = new Error('disk on fire at /srv/media');
    storage.readFailure = failure;

    const res = await request(createApp()).get('/media/film');

    expect(res.status).toBe(500);
    expect(res.body).toEqual({ message: 'Something went wrong.' });
    expect(handledErrors).toEqual([failure]);
    expect(handledErrors[0]).toBe(failure);
  });

  it('cuts connection on error mid-body', async () => {
    storage.bodyOverride = () =>
      Readable.from(
        (async function* failAfterFirstChunk() {
          yield Buffer.alloc(100);
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('storage connection reset');
        })(),
      );
    const server = createApp().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));

    try {
      const { port } = server.address() as AddressInfo;
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/media/film' }, resolve).on('error', reject);
      });
      response.on('error', () => undefined);
      response.resume();
      await new Promise((resolve) => response.once('close', resolve));
      await Promise.all(requestsDone);

      expect(response.statusCode).toBe(200);
      expect(response.complete).toBe(false);
      const errors = logEntries.filter((entry) => entry.level === ERROR_LEVEL);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.key).toBe(KEY);
      expect(errors[0]?.err?.message).toBe('storage connection reset');
      expect(handledErrors).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('sendObject client abort', () => {
  it('destroys storage stream on abort', async () => {
    const bigKey = 'videos/big.mp4';
    await storage.write(bigKey, Readable.from([Buffer.alloc(8 * 1024 * 1024, 7)]), { contentType: 'video/mp4' });
    const server = createApp().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));

    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const clientRequest = http.get({ host: '127.0.0.1', port, path: '/media/big.mp4' }, (response) => {
          response.once('data', () => {
            clientRequest.destroy();
            resolve();
          });
        });
        clientRequest.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ECONNRESET') reject(err);
        });
      });
      await Promise.all(requestsDone);

      expect(storage.streams).toHaveLength(1);
      const stream = storage.streams[0] as Readable;
      await new Promise((resolve) => (stream.closed ? resolve(undefined) : stream.once('close', resolve)));
      expect(stream.destroyed).toBe(true);
      expect(stream.readableEnded).toBe(false);
      expect(logEntries.filter((entry) => entry.level === ERROR_LEVEL)).toEqual([]);
      expect(logEntries.filter((entry) => entry.level === DEBUG_LEVEL).map((entry) => entry.key)).toEqual([bigKey]);
      expect(handledErrors).toEqual([]);
    } finally {
      server.close();
    }
  });
});
