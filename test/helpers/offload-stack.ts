import type http from 'node:http';
import type { AddressInfo } from 'node:net';

import { startNginx, TEST_OFFLOAD_SECRET, type NginxServer } from './nginx-server.js';
import { startS3Server, type S3TestServer } from './s3-server.js';
import { createTestApp, type TestApp } from './test-app.js';

/** s3rver, an app with S3 proxy delivery and MEDIA_OFFLOAD=nginx listening on loopback, and nginx in front. */
export interface OffloadStack {
  s3: S3TestServer;
  testApp: TestApp;
  /** The app itself, without nginx in between. */
  appBaseUrl: string;
  nginx: NginxServer;
  stop(): Promise<void>;
}

export async function startOffloadStack(env: Record<string, string> = {}): Promise<OffloadStack> {
  const s3 = await startS3Server();
  const testApp = await createTestApp({
    STORAGE: 's3',
    MEDIA_DELIVERY: 'proxy',
    MEDIA_OFFLOAD: 'nginx',
    MEDIA_OFFLOAD_SECRET: TEST_OFFLOAD_SECRET,
    TRUST_PROXY: '1',
    S3_BUCKET: s3.bucket,
    S3_REGION: 'us-east-1',
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    ...env,
  });
  const appServer: http.Server = testApp.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => appServer.once('listening', () => resolve()));
  const appPort = (appServer.address() as AddressInfo).port;
  const nginx = await startNginx(appPort);

  return {
    s3,
    testApp,
    appBaseUrl: `http://127.0.0.1:${appPort}`,
    nginx,
    stop: async () => {
      await nginx.stop();
      appServer.closeAllConnections();
      await new Promise<void>((resolve) => appServer.close(() => resolve()));
      await testApp.close();
      await s3.stop();
    },
  };
}
