import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

import { stopWhenOrphaned } from './child-process.js';

/*
 * The smallest useful Node.js proxy, as a floor for the proxy streaming figures: every GET fetches one fixed
 * URL with node:http and pipes the body into the response. It checks no session, signature or Range, so the
 * gap between its CPU cost per GiB and the app's is what reelgate itself adds to Node's HTTP streaming.
 */

const MAX_LIFETIME_MS = 10 * 60_000;

const { target } = JSON.parse(process.argv[2] ?? '{}') as { target: string };
const upstreamAgent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const upstream = http.get(target, { agent: upstreamAgent }, (body) => {
    res.writeHead(body.statusCode ?? 502, { 'Content-Length': body.headers['content-length'] ?? '0' });
    pipeline(body, res).catch(() => res.destroy());
  });
  upstream.on('error', () => res.destroy());
  req.on('close', () => upstream.destroy());
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })}\n`);
});

stopWhenOrphaned(async () => {
  server.closeAllConnections();
  upstreamAgent.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}, MAX_LIFETIME_MS);
