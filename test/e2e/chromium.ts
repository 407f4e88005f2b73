import fs from 'node:fs';

import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_MISSING_MESSAGE = `e2e skipped: ${CHROMIUM_PATH} not found (apt-get install chromium)`;

// Debian's Chromium, never a downloaded build. Autoplay is allowed so tests can call play() without a click.
const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--mute-audio',
];
const LAUNCH_TIMEOUT_MS = 15_000;

/**
 * Returns true when the e2e tests can run. Without Chromium a local run skips with a message, but CI
 * (CI=true) installs Chromium, so there its absence is an error.
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${CHROMIUM_PATH} not found, and CI must run the e2e tests: install the Debian package chromium in .ci/run`);
  }
  return false;
}

/** Launches headless Chromium; playwright-core gives each launch a fresh temporary profile. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: LAUNCH_ARGS, timeout: LAUNCH_TIMEOUT_MS });
}
