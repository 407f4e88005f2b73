import type { Locator, Page } from 'playwright-core';

const UPLOAD_TIMEOUT_MS = 15_000;

/** Locates the table row on /admin/users or /admin/videos whose first cell links to `linkText` (an email or a title). */
export function adminRow(page: Page, linkText: string): Locator {
  return page.getByRole('row').filter({ has: page.getByRole('link', { name: linkText, exact: true }) });
}

/** Clicks a form button that redirects back to an admin page, and returns the flash message shown there. */
export async function submitAndReadFlash(page: Page, button: Locator): Promise<string> {
  await Promise.all([page.waitForEvent('framenavigated'), button.click()]);
  await page.waitForLoadState('domcontentloaded');
  return (await page.locator('.flash').textContent())?.trim() ?? '';
}

/** Clicks Revoke in the user's row on /admin/users and returns the flash message. */
export async function revokeOnUsersPage(page: Page, baseUrl: string, email: string): Promise<string> {
  await page.goto(`${baseUrl}/admin/users`);
  return submitAndReadFlash(page, adminRow(page, email).getByRole('button', { name: 'Revoke', exact: true }));
}

/** Clicks Publish in the video's row on /admin/videos and returns the flash message. */
export async function publishOnVideosPage(page: Page, baseUrl: string, title: string): Promise<string> {
  await page.goto(`${baseUrl}/admin/videos`);
  return submitAndReadFlash(page, adminRow(page, title).getByRole('button', { name: 'Publish', exact: true }));
}

/** Reads the status badge ("draft", "published", "active", "inactive") in a row of an admin table. */
export async function readRowState(page: Page, linkText: string): Promise<string> {
  return ((await adminRow(page, linkText).locator('.state').textContent()) ?? '').trim();
}

/**
 * Collects every value the page assigns to a <progress> element, across navigations. The upload script
 * sets `value` as a property, which no DOM event or MutationObserver reports, so the setter is wrapped.
 */
export async function recordProgressValues(page: Page): Promise<number[]> {
  const values: number[] = [];
  await page.exposeFunction('reportProgressValue', (value: number) => values.push(value));
  await page.addInitScript(() => {
    const property = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value');
    if (!property?.set) return;
    const setValue = property.set;
    const report = (window as unknown as { reportProgressValue(value: number): Promise<void> }).reportProgressValue;
    Object.defineProperty(HTMLProgressElement.prototype, 'value', {
      ...property,
      set(this: HTMLProgressElement, value: number) {
        setValue.call(this, value);
        void report(this.value);
      },
    });
  });
  return values;
}

/**
 * Limits the page's upload rate through the DevTools protocol, so a small file takes long enough for the
 * upload script to report progress below 100%.
 */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const session = await page.context().newCDPSession(page);
  await session.send('Network.enable');
  await session.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

/**
 * Opens the upload page from /admin/videos, picks `filePath` with the title left empty and clicks Upload.
 * Returns the flash message of the video's edit page, where the upload script goes when it is done. On a
 * timeout the error carries the message the form shows, such as the one about the bucket's CORS rule.
 */
export async function uploadOnVideosPage(page: Page, baseUrl: string, filePath: string): Promise<string> {
  await page.goto(`${baseUrl}/admin/videos`);
  await Promise.all([page.waitForURL(`${baseUrl}/admin/videos/upload`), page.getByRole('link', { name: 'Upload a video' }).click()]);
  await page.getByLabel('Video file').setInputFiles(filePath);

  const editPageReached = page.waitForURL((url) => /^\/admin\/videos\/[^/]+$/.test(url.pathname) && url.pathname !== '/admin/videos/upload', {
    timeout: UPLOAD_TIMEOUT_MS,
  });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  try {
    await editPageReached;
  } catch (err) {
    const formMessage = await page.locator('.js-form-message').textContent({ timeout: 1000 }).catch(() => null);
    throw new Error(`the upload timed out after ${UPLOAD_TIMEOUT_MS} ms with the form message ${JSON.stringify(formMessage)}`, { cause: err });
  }

  await page.waitForLoadState('domcontentloaded');
  return (await page.locator('.flash').textContent())?.trim() ?? '';
}
