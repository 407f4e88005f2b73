import type http from 'node:http';

/**
 * A supertest parser that collects the body as one Buffer. superagent hands custom parsers Node's
 * IncomingMessage, although its types name its own Response class.
 */
export function collectBody(res: unknown, callback: (err: Error | null, body: Buffer) => void): void {
  const message = res as http.IncomingMessage;
  const chunks: Buffer[] = [];
  message.on('data', (chunk: Buffer) => chunks.push(chunk));
  message.on('end', () => callback(null, Buffer.concat(chunks)));
}
