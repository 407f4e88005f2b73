/** Logs in through the app's form as a browser would and returns the Cookie header for later requests. */
export async function loginCookie(baseUrl: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${baseUrl}/login`);
  const csrfToken = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrfToken) throw new Error(`GET ${baseUrl}/login returned no CSRF token (status ${page.status})`);

  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(page.headers) },
    body: new URLSearchParams({ _csrf: csrfToken, email, password }),
  });
  if (response.status !== 303) throw new Error(`Login as ${email} failed with status ${response.status}`);

  return cookieHeader(response.headers);
}

function cookieHeader(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}
