/**
 * Returns `candidate` when it is a path on this site, "/" otherwise. Rejects absolute URLs, protocol-relative
 * "//host" and "/\host" (browsers treat a backslash as a slash), and control characters, so the login
 * redirect cannot be turned into an open redirect.
 */
export function safeReturnPath(candidate: unknown): string {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 2048) return '/';
  if (!candidate.startsWith('/') || candidate.startsWith('//') || candidate.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(candidate)) return '/';

  const base = 'http://reelgate.invalid';
  const parsed = new URL(candidate, base);
  if (parsed.origin !== base) return '/';

  const path = `${parsed.pathname}${parsed.search}`;
  return path.startsWith('/login') || path.startsWith('/logout') ? '/' : path;
}
