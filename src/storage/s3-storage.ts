import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type BucketLocationConstraint,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { S3Config } from '../config.js';
import { S3Presigner } from './s3-presigner.js';
import { S3RequestSigner } from './s3-request-signer.js';
import {
  InvalidKeyError,
  type ByteRange,
  type ListedObject,
  type ObjectInfo,
  type SignedStorageRequest,
  type Storage,
  type UploadedPart,
} from './storage.js';

/** S3's limit on the UTF-8 length of a whole object key, prefix included. */
const MAX_KEY_BYTES = 1024;

/** SigV4 presigned URLs live at most 7 days. */
const MAX_PRESIGN_SECONDS = 604_800;

const CONNECTION_TIMEOUT_MS = 5_000;
const SOCKET_IDLE_TIMEOUT_MS = 30_000;
const CHECK_TIMEOUT_MS = 5_000;

/** S3 multipart rules: parts of at least 5 MiB, at most 10,000 parts per object. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const UPLOAD_QUEUE_SIZE = 4;

const DNS_COMPATIBLE_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export class S3Storage implements Storage {
  readonly kind = 's3';

  private readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly agents: ApiAgents;
  private readPresigner: S3Presigner | undefined;
  private requestSigner: S3RequestSigner | undefined;

  constructor(private readonly config: S3Config) {
    this.agents = createApiAgents(config);
    this.client = createApiClient(config, this.agents);
    this.presignClient = config.publicEndpoint ? createPresignClient(config, this.client) : this.client;
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const command = new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) });

    try {
      const output = await this.client.send(command);
      return {
        size: output.ContentLength ?? 0,
        contentType: output.ContentType,
        etag: output.ETag,
        lastModified: output.LastModified,
      };
    } catch (error) {
      // HEAD responses carry no error body, so a missing bucket also arrives here as a plain 404. check()
      // is what reports a missing bucket.
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async read(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<Readable> {
    const command = new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: this.objectKey(key),
      Range: options.range ? formatRange(options.range) : undefined,
    });

    // The signal stays attached to the underlying http.ClientRequest until the body ends, so aborting it
    // mid-stream destroys the socket and ends the returned stream, too.
    const output = await this.client.send(command, { abortSignal: options.signal });

    if (!(output.Body instanceof Readable)) {
      throw new TypeError('GetObject returned a body that is not a Node.js Readable stream');
    }
    return output.Body;
  }

  async write(key: string, body: Readable, options: { contentType: string; size?: number }): Promise<void> {
    // Memory stays bounded at UPLOAD_QUEUE_SIZE parts in flight. Upload sends a single PutObject when the
    // body fits in one part, and aborts the multipart upload on failure.
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.config.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentType: options.contentType,
      },
      partSize: choosePartSize(options.size),
      queueSize: UPLOAD_QUEUE_SIZE,
    });

    await upload.done();
  }

  async delete(key: string): Promise<void> {
    const command = new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) });

    try {
      await this.client.send(command);
    } catch (error) {
      // S3 itself returns 204 for a missing key, but some compatible stores return 404.
      if (!isNotFound(error)) throw error;
    }
  }

  async presignRead(key: string, options: { expiresInSeconds: number; contentType: string }): Promise<string> {
    assertPresignLifetime(options.expiresInSeconds);

    // Signs the same URL that getSignedUrl would (a test compares them byte for byte), at a small part of its cost.
    this.readPresigner ??= new S3Presigner(this.presignClient, this.config.bucket);
    return this.readPresigner.presignGetObject(this.objectKey(key), {
      expiresInSeconds: options.expiresInSeconds,
      responseContentType: options.contentType,
      responseCacheControl: 'private, no-store',
    });
  }

  async signReadRequest(key: string, options: { contentType: string }): Promise<SignedStorageRequest> {
    // nginx reaches S3 where the app does, so this signs for S3_ENDPOINT, never for S3_PUBLIC_ENDPOINT.
    this.requestSigner ??= new S3RequestSigner(this.client, new S3Presigner(this.client, this.config.bucket));
    return this.requestSigner.signGetObject(this.objectKey(key), {
      responseContentType: options.contentType,
      responseCacheControl: 'private, no-store',
    });
  }

  /*
   * The upload URLs below sign only the host and the query: no checksum (requestChecksumCalculation is
   * WHEN_REQUIRED) and no Content-Length, so a browser PUT needs no header beyond Content-Type. A test checks
   * that the URLs carry no x-amz-checksum or x-amz-sdk-checksum parameter.
   */

  async presignWrite(key: string, options: { expiresInSeconds: number; contentType: string }): Promise<string> {
    assertPresignLifetime(options.expiresInSeconds);

    const command = new PutObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), ContentType: options.contentType });
    // Content-Type is signed, so the browser must send exactly this type and cannot store another one.
    return getSignedUrl(this.presignClient, command, { expiresIn: options.expiresInSeconds, signableHeaders: new Set(['content-type']) });
  }

  async createMultipartUpload(key: string, options: { contentType: string }): Promise<string> {
    const command = new CreateMultipartUploadCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), ContentType: options.contentType });
    const output = await this.client.send(command);
    if (!output.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    return output.UploadId;
  }

  async presignUploadPart(key: string, uploadId: string, partNumber: number, options: { expiresInSeconds: number }): Promise<string> {
    assertPresignLifetime(options.expiresInSeconds);
    assertPartNumber(partNumber);

    const command = new UploadPartCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), UploadId: uploadId, PartNumber: partNumber });
    return getSignedUrl(this.presignClient, command, { expiresIn: options.expiresInSeconds });
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    const command = new CompleteMultipartUploadCommand({
      Bucket: this.config.bucket,
      Key: this.objectKey(key),
      UploadId: uploadId,
      MultipartUpload: { Parts: ordered.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
    });
    await this.client.send(command);
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const command = new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), UploadId: uploadId });

    try {
      await this.client.send(command);
    } catch (error) {
      // NoSuchUpload: completed, aborted before, or swept by a bucket lifecycle rule.
      if (!isNoSuchUpload(error)) throw error;
    }
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;

    do {
      const command = new ListPartsCommand({ Bucket: this.config.bucket, Key: this.objectKey(key), UploadId: uploadId, PartNumberMarker: marker });
      const output = await this.client.send(command);
      for (const part of output.Parts ?? []) {
        if (part.PartNumber !== undefined && part.ETag) parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size });
      }
      marker = output.IsTruncated ? output.NextPartNumberMarker : undefined;
    } while (marker);

    return parts;
  }

  async list(prefix: string, options: { limit: number }): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let continuationToken: string | undefined;

    do {
      const command = new ListObjectsV2Command({
        Bucket: this.config.bucket,
        Prefix: this.config.prefix + prefix,
        ContinuationToken: continuationToken,
      });
      const output = await this.client.send(command);
      for (const object of output.Contents ?? []) {
        if (!object.Key) continue;
        objects.push({ key: object.Key.slice(this.config.prefix.length), size: object.Size ?? 0, lastModified: object.LastModified });
      }
      continuationToken = output.IsTruncated ? output.NextContinuationToken : undefined;
    } while (continuationToken && objects.length < options.limit);

    return objects.slice(0, options.limit);
  }

  publicOrigin(): string {
    const endpoint = this.config.publicEndpoint ?? this.config.endpoint;
    if (endpoint) return customEndpointOrigin(endpoint, this.config);

    return awsOrigin(this.config);
  }

  async check(): Promise<void> {
    const command = new HeadBucketCommand({ Bucket: this.config.bucket });
    await this.client.send(command, { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  }

  /**
   * Counts the sockets to the S3 endpoint that carry a request right now. Idle keep-alive sockets are not
   * counted. Tests use it to prove that aborted downloads give their socket back.
   */
  socketsInUse(): number {
    let count = 0;
    for (const agent of [this.agents.http, this.agents.https]) {
      for (const sockets of Object.values(agent.sockets)) count += sockets?.length ?? 0;
    }
    return count;
  }

  async close(): Promise<void> {
    this.client.destroy();
    if (this.presignClient !== this.client) this.presignClient.destroy();
  }

  /** Creates the bucket unless it exists already. Only tests call it: the app never creates buckets. */
  async createBucketIfMissing(): Promise<void> {
    if (await this.bucketExists()) return;

    const command = new CreateBucketCommand({
      Bucket: this.config.bucket,
      // us-east-1 is the default location, and S3 rejects it when it is named explicitly.
      CreateBucketConfiguration:
        this.config.region === 'us-east-1'
          ? undefined
          : { LocationConstraint: this.config.region as BucketLocationConstraint },
    });

    try {
      await this.client.send(command);
    } catch (error) {
      // Another process may have created it between the HEAD and the CREATE.
      if (!(error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou')) throw error;
    }
  }

  private async bucketExists(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private objectKey(key: string): string {
    assertValidKey(key);

    const objectKey = this.config.prefix + key;
    if (Buffer.byteLength(objectKey, 'utf8') > MAX_KEY_BYTES) {
      throw new InvalidKeyError(key, `longer than ${MAX_KEY_BYTES} bytes once the prefix is added`);
    }
    return objectKey;
  }
}

interface ApiAgents {
  http: http.Agent;
  https: https.Agent;
}

function createApiAgents(config: S3Config): ApiAgents {
  const agentOptions = { keepAlive: true, maxSockets: config.maxSockets };
  return { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
}

/** Creates the client that sends every API request, with the connection pool of S3_MAX_SOCKETS. */
export function createApiClient(config: S3Config, agents: ApiAgents = createApiAgents(config)): S3Client {
  // socketTimeout is an idle timeout: it ends a download whose reader has stalled (a paused proxy stream),
  // which returns the socket to the pool. There is no total request timeout because an upload part or a
  // long video legitimately takes minutes.
  const requestHandler = new NodeHttpHandler({
    httpAgent: agents.http,
    httpsAgent: agents.https,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
  });

  return new S3Client({ ...sharedClientConfig(config), endpoint: config.endpoint, requestHandler });
}

/** Creates a client that only signs URLs for the public host and never sends requests. */
function createPresignClient(config: S3Config, apiClient: S3Client): S3Client {
  return new S3Client({
    ...sharedClientConfig(config),
    endpoint: config.publicEndpoint,
    credentials: apiClient.config.credentials,
  });
}

function sharedClientConfig(config: S3Config): S3ClientConfig {
  return {
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.credentials ? { credentials: config.credentials } : {}),
    // Since @aws-sdk/client-s3 3.729.0 the defaults add CRC checksum headers, and x-amz-checksum-mode to
    // presigned GET URLs. Some S3-compatible stores reject these.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

function assertValidKey(key: string): void {
  if (key === '') {
    throw new InvalidKeyError(key, 'empty');
  }
  // Under the u flag \p{Cs} matches only unpaired surrogates, which have no UTF-8 form.
  if (/[\p{Cc}\p{Cs}]/u.test(key)) {
    throw new InvalidKeyError(key, 'contains a control character or an unpaired surrogate');
  }
  // S3 keeps "." and ".." literally, but browsers and some proxies collapse them in a URL path, which would
  // break a presigned URL or point it at another object.
  if (key.split('/').some((segment) => segment === '.' || segment === '..')) {
    throw new InvalidKeyError(key, 'contains a "." or ".." path segment');
  }
}

function formatRange(range: ByteRange): string {
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end < range.start) {
    throw new RangeError(`Invalid byte range ${range.start}-${range.end}: expected integers with 0 <= start <= end`);
  }
  return `bytes=${range.start}-${range.end}`;
}

function choosePartSize(size: number | undefined): number {
  // With an unknown size, 5 MiB parts cap the object at about 48.8 GiB.
  if (size === undefined) return MIN_PART_BYTES;

  return Math.max(MIN_PART_BYTES, Math.ceil(size / MAX_PARTS));
}

function assertPresignLifetime(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(`Invalid presigned URL lifetime ${seconds}: expected whole seconds from 1 to ${MAX_PRESIGN_SECONDS}`);
  }
}

function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new RangeError(`Invalid part number ${partNumber}: expected a whole number from 1 to ${MAX_PARTS}`);
  }
}

function isNoSuchUpload(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NoSuchUpload' || error.$metadata.httpStatusCode === 404);
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;

  return error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey';
}

/**
 * Computes the origin with the SDK's choice between virtual-hosted and path-style addressing. The bucket
 * moves into the host name unless path style is forced, the host is an IP address, or the bucket name is
 * not a single DNS label. A test compares the result with real presigned URLs.
 */
function customEndpointOrigin(endpoint: string, config: S3Config): string {
  const url = new URL(endpoint);
  if (usesPathStyle(url.hostname, config)) return url.origin;

  url.hostname = `${config.bucket}.${url.hostname}`;
  return url.origin;
}

function awsOrigin(config: S3Config): string {
  const host = `s3.${config.region}.amazonaws.com`;
  if (usesPathStyle(host, config)) return `https://${host}`;

  return `https://${config.bucket}.${host}`;
}

function usesPathStyle(hostname: string, config: S3Config): boolean {
  const bareHostname = hostname.replace(/^\[(.*)\]$/, '$1');

  return config.forcePathStyle || isIP(bareHostname) !== 0 || !DNS_COMPATIBLE_BUCKET.test(config.bucket);
}
