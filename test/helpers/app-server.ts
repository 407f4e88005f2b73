import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort } from './local-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SERVER_SCRIPT = path.join(ROOT, 'dist/server.js');
const CLI_SCRIPT = path.join(ROOT, 'bin/reelgate.js');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const CLI_TIMEOUT_MS = 15_000;

export interface Account {
  email: string;
  password: string;
}

const NO_ACCOUNT: Account = { email: '', password: '' };

export interface AppServer {
  baseUrl: string;
  dataDir: string;
  /** The demo accounts the first start printed; empty strings with `demo: false`. */
  admin: Account;
  subscriber: Account;
  /** Everything the process printed so far. */
  output: { stdout: string; stderr: string };
  /** Runs `reelgate ARGS` on the same DATA_DIR and environment as the server and returns its stdout. */
  runCli(args: string[], stdin?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/server.js` as a user would, on a free loopback port and a fresh DATA_DIR, and reads the
 * demo accounts from its console. `env` adds settings such as MEDIA_URL_TTL_SECONDS or the S3 ones.
 */
export async function startAppServer(env: Record<string, string> = {}, options: { demo?: boolean } = {}): Promise<AppServer> {
  if (!fs.existsSync(SERVER_SCRIPT)) {
    throw new Error(`${SERVER_SCRIPT} is missing: run "npm run build" before the e2e tests`);
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-e2e-'));
  const port = await freePort();
  const serverEnv = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...env,
  };

  // The temp dir as cwd keeps a developer's .env in the project folder out of the test: dotenv reads it from cwd.
  const child = spawn(process.execPath, [SERVER_SCRIPT], { cwd: dataDir, env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const baseUrl = `http://127.0.0.1:${port}`;

  try {
    await waitUntilHealthy(baseUrl, child, output);
    const accounts = options.demo === false ? { admin: NO_ACCOUNT, subscriber: NO_ACCOUNT } : await waitForDemoAccounts(output);
    return {
      baseUrl,
      dataDir,
      ...accounts,
      output,
      runCli: (args, stdin) => runCli(args, { cwd: dataDir, env: serverEnv, stdin }),
      stop: () => stopServer(child, dataDir),
    };
  } catch (err) {
    await stopServer(child, dataDir);
    throw err;
  }
}


interface CapturedOutput {
  stdout: string;
  stderr: string;
}

function captureOutput(child: ChildProcess): CapturedOutput {
  const output: CapturedOutput = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output.stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output.stderr += text));
  return output;
}

async function waitUntilHealthy(baseUrl: string, child: ChildProcess, output: CapturedOutput): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`reelgate exited with code ${child.exitCode} before listening:\n${output.stderr}\n${output.stdout}`);
    }
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await delay(100);
  }
  throw new Error(`reelgate did not answer ${baseUrl}/healthz within ${START_TIMEOUT_MS} ms:\n${output.stderr}`);
}

/** Parses the lines that the first start prints, such as "    subscriber: viewer@example.com  <password>". */
async function waitForDemoAccounts(output: CapturedOutput): Promise<{ admin: Account; subscriber: Account }> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const admin = output.stdout.match(/^ {4}admin: +(\S+) {2}(\S+)$/m);
    const subscriber = output.stdout.match(/^ {4}subscriber: +(\S+) {2}(\S+)$/m);
    if (admin && subscriber) {
      return {
        admin: { email: admin[1]!, password: admin[2]! },
        subscriber: { email: subscriber[1]!, password: subscriber[2]! },
      };
    }
    await delay(50);
  }
  throw new Error(`reelgate printed no demo accounts; was the demo seed skipped?\n${output.stderr}`);
}

function runCli(args: string[], options: { cwd: string; env: Record<string, string>; stdin: string | undefined }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [CLI_SCRIPT, ...args],
      { cwd: options.cwd, env: options.env, timeout: CLI_TIMEOUT_MS },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`reelgate ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    child.stdin!.end(options.stdin ?? '');
  });
}

async function stopServer(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const forced = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(forced);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
