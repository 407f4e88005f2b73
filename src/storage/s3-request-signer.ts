import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';

import type { S3Presigner } from './s3-presigner.js';
import type { SignedStorageRequest } from './storage.js';

/*
 * Signs GetObject requests in SigV4 headers for a server that fetches the object on the app's behalf (nginx
 * with MEDIA_OFFLOAD=nginx). The URL carries no credentials, so a proxy that logs it logs nothing usable;
 * the Authorization header goes only from the app to that server.
 *
 * The URL layout (virtual-hosted or path style, endpoint, signing region) comes from a presigned URL of the
 * same client, so both signers follow the SDK's endpoint rules. The signature itself is the SDK's
 * SignatureV4 over the client's credential provider.
 */

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** Only the URL layout is used from the probe URL, so its lifetime does not matter. */
const LAYOUT_PROBE_SECONDS = 60;

export class S3RequestSigner {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    private readonly client: S3Client,
    private readonly presigner: S3Presigner,
  ) {}

  async signGetObject(objectKey: string, overrides: { responseContentType: string; responseCacheControl: string }): Promise<SignedStorageRequest> {
    const presigned = new URL(
      await this.presigner.presignGetObject(objectKey, { expiresInSeconds: LAYOUT_PROBE_SECONDS, ...overrides }),
    );
    const scope = credentialScopeOf(presigned);

    const query: Record<string, string> = {};
    for (const [name, value] of presigned.searchParams) {
      if (!name.startsWith('X-Amz-')) query[name] = value;
    }
    const request = {
      method: 'GET',
      protocol: presigned.protocol,
      hostname: presigned.hostname,
      port: presigned.port === '' ? undefined : Number(presigned.port),
      path: presigned.pathname,
      query,
      headers: { host: presigned.host, 'x-amz-content-sha256': UNSIGNED_PAYLOAD },
    };
    const signed = await this.signerFor(scope).sign(request);

    // The parameters keep the presigner's SigV4 encoding, which S3 decodes the same way as the signed values.
    const search = presigned.search.slice(1).split('&').filter((pair) => !pair.startsWith('X-Amz-')).join('&');
    const { host: _host, ...headers } = signed.headers;
    return { url: `${presigned.origin}${presigned.pathname}${search === '' ? '' : `?${search}`}`, headers };
  }

  private signerFor(scope: { region: string; service: string }): SignatureV4 {
    const cacheKey = `${scope.region}/${scope.service}`;
    let signer = this.signers.get(cacheKey);
    if (!signer) {
      signer = new SignatureV4({
        credentials: this.client.config.credentials,
        region: scope.region,
        service: scope.service,
        sha256: this.client.config.sha256,
        // S3 signs the path as sent, without encoding it a second time.
        uriEscapePath: false,
        applyChecksum: false,
      });
      this.signers.set(cacheKey, signer);
    }
    return signer;
  }
}

/** Reads the region and service from X-Amz-Credential (access key/date/region/service/aws4_request). */
function credentialScopeOf(presigned: URL): { region: string; service: string } {
  const parts = presigned.searchParams.get('X-Amz-Credential')?.split('/') ?? [];
  if (parts.length !== 5) throw new Error('The presigned URL has no valid X-Amz-Credential scope');
  return { region: parts[2]!, service: parts[3]! };
}
