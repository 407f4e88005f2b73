import type { Readable } from 'node:stream';

/** Where a CLI run reads and writes; tests pass their own. */
export interface CliIo {
  stdin: Readable;
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** An expected failure: its message is printed as one line and the run exits with 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

const MAX_STDIN_BYTES = 64 * 1024;

/** Reads all of standard input as UTF-8, without the trailing line break that `echo` adds. */
export async function readStdin(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buffer.length;
    if (total > MAX_STDIN_BYTES) throw new CliError(`standard input is longer than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
