import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BenchChild<Ready> {
  pid: number;
  ready: Ready;
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx bench/<script>` and waits for the one JSON line it prints when ready. Running
 * node directly (not the tsx CLI, which forks a second node) makes `pid` the process that does the work,
 * so its RSS and CPU time can be read from /proc.
 */
export async function startBenchChild<Ready>(script: string, options: unknown, env: Record<string, string | undefined> = {}): Promise<BenchChild<Ready>> {
  const scriptPath = path.join(import.meta.dirname, script);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--disable-warning=NodeVersionSupportWarning', scriptPath, JSON.stringify(options)],
    { env: childEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));

  try {
    const ready = await readyLine<Ready>(child, () => stderr);
    return { pid: child.pid!, ready, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

/** This process's environment with `changes` applied; an undefined value removes the variable. */
function childEnvironment(changes: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function readyLine<Ready>(child: ChildProcess, stderr: () => string): Promise<Ready> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`bench child did not start within ${START_TIMEOUT_MS} ms:\n${stderr()}`)), START_TIMEOUT_MS);

    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(stdout.slice(0, newline)) as Ready);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench child exited with code ${code} before it was ready:\n${stderr()}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(forced);
}

/** Stops a child process by itself when its parent goes away (stdin closes) or after `maxLifetimeMs`. */
export function stopWhenOrphaned(stop: () => Promise<void>, maxLifetimeMs: number): void {
  let stopping = false;
  const stopOnce = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };

  process.on('SIGTERM', stopOnce);
  process.on('SIGINT', stopOnce);
  process.stdin.on('end', stopOnce).resume();
  setTimeout(stopOnce, maxLifetimeMs).unref();
}
