import { signBenchToken } from '../bench-token.js';
import { BENCH_JWT_SECRET, type GatewayProcess } from './gateway-process.js';
import { awaitEcho } from './ready-probe.js';
import { PLAIN_PATH, STICKY_PATH, type Target } from './target.js';

/** The session id h2load sends on the auth + sticky route (h2load cannot vary headers per call). */
const H2LOAD_SESSION_ID = 'bench-h2load-session';

/**
 * The two gateway targets of the h2load runs, on one gateway process: (a) the static round_robin
 * route without auth, (b) the auth + sticky route, where every call carries the same valid token
 * and session id so the gateway verifies the JWT signature on every call. The plain target owns
 * the process; stopping it stops the gateway.
 */
export async function gatewayTargets(gateway: GatewayProcess, probeBody: Buffer): Promise<[Target, Target]> {
  const token = await signBenchToken(BENCH_JWT_SECRET, H2LOAD_SESSION_ID);
  const stickyHeaders = { authorization: token, 'session-id': H2LOAD_SESSION_ID };
  await awaitEcho(gateway.process, gateway.port, PLAIN_PATH, probeBody);
  await awaitEcho(gateway.process, gateway.port, STICKY_PATH, probeBody, stickyHeaders);
  return [
    {
      id: 'gateway',
      label: 'gateway, static route',
      port: gateway.port,
      path: PLAIN_PATH,
      headers: {},
      proxyPid: gateway.process.pid,
      process: gateway.process,
      stop: () => gateway.stop(),
    },
    {
      id: 'gateway-auth-sticky',
      label: 'gateway, JWT + sticky route',
      port: gateway.port,
      path: STICKY_PATH,
      headers: stickyHeaders,
      proxyPid: gateway.process.pid,
      process: gateway.process,
      stop: async () => {},
    },
  ];
}
