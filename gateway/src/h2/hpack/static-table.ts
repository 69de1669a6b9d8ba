/** RFC 7541 Appendix A: the static table, as parallel arrays indexed 1..61 (index 0 is unused). */
const ENTRIES: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** Number of static entries; HPACK index STATIC_TABLE_LENGTH + 1 is the newest dynamic entry. */
export const STATIC_TABLE_LENGTH = 61;

/** `STATIC_NAMES[i]` is the name of static index i (1..61); `STATIC_NAMES[0]` is ''. */
export const STATIC_NAMES: readonly string[] = ENTRIES.map((entry) => entry[0]);

/** `STATIC_VALUES[i]` is the value of static index i (1..61); `STATIC_VALUES[0]` is ''. */
export const STATIC_VALUES: readonly string[] = ENTRIES.map((entry) => entry[1]);

/**
 * Fields that are always sent as literals never indexed (RFC 7541 6.2.3 and 7.1.3): credentials
 * and cookies are the classic targets of CRIME-style attacks that probe a shared table, and they
 * would also keep secrets alive in the table. All of them happen to have a static name entry.
 */
export const SENSITIVE_NAMES: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
]);

/** What the encoder needs to know about a name that is in the static table. */
export interface StaticName {
  /** Lowest static index with this name, for literals with an indexed name. */
  readonly index: number;
  /**
   * Value → static index of the entries with this name, or null when the only one is
   * `index` with the empty value (most names), which spares the encoder a lookup.
   */
  readonly values: ReadonlyMap<string, number> | null;
  /** Listed in SENSITIVE_NAMES: never indexed. */
  readonly sensitive: boolean;
}

/**
 * Name → static-table facts. Keyed by name first (not by `name\0value`) so the encoder's hot path
 * looks up strings whose hashes V8 has already cached instead of building a key string per field.
 */
export const STATIC_NAME_INFO: ReadonlyMap<string, StaticName> = (() => {
  const byName = new Map<string, { index: number; values: Map<string, number> | null; sensitive: boolean }>();
  for (let index = 1; index <= STATIC_TABLE_LENGTH; index++) {
    const name = STATIC_NAMES[index] as string;
    const value = STATIC_VALUES[index] as string;
    const info = byName.get(name);
    if (info === undefined) {
      byName.set(name, {
        index,
        values: value === '' ? null : new Map([[value, index]]),
        sensitive: SENSITIVE_NAMES.has(name),
      });
    } else {
      // No name has both an empty and a non-empty static value, and no entry repeats.
      (info.values as Map<string, number>).set(value, index);
    }
  }
  return byName;
})();
