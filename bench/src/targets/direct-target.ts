import { PLAIN_PATH, type Target } from './target.js';

/** The backend without any proxy: the limit every proxy is compared with. */
export function directTarget(backendPort: number): Target {
  return {
    id: 'direct',
    label: 'backend direct (node:http2)',
    port: backendPort,
    path: PLAIN_PATH,
    headers: {},
    proxyPid: undefined,
    stop: async () => {},
  };
}
