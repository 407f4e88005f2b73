import net from 'node:net';

/*
 * A lean HTTP/1.1 GET for the throughput figures. It reads every response into one reused buffer (the
 * `onread` option of net.connect) and only counts the body bytes. The load generator then allocates
 * nothing per chunk, and its own CPU cost stays small and equal on both paths being compared.
 */

const READ_BUFFER_BYTES = 256 * 1024;
const HEADER_LIMIT_BYTES = 64 * 1024;

export interface RawRequest {
  url: string;
  headers: Record<string, string>;
}

/** Downloads the whole body of a 200 response and resolves with its length in bytes. */
export function rawDownload(request: RawRequest, readBuffer: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)): Promise<number> {
  const url = new URL(request.url);
  if (url.protocol !== 'http:') throw new Error(`rawDownload supports http URLs only, not ${url.protocol}`);

  return new Promise((resolve, reject) => {
    const parser = new ResponseCounter(`GET ${url.pathname}`);
    const socket = net.connect({
      host: url.hostname,
      port: Number(url.port || 80),
      onread: {
        buffer: readBuffer,
        callback: (bytes) => {
          try {
            if (parser.consume(readBuffer.subarray(0, bytes))) {
              socket.destroy();
              resolve(parser.bodyBytes);
            }
          } catch (err) {
            socket.destroy();
            reject(err as Error);
          }
          return true;
        },
      },
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`GET ${url.pathname}: the connection closed after ${parser.bodyBytes} body bytes`)));
    socket.write(requestHead(url, request.headers));
  });
}

function requestHead(url: URL, headers: Record<string, string>): string {
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Parses the status line and Content-Length of one response, then counts its body bytes. */
class ResponseCounter {
  bodyBytes = 0;
  private head = '';
  private contentLength: number | undefined;

  constructor(private readonly label: string) {}

  /** Returns true once the whole body has arrived. */
  consume(chunk: Buffer): boolean {
    if (this.contentLength === undefined) {
      const bodyStart = this.readHead(chunk);
      if (bodyStart < 0) return false;
      chunk = chunk.subarray(bodyStart);
    }
    this.bodyBytes += chunk.length;
    return this.bodyBytes >= this.contentLength!;
  }

  /** Adds header bytes; returns where the body starts in `chunk`, or -1 while the head is incomplete. */
  private readHead(chunk: Buffer): number {
    const before = this.head.length;
    this.head += chunk.toString('latin1');
    const end = this.head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.head.length > HEADER_LIMIT_BYTES) throw new Error(`${this.label}: the response head is over ${HEADER_LIMIT_BYTES} bytes`);
      return -1;
    }

    const status = /^HTTP\/1\.1 (\d{3})/.exec(this.head)?.[1];
    if (status !== '200') throw new Error(`${this.label} returned status ${status ?? 'unreadable'}`);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(this.head.slice(0, end))?.[1];
    if (length === undefined) throw new Error(`${this.label}: the response has no Content-Length`);

    this.contentLength = Number(length);
    return end + 4 - before;
  }
}
