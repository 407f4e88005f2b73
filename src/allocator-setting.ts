import type { Config } from './config.js';

/**
 * The glibc malloc setting that `npm start` and the systemd unit in docs/deploy.md apply. With the default
 * trim threshold, glibc returns freed heap memory to the kernel after each garbage collection of streamed
 * chunks, and the next socket reads fault it back in. `npm run bench` measured about a third more CPU per
 * proxied GiB without the setting (docs/benchmarks.md).
 */
export const RECOMMENDED_GLIBC_TUNABLES = 'glibc.malloc.trim_threshold=67108864';

export interface AllocatorFacts {
  /** The glibc version this process runs on, or undefined on another C library (musl, macOS). */
  glibcVersion: string | undefined;
  env: { GLIBC_TUNABLES?: string; MALLOC_TRIM_THRESHOLD_?: string };
  /** True when media bytes pass through this process: proxy delivery (which local storage always uses) without MEDIA_OFFLOAD=nginx. */
  streamsThroughApp: boolean;
}

/**
 * Returns a start-up hint when media streams through this process on glibc with the default malloc trim
 * threshold, or null when the setting is in place or would make no difference.
 */
export function allocatorSettingHint(facts: AllocatorFacts): string | null {
  if (!facts.streamsThroughApp || facts.glibcVersion === undefined) return null;

  const tunables = facts.env.GLIBC_TUNABLES?.split(':') ?? [];
  const thresholdSet = tunables.some((tunable) => tunable.startsWith('glibc.malloc.trim_threshold=')) || facts.env.MALLOC_TRIM_THRESHOLD_ !== undefined;
  if (thresholdSet) return null;

  return (
    `Media streams through this process, and glibc's default malloc trim threshold costs about a third more CPU per byte. ` +
    `Start node with GLIBC_TUNABLES=${RECOMMENDED_GLIBC_TUNABLES} in its environment, as npm start does (see docs/deploy.md).`
  );
}

/** Collects the AllocatorFacts of this process for a configuration. */
export function allocatorFactsOf(config: Pick<Config, 'delivery' | 'mediaOffload'>): AllocatorFacts {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return {
    glibcVersion: report.header?.glibcVersionRuntime,
    env: { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES, MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ },
    streamsThroughApp: config.delivery === 'proxy' && config.mediaOffload === 'none',
  };
}
