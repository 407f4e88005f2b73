import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort, withTimeout } from './local-process.js';

/*
 * A real nginx on 127.0.0.1 in front of an app listening on loopback, for the MEDIA_OFFLOAD=nginx tests and
 * the benchmark. The offload location comes from docs/deploy.md itself, so the guide and the tests cannot
 * drift apart.
 */

export const NGINX_PATH = '/usr/sbin/nginx';
export const NGINX_MISSING_MESSAGE = `nginx tests skipped: ${NGINX_PATH} not found (apt-get install nginx-light)`;
const DEPLOY_GUIDE = path.resolve(import.meta.dirname, '../../docs/deploy.md');
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface NginxServer {
  baseUrl: string;
  pid: number;
  /** The worker process that proxies the bytes (one worker is configured). */
  workerPid(): number;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Returns true when nginx can run. Without nginx a local run skips with a message, but CI (CI=true)
 * installs it, so there its absence is an error.
 */
export function nginxAvailable(): boolean {
  if (fs.existsSync(NGINX_PATH)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${NGINX_PATH} not found, and CI must run the nginx tests: install the Debian package nginx-light in .ci/run`);
  }
  return false;
}

/** Returns the `location = /_reelgate/storage` block of the nginx example in docs/deploy.md. */
function offloadLocationFromGuide(): string {
  const guide = fs.readFileSync(DEPLOY_GUIDE, 'utf8');
  const blocks = [...guide.matchAll(/```nginx\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const block = blocks.find((text) => text.includes('location = /_reelgate/storage'));
  if (block === undefined) throw new Error('docs/deploy.md has no nginx block with location = /_reelgate/storage');
  return block;
}

/** A MEDIA_OFFLOAD_SECRET for the app and for the nginx that startNginx configures. */
export const TEST_OFFLOAD_SECRET = 'offload-secret-for-tests-0123456789abcdef';

/**
 * Starts nginx with one worker, proxying everything to the app at `appPort` the way docs/deploy.md does, with
 * `offloadSecret` in X-Reelgate-Offload.
 */
export async function startNginx(appPort: number, offloadSecret = TEST_OFFLOAD_SECRET): Promise<NginxServer> {
  // World-readable, because nginx started as root runs its worker as the unprivileged user nobody.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgate-nginx-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), configText(dir, port, appPort, offloadSecret));

  const child = spawn(NGINX_PATH, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => readIfPresent(path.join(dir, 'error.log'));

  try {
    await withTimeout(waitForPort(port, child), START_TIMEOUT_MS, `nginx did not listen on ${port}:\n${stderr}\n${errorLog()}`);
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    workerPid: () => workerPidOf(child.pid!),
    errorLog,
    stop: async () => {
      child.kill('SIGTERM');
      await withTimeout(exited, STOP_TIMEOUT_MS, 'nginx did not stop').catch(() => child.kill('SIGKILL'));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function configText(dir: string, port: number, appPort: number, offloadSecret: string): string {
  return `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {
      proxy_pass http://127.0.0.1:${appPort};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_set_header X-Reelgate-Offload "${offloadSecret}";
    }
${offloadLocationFromGuide()}
  }
}
`;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function workerPidOf(masterPid: number): number {
  const children = fs.readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8').trim().split(/\s+/);
  const worker = Number(children[0]);
  if (!Number.isInteger(worker) || worker <= 0) throw new Error(`nginx ${masterPid} has no worker process`);
  return worker;
}

function readIfPresent(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
