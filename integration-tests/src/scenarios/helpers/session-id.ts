/** Local time as `yyyyMMddHHmmss` (REFERENCE.md 7.2). */
export function timestamp(now = new Date()): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    String(now.getFullYear()) +
    pad(now.getMonth() + 1) +
    pad(now.getDate()) +
    pad(now.getHours()) +
    pad(now.getMinutes()) +
    pad(now.getSeconds())
  );
}

/** `integration-test-session-<part>-<timestamp>`, or `integration-test-session-<timestamp>` without a part. */
export function sessionId(part?: string): string {
  return part === undefined
    ? `integration-test-session-${timestamp()}`
    : `integration-test-session-${part}-${timestamp()}`;
}
