import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { allocatorFactsOf, allocatorSettingHint, RECOMMENDED_GLIBC_TUNABLES, type AllocatorFacts } from '../src/allocator-setting.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('allocatorSettingHint', () => {
  const glibcProxy: AllocatorFacts = { glibcVersion: '2.36', env: {}, streamsThroughApp: true };

  it.each<[string, AllocatorFacts, boolean]>([
    ['glibc, proxy, no setting', glibcProxy, true],
    ['glibc, proxy, recommended tunable', { ...glibcProxy, env: { GLIBC_TUNABLES: RECOMMENDED_GLIBC_TUNABLES } }, false],
    ['glibc, proxy, own threshold among tunables', { ...glibcProxy, env: { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=1048576' } }, false],
    ['glibc, proxy, other tunables only', { ...glibcProxy, env: { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' } }, true],
    ['glibc, proxy, MALLOC_TRIM_THRESHOLD_', { ...glibcProxy, env: { MALLOC_TRIM_THRESHOLD_: '67108864' } }, false],
    ['glibc, redirect delivery', { ...glibcProxy, streamsThroughApp: false }, false],
    ['musl or macOS, proxy', { ...glibcProxy, glibcVersion: undefined }, false],
  ])('%s', (_name, facts, expectHint) => {
    const hint = allocatorSettingHint(facts);

    if (expectHint) {
      expect(hint).toContain(`GLIBC_TUNABLES=${RECOMMENDED_GLIBC_TUNABLES}`);
      expect(hint).toContain('docs/deploy.md');
    } else {
      expect(hint).toBeNull();
    }
  });
});

describe('allocatorFactsOf', () => {
  it.each<[string, Parameters<typeof allocatorFactsOf>[0], boolean]>([
    ['proxy delivery', { delivery: 'proxy', mediaOffload: 'none' }, true],
    ['proxy delivery offloaded to nginx', { delivery: 'proxy', mediaOffload: 'nginx' }, false],
    ['redirect delivery', { delivery: 'redirect', mediaOffload: 'none' }, false],
  ])('%s', (_name, config, streamsThroughApp) => {
    expect(allocatorFactsOf(config).streamsThroughApp).toBe(streamsThroughApp);
  });
});

describe('recommended malloc setting in the start commands', () => {
  it('is set by the npm start script', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };

    expect(pkg.scripts.start).toBe(`GLIBC_TUNABLES=${RECOMMENDED_GLIBC_TUNABLES} node dist/server.js`);
  });

  it('is set by the systemd unit in docs/deploy.md', () => {
    const deployGuide = fs.readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');

    expect(deployGuide).toContain(`Environment=GLIBC_TUNABLES=${RECOMMENDED_GLIBC_TUNABLES}\n`);
  });
});
