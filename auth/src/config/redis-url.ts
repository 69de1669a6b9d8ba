/**
 * Checks a Redis URL (`redis://[user:pass@]host:port[/db]`, or `rediss://`) the way go-redis' ParseURL
 * does; returns the reference's `cant parse redis url: <error>` message, or `undefined` when the URL
 * is fine. The URL is never echoed: it may carry a password. The connection itself is not tried
 * (REFERENCE.md 3.1).
 */
export function redisUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'cant parse redis url: not a valid URL';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return `cant parse redis url: invalid URL scheme: ${url.protocol.slice(0, -1)}`;
  }
  if (url.hostname === '') return 'cant parse redis url: missing host';
  const database = url.pathname.replace(/^\//, '');
  if (database !== '' && !/^\d+$/.test(database)) {
    return `cant parse redis url: invalid database number: ${JSON.stringify(database)}`;
  }
  return undefined;
}
