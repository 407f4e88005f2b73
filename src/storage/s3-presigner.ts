import crypto, { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/*
 * A SigV4 query presigner for GetObject that produces the same URL as getSignedUrl from
 * @aws-sdk/s3-request-presigner, byte for byte, at a fraction of the cost (the SDK runs its whole
 * middleware stack and endpoint rules for every URL). test/storage/s3-presigner.test.ts compares the two
 * across keys, regions, endpoints and session tokens.
 *
 * Two things stay with the SDK. The endpoint rules (virtual-hosted or path style, regional host names,
 * the signing region and service) are read from one SDK-presigned probe URL per presigner. The
 * credentials come from the client's own provider, which refreshes them before they expire.
 */

/** SigV4 presigned URLs live at most 7 days. */
const MAX_EXPIRES_SECONDS = 604_800;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const PROBE_KEY = 'probe';
const PROBE_CONTENT_TYPE = 'video/mp4';
const PROBE_CACHE_CONTROL = 'no-store';

/** The SDK's memoized credential provider refreshes credentials that expire within 5 minutes (@smithy/core EXPIRATION_MS). */
const CREDENTIAL_REFRESH_WINDOW_MS = 300_000;

/** Bound the caches of encoded response overrides (a handful of content types) and of encoded keys (one per video). */
const MAX_ENCODED_VALUES = 256;
const MAX_ENCODED_PATHS = 4096;

/** Characters that percent-encoding leaves as they are in a key path. */
const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** The query parameters of an SDK GetObject URL that this presigner can produce. */
const KNOWN_QUERY_PARAMETERS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
  'response-cache-control',
  'response-content-type',
  'x-id',
]);

export interface PresignGetObjectOptions {
  expiresInSeconds: number;
  /** Sent as response-content-type, so S3 returns this Content-Type. */
  responseContentType?: string;
  /** Sent as response-cache-control. */
  responseCacheControl?: string;
  /** The time the URL is signed at (X-Amz-Date); the current time when omitted. */
  signingDate?: Date;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** The origin, path prefix and signing scope of the URLs for one client and bucket. */
interface UrlLayout {
  /** Scheme and authority, such as "https://bucket.s3.eu-west-1.amazonaws.com". */
  origin: string;
  /** The path before the encoded key, "/" or "/bucket/" or an endpoint's base path. */
  pathPrefix: string;
  /** The value of the signed Host header. */
  host: string;
  region: string;
  service: string;
}

interface CachedSigningKey {
  shortDate: string;
  accessKeyId: string;
  secretAccessKey: string;
  key: KeyObject;
}

/** The query parameters before X-Amz-Expires, which change only with the second and the credentials. */
interface CachedQueryStart {
  longDate: string;
  credentials: Credentials;
  text: string;
}

export class S3Presigner {
  private layout: Promise<UrlLayout> | undefined;
  private resolvedLayout: UrlLayout | undefined;
  private cachedCredentials: Credentials | undefined;
  private signingKey: CachedSigningKey | undefined;
  private queryStart: CachedQueryStart | undefined;
  private readonly encodedValues = new Map<string, string>();
  private readonly encodedPaths = new Map<string, string>();
  private dateCache = { epochSecond: Number.NaN, longDate: '' };

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async presignGetObject(objectKey: string, options: PresignGetObjectOptions): Promise<string> {
    assertExpiresIn(options.expiresInSeconds);

    // The awaits are skipped once the layout and fresh credentials are cached, because they cost about
    // as much as the signature itself.
    const layout = this.resolvedLayout ?? (await this.urlLayout());
    const credentials = this.freshCachedCredentials() ?? (await this.credentials());
    return this.sign(layout, credentials, objectKey, options);
  }

  private sign(layout: UrlLayout, credentials: Credentials, objectKey: string, options: PresignGetObjectOptions): string {
    const longDate = this.longDateOf(options.signingDate);
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${layout.region}/${layout.service}/aws4_request`;
    const path = layout.pathPrefix + this.encodePath(objectKey);

    // The parameters are in the byte order of their names, which is the order SigV4 requires in the
    // canonical query and the order the SDK writes into the URL. X-Amz-Signature sorts between the
    // security token and X-Amz-SignedHeaders.
    let before = `${this.queryStartFor(longDate, scope, credentials)}&X-Amz-Expires=${options.expiresInSeconds}`;
    if (credentials.sessionToken) before += `&X-Amz-Security-Token=${this.encodeValue(credentials.sessionToken)}`;

    let after = 'X-Amz-SignedHeaders=host';
    if (options.responseCacheControl !== undefined) after += `&response-cache-control=${this.encodeValue(options.responseCacheControl)}`;
    if (options.responseContentType !== undefined) after += `&response-content-type=${this.encodeValue(options.responseContentType)}`;
    after += '&x-id=GetObject';

    const canonicalRequest = `GET\n${path}\n${before}&${after}\nhost:${layout.host}\n\nhost\n${UNSIGNED_PAYLOAD}`;
    const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signingKey = this.signingKeyFor(credentials, shortDate, layout);
    const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');

    return `${layout.origin}${path}?${before}&X-Amz-Signature=${signature}&${after}`;
  }

  private queryStartFor(longDate: string, scope: string, credentials: Credentials): string {
    const cached = this.queryStart;
    if (cached && cached.longDate === longDate && cached.credentials === credentials) return cached.text;

    const text = [
      `X-Amz-Algorithm=${ALGORITHM}`,
      `X-Amz-Content-Sha256=${UNSIGNED_PAYLOAD}`,
      `X-Amz-Credential=${escapeUri(`${credentials.accessKeyId}/${scope}`)}`,
      `X-Amz-Date=${longDate}`,
    ].join('&');
    this.queryStart = { longDate, credentials, text };
    return text;
  }

  /** Formats the signing time as SigV4's basic ISO 8601 form, such as 20240501T120000Z, once per second. */
  private longDateOf(signingDate: Date | undefined): string {
    const epochSecond = Math.floor((signingDate?.getTime() ?? Date.now()) / 1000);
    if (epochSecond !== this.dateCache.epochSecond) {
      const longDate = new Date(epochSecond * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
      this.dateCache = { epochSecond, longDate };
    }
    return this.dateCache.longDate;
  }

  private encodeValue(value: string): string {
    return cachedEncoding(this.encodedValues, value, escapeUri, MAX_ENCODED_VALUES);
  }

  private encodePath(objectKey: string): string {
    return cachedEncoding(this.encodedPaths, objectKey, encodeKeyPath, MAX_ENCODED_PATHS);
  }

  /**
   * Derives the signing key once per day, region, service and credentials, as the SDK does. Reusing it
   * cannot widen a grant: the key only proves who signs, and every URL still gets its own signature over
   * its object key, expiry, signing time and response overrides.
   */
  private signingKeyFor(credentials: Credentials, shortDate: string, layout: UrlLayout): KeyObject {
    const cached = this.signingKey;
    if (
      cached &&
      cached.shortDate === shortDate &&
      cached.accessKeyId === credentials.accessKeyId &&
      cached.secretAccessKey === credentials.secretAccessKey
    ) {
      return cached.key;
    }

    let key: Buffer = Buffer.from(`AWS4${credentials.secretAccessKey}`, 'utf8');
    for (const part of [shortDate, layout.region, layout.service, 'aws4_request']) {
      key = createHmac('sha256', key).update(part).digest();
    }
    const keyObject = createSecretKey(key);
    this.signingKey = { shortDate, accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, key: keyObject };
    return keyObject;
  }

  /**
   * Returns the last credentials unless they expire within the SDK's refresh window. Inside that window the
   * client's provider is asked again, which refreshes them, so this cache never outlives what the SDK
   * itself would use.
   */
  private freshCachedCredentials(): Credentials | undefined {
    const cached = this.cachedCredentials;
    if (!cached) return undefined;
    if (cached.expiration && cached.expiration.getTime() - Date.now() < CREDENTIAL_REFRESH_WINDOW_MS) return undefined;
    return cached;
  }

  /** Calls the client's credential provider, which caches the credentials and refreshes them before they expire. */
  private async credentials(): Promise<Credentials> {
    const credentials = await this.client.config.credentials();
    if (typeof credentials?.accessKeyId !== 'string' || typeof credentials.secretAccessKey !== 'string') {
      throw new Error('The S3 client credential provider returned no access key id or secret access key');
    }
    this.cachedCredentials = credentials;
    return credentials;
  }

  private urlLayout(): Promise<UrlLayout> {
    this.layout ??= this.learnUrlLayout().then(
      (layout) => {
        this.resolvedLayout = layout;
        return layout;
      },
      (error: unknown) => {
        // A failed probe (credentials not available yet, for example) is retried by the next call.
        this.layout = undefined;
        throw error;
      },
    );
    return this.layout;
  }

  /**
   * Presigns a probe key with the SDK, reads the endpoint layout and signing scope out of that URL, then
   * signs the same request here and requires the identical URL. A mismatch, after an SDK upgrade for
   * example, throws instead of handing out URLs that S3 might reject.
   */
  private async learnUrlLayout(): Promise<UrlLayout> {
    const signingDate = new Date();
    const options = { expiresInSeconds: 60, responseContentType: PROBE_CONTENT_TYPE, responseCacheControl: PROBE_CACHE_CONTROL, signingDate };
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: PROBE_KEY,
      ResponseContentType: PROBE_CONTENT_TYPE,
      ResponseCacheControl: PROBE_CACHE_CONTROL,
    });
    const sdkUrl = await getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds, signingDate });

    const layout = parseProbeUrl(sdkUrl);
    const ownUrl = this.sign(layout, await this.credentials(), PROBE_KEY, options);
    if (ownUrl !== sdkUrl) {
      throw new Error('S3Presigner produced a different URL than getSignedUrl for the probe key; check the installed @aws-sdk version');
    }
    return layout;
  }
}

function parseProbeUrl(url: string): UrlLayout {
  const queryStart = url.indexOf('?');
  const base = url.slice(0, queryStart);
  const authorityStart = base.indexOf('//') + 2;
  const pathStart = base.indexOf('/', authorityStart);
  if (queryStart < 0 || authorityStart < 2 || pathStart < 0 || !base.endsWith(`/${PROBE_KEY}`)) {
    throw new Error('getSignedUrl returned a URL of an unexpected form for the probe key');
  }

  const query = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of query.keys()) {
    if (!KNOWN_QUERY_PARAMETERS.has(name)) throw new Error(`getSignedUrl added the query parameter ${name}, which S3Presigner does not produce`);
  }

  // X-Amz-Credential is "<access key id>/<date>/<region>/<service>/aws4_request".
  const scope = (query.get('X-Amz-Credential') ?? '').split('/');
  const [region, service] = scope.slice(-3, -1);
  if (!region || !service) throw new Error('getSignedUrl returned no credential scope for the probe key');

  // The Host header carries no user info, though formatUrl would write it into the URL.
  const authority = base.slice(authorityStart, pathStart);
  return {
    origin: base.slice(0, pathStart),
    pathPrefix: base.slice(pathStart, base.length - PROBE_KEY.length),
    host: authority.slice(authority.lastIndexOf('@') + 1),
    region,
    service,
  };
}

/** Looks the encoding up in a cache that is emptied whenever it reaches `maxSize` entries. */
function cachedEncoding(cache: Map<string, string>, value: string, encode: (value: string) => string, maxSize: number): string {
  let encoded = cache.get(value);
  if (encoded === undefined) {
    encoded = encode(value);
    if (cache.size >= maxSize) cache.clear();
    cache.set(value, encoded);
  }
  return encoded;
}

/** Encodes each segment of the key as the SDK does for the greedy {Key+} label, keeping the slashes. */
function encodeKeyPath(key: string): string {
  if (UNRESERVED_PATH.test(key)) return key;

  return key.split('/').map(escapeUri).join('/');
}

/** RFC 3986 percent-encoding: encodeURIComponent leaves !'()* alone, and SigV4 needs them encoded. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

// crypto.hash (Node 20.12 and later) skips the Hash object and takes about half the time of createHash.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;

function sha256Hex(text: string): string {
  if (oneShotHash) return oneShotHash('sha256', text);

  return createHash('sha256').update(text).digest('hex');
}

function assertExpiresIn(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EXPIRES_SECONDS) {
    throw new RangeError(`Invalid presigned URL lifetime ${seconds}: expected whole seconds from 1 to ${MAX_EXPIRES_SECONDS}`);
  }
}
