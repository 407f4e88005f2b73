import { startS3Server } from '../test/helpers/s3-server.js';
import { stopWhenOrphaned } from './child-process.js';

// s3rver in its own process, so that serving objects does not share the load generator's event loop.

const MAX_LIFETIME_MS = 10 * 60_000;

const server = await startS3Server('reelgate-bench');
stopWhenOrphaned(() => server.stop(), MAX_LIFETIME_MS);
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, bucket: server.bucket })}\n`);
