import type { Readable } from 'node:stream';

/**
 * What the app needs from a place that keeps video objects. Backends know nothing about HTTP: parsing Range
 * headers and composing 206/416 responses happens once, in playback/.
 *
 * Keys are plain strings such as "videos/abc123/My film + extras.mp4". Each backend maps them safely: local
 * storage to a path that cannot leave the media folder, S3 to the object key under S3_PREFIX.
 */
export interface Storage {
  readonly kind: 'local' | 's3';

  /** Size, type and validators of one object, or null when it does not exist. */
  stat(key: string): Promise<ObjectInfo | null>;

  /**
   * A stream of the object's bytes, or of `range` (inclusive offsets) when given. Aborting `signal` ends the
   * underlying file handle or upstream request at once.
   */
  read(key: string, options?: { range?: ByteRange; signal?: AbortSignal }): Promise<Readable>;

  /** Stores `body` under `key`, replacing any object there. */
  write(key: string, body: Readable, options: { contentType: string; size?: number }): Promise<void>;

  delete(key: string): Promise<void>;

  /**
   * A URL that lets a browser GET the object until `expiresAt`, or null when this backend cannot hand out
   * such URLs (local storage). `contentType` overrides the stored Content-Type in the response.
   */
  presignRead(key: string, options: { expiresInSeconds: number; contentType: string }): Promise<string | null>;

  /**
   * A GET request for the object, signed in headers, that a server in front of the app (nginx with
   * MEDIA_OFFLOAD=nginx) sends to storage itself; null when this backend has no such requests (local storage).
   */
  signReadRequest(key: string, options: { contentType: string }): Promise<SignedStorageRequest | null>;

  /**
   * A URL that lets a browser PUT the object with exactly this Content-Type until it expires, or null when
   * uploads must go through the app (local storage).
   */
  presignWrite(key: string, options: { expiresInSeconds: number; contentType: string }): Promise<string | null>;

  /** Starts a multipart upload and returns its upload id. Throws DirectUploadUnsupportedError on local storage. */
  createMultipartUpload(key: string, options: { contentType: string }): Promise<string>;

  /** A URL that lets a browser PUT one part (1..10000) of a multipart upload, or null on local storage. */
  presignUploadPart(key: string, uploadId: string, partNumber: number, options: { expiresInSeconds: number }): Promise<string | null>;

  /** Joins the parts, in partNumber order, into the object. */
  completeMultipartUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void>;

  /** Discards the upload and every part stored so far. Succeeds when the upload is already gone. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;

  /** The parts stored so far, in partNumber order. */
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;

  /** Every object whose key starts with `prefix`, in key order, up to `limit` objects. */
  list(prefix: string, options: { limit: number }): Promise<ListedObject[]>;

  /** The origin browsers fetch media from when it is not the site itself (for the CSP), or null. */
  publicOrigin(): string | null;

  /** Throws when the backend cannot be reached or used; /healthz calls it. */
  check(): Promise<void>;

  close(): Promise<void>;
}

export interface ObjectInfo {
  size: number;
  contentType: string | undefined;
  etag: string | undefined;
  lastModified: Date | undefined;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  /** Known when listed from storage; a browser reports only the ETag. */
  size?: number;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date | undefined;
}

/** Inclusive byte offsets, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Thrown by a backend for a key that it will not map (path traversal, empty, too long). */
export class InvalidKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`Invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidKeyError';
  }
}

/** Thrown by local storage for the multipart calls, because browsers upload local files through the app. */
export class DirectUploadUnsupportedError extends Error {
  constructor() {
    super('Local storage takes uploads through the app; multipart uploads to storage need STORAGE=s3');
    this.name = 'DirectUploadUnsupportedError';
  }
}

/** A GET request, signed in headers, that another server can send to storage as it is. */
export interface SignedStorageRequest {
  /** The object's URL with the response overrides and no credentials. */
  url: string;
  /** Host-bound SigV4 headers: authorization, x-amz-date, x-amz-content-sha256 and, with temporary credentials, x-amz-security-token. */
  headers: Record<string, string>;
}
