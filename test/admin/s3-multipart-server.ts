import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import type { S3Config } from '../../src/config.js';

/*
 * s3rver 3.7 with the multipart calls it lacks. s3rver implements CreateMultipartUpload, UploadPart and
 * CompleteMultipartUpload, but rejects AbortMultipartUpload (DELETE ?uploadId) with 405 and ListParts and
 * ListMultipartUploads with NotImplemented. A loopback proxy in front of it serves those three calls from
 * s3rver's own upload folder (<root>/<bucket>/._S3rver_uploads/<uploadId>/ with one file per part) and
 * forwards everything else. So an abort really removes s3rver's stored parts, and the listings show what
 * s3rver still holds.
 *
 * Like s3rver, the proxy checks no signatures, so tests that pass here do not prove a URL is signed right.
 */

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string; configs: string[] }[];
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface MultipartS3Server {
  endpoint: string;
  bucket: string;
  config: S3Config;
  /** Upload ids whose parts s3rver still keeps on disk. */
  storedUploadIds(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startMultipartS3Server(bucket = 'reelgate-admin'): Promise<MultipartS3Server> {
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';

  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'reelgate-s3-multipart-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
  const upstream = await s3rver.run();
  const uploadsDir = path.join(directory, bucket, '._S3rver_uploads');

  const proxy = http.createServer((req, res) => {
    handle(req, res, { bucket, uploadsDir, upstreamPort: upstream.port }).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  return {
    endpoint,
    bucket,
    config: { bucket, region: 'us-east-1', prefix: '', endpoint, publicEndpoint: undefined, forcePathStyle: true, maxSockets: 16 },
    storedUploadIds: () => listUploadIds(uploadsDir),
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: { bucket: string; uploadsDir: string; upstreamPort: number },
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://s3.invalid');
  const uploadId = url.searchParams.get('uploadId');
  const isBucketPath = url.pathname.replace(/\/$/, '') === `/${options.bucket}`;

  if (req.method === 'GET' && isBucketPath && url.searchParams.has('uploads')) {
    return sendXml(res, 200, await listMultipartUploadsXml(options.uploadsDir, options.bucket));
  }
  if (uploadId && (req.method === 'GET' || req.method === 'DELETE')) {
    const uploadDir = path.join(options.uploadsDir, path.basename(uploadId));
    const exists = await fs.stat(uploadDir).then(() => true, () => false);
    if (!exists) return sendXml(res, 404, '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');

    if (req.method === 'DELETE') {
      await fs.rm(uploadDir, { recursive: true });
      res.statusCode = 204;
      return void res.end();
    }
    return sendXml(res, 200, await listPartsXml(uploadDir, uploadId));
  }

  forward(req, res, options.upstreamPort);
}

function forward(req: http.IncomingMessage, res: http.ServerResponse, port: number): void {
  const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

async function listUploadIds(uploadsDir: string): Promise<string[]> {
  return fs.readdir(uploadsDir).catch(() => []);
}

async function listMultipartUploadsXml(uploadsDir: string, bucket: string): Promise<string> {
  const uploads = [];
  for (const uploadId of await listUploadIds(uploadsDir)) {
    const key = await fs.readFile(path.join(uploadsDir, uploadId, 'key'), 'utf8');
    uploads.push(`<Upload><Key>${escapeXml(key)}</Key><UploadId>${uploadId}</UploadId></Upload>`);
  }
  return `<ListMultipartUploadsResult><Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>${uploads.join('')}</ListMultipartUploadsResult>`;
}

async function listPartsXml(uploadDir: string, uploadId: string): Promise<string> {
  const names = (await fs.readdir(uploadDir)).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b));
  const parts = [];
  for (const name of names) {
    const [stat, md5] = await Promise.all([fs.stat(path.join(uploadDir, name)), fs.readFile(path.join(uploadDir, `${name}.md5`), 'utf8')]);
    parts.push(`<Part><PartNumber>${name}</PartNumber><ETag>"${md5}"</ETag><Size>${stat.size}</Size></Part>`);
  }
  return `<ListPartsResult><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
}

function sendXml(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}
