import type { AppProcessOptions, AppProcessReady } from './app-process.js';
import { startBenchChild, type BenchChild } from './child-process.js';
import { MEDIA } from './plan.js';

/** Every child process this run has started and not yet stopped, so that the run can stop them all at the end. */
const children: BenchChild<unknown>[] = [];

/**
 * Starts an app process. `config` reaches the app as its configuration. `processEnv` goes into the process
 * environment before node starts, as a start script's variables do, because the C library reads some of
 * them only at start.
 */
export async function startApp(config: Record<string, string>, pageRows: number, processEnv: Record<string, string | undefined> = {}): Promise<BenchChild<AppProcessReady>> {
  const options: AppProcessOptions = { env: { LOG_LEVEL: 'warn', ...config }, extraVideos: pageRows, extraUsers: pageRows, media: MEDIA };
  return startChild<AppProcessReady>('app-process.ts', options, processEnv);
}

export async function startChild<Ready>(script: string, options: unknown, processEnv: Record<string, string | undefined> = {}): Promise<BenchChild<Ready>> {
  const child = await startBenchChild<Ready>(script, options, processEnv);
  children.push(child as BenchChild<unknown>);
  return child;
}

export async function stopChild(child: BenchChild<unknown>): Promise<void> {
  await child.stop();
  children.splice(children.indexOf(child), 1);
}

/** Stops every child that is still running, when the run ends and also after an error. */
export async function stopAllChildren(): Promise<void> {
  await Promise.allSettled(children.map((child) => child.stop()));
}

export function log(message: string): void {
  console.log(`[bench] ${message}`);
}
