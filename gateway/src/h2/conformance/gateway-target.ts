/**
 * The gateway itself as a conformance target: its real listener and pipeline (`createGateway`), as
 * users and the independent suite meet it. It answers every non-gRPC request with an HTTP error and
 * a short text body (GET → 405, HEAD → 405 without body, POST without application/grpc → 415), so
 * every case that needs a response, or response DATA for flow control, has one.
 */
import { startTestGateway, staticCluster } from '../../test-support/test-gateway.js';
import type { RunningTarget } from './node-target.js';

export async function startGatewayTarget(): Promise<RunningTarget> {
  let answered = 0;
  const gw = await startTestGateway({
    routes: [],
    // Never called: no request of the suite is gRPC. The cluster exists to make the config valid.
    clusters: [staticCluster('unused', '127.0.0.1:9')],
    deps: {
      accessLog: {
        record() {
          answered++;
        },
        close() {},
      },
    },
  });
  return {
    host: '127.0.0.1',
    port: gw.port,
    answered: () => answered,
    close: () => gw.close(100),
  };
}
