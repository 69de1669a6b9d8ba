/**
 * Where the shared session store lives: `redis://[user:password@]host:port[/db]` for one Redis,
 * `redis+cluster://[user:password@]host:port,host:port,...` for a Redis Cluster (the seeds ioredis'
 * Cluster client starts from); `rediss` and `rediss+cluster` use TLS.
 */
export interface SessionStoreAddress {
  readonly cluster: boolean;
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly seeds: readonly { readonly host: string; readonly port: number }[];
  /** Database number; a Redis Cluster has only database 0. */
  readonly db: number;
}

const STORE_URL = /^(rediss?)(\+cluster)?:\/\/(?:([^@/]*)@)?([^/?#@]+)(?:\/([0-9]{0,2}))?$/;
const SEED = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/@,]+):([0-9]{1,5})$/;

/** The address a `session_store.url` names, or undefined when it is not one of the forms above. */
export function parseSessionStoreUrl(url: string): SessionStoreAddress | undefined {
  const match = STORE_URL.exec(url);
  if (match === null) return undefined;
  const [, scheme, cluster, credentials, hosts = '', db = ''] = match;
  const seeds: { host: string; port: number }[] = [];
  for (const seed of hosts.split(',')) {
    const parts = SEED.exec(seed);
    const port = Number(parts?.[2]);
    if (parts === null || port < 1 || port > 65_535) return undefined;
    const host = parts[1] as string;
    seeds.push({ host: host.startsWith('[') ? host.slice(1, -1) : host, port });
  }
  if (cluster === undefined && seeds.length > 1) return undefined;
  if (cluster !== undefined && db !== '' && db !== '0') return undefined;
  const colon = credentials?.indexOf(':') ?? -1;
  return {
    cluster: cluster !== undefined,
    tls: scheme === 'rediss',
    username:
      credentials === undefined ? undefined : decode(colon < 0 ? credentials : credentials.slice(0, colon)),
    password: credentials === undefined || colon < 0 ? undefined : decode(credentials.slice(colon + 1)),
    seeds,
    db: db === '' ? 0 : Number(db),
  };
}

function decode(part: string): string | undefined {
  if (part === '') return undefined;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** For start-up messages: the URL without its password. */
export function redactedStoreUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
