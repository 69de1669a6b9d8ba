import { once } from 'node:events';
import {
  type ClientHttp2Session,
  connect,
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { http2Exchange } from '@stickygw/testkit';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayYaml } from '../config/load-config.js';
import type { RouteConfig } from '../config/types.js';
import { H2Server } from '../h2/server.js';
import { route, type StartedGateway, startTestGateway, staticCluster } from '../test-support/test-gateway.js';

const SECRET = 'header-hygiene-secret';
const SESSION = 'session-hygiene';
/** One empty gRPC message: the gateway relays bytes, so the backend never decodes it. */
const EMPTY_MESSAGE = Buffer.alloc(5);

/** What a backend may try to set on the client; every name here must be dropped on the way back. */
const ORIGIN_WIDE = {
  'set-cookie': ['sid=backend-planted; Path=/'],
  'alt-svc': 'h2=":9999"; ma=86400',
  'strict-transport-security': 'max-age=31536000',
  'clear-site-data': '"cookies"',
};

interface RecordingBackend {
  readonly port: number;
  /** Request headers of every stream received, in arrival order. */
  readonly received: IncomingHttpHeaders[];
  stop(): Promise<void>;
}

/**
 * A node:http2 backend that records the request headers it received and answers by path:
 * `/.../Trailers` with response headers and trailers carrying the origin-wide fields, `/.../Only`
 * with a trailers-only answer carrying them, anything else with a plain trailers-only OK.
 */
async function startRecordingBackend(): Promise<RecordingBackend> {
  const server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  const received: IncomingHttpHeaders[] = [];
  server.on('session', (session) => sessions.add(session));
  server.on('stream', (stream, headers) => {
    received.push(headers);
    stream.resume();
    const path = String(headers[':path']);
    stream.on('end', () => {
      if (path.endsWith('/Trailers')) {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'x-kept': 'header', ...ORIGIN_WIDE },
          { waitForTrailers: true },
        );
        stream.on('wantTrailers', () =>
          stream.sendTrailers({ 'grpc-status': '0', 'x-kept-trailer': 'trailer', ...ORIGIN_WIDE }),
        );
        stream.end(EMPTY_MESSAGE);
      } else if (path.endsWith('/Only')) {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0', ...ORIGIN_WIDE },
          { endStream: true },
        );
      } else {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' },
          { endStream: true },
        );
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

function token(): Promise<string> {
  return new SignJWT({ login: 'TestUser', role: 'admin', session_id: SESSION })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
}

const withOptions = (base: RouteConfig, options: Partial<RouteConfig>): RouteConfig => ({
  ...base,
  ...options,
});

describe('header hygiene between client and backend', () => {
  let backend: RecordingBackend;
  let gw: StartedGateway;
  let session: ClientHttp2Session;
  let bearer: string;
  /** Sends what node:http2 refuses to: a response with a connection-specific field. */
  let hopByHop: H2Server;

  beforeAll(async () => {
    backend = await startRecordingBackend();
    hopByHop = new H2Server({
      onStream: (stream) =>
        stream.respond([':status', '200', 'content-type', 'application/grpc', 'connection', 'close'], false),
    });
    const hopByHopPort = await hopByHop.listen(0);
    bearer = `Bearer ${await token()}`;
    gw = await startTestGateway({
      jwtSecret: SECRET,
      routes: [
        route('/open.v1.', 'backend'),
        withOptions(route('/forward.v1.', 'backend'), { forwardAuthorization: true }),
        withOptions(route('/strip.v1.', 'backend'), { stripRequestHeaders: ['x-internal', 'cookie'] }),
        withOptions(route('/jwt.v1.', 'backend', 'session-id'), { authorization: 'required' }),
        withOptions(route('/sticky.v1.', 'backend', 'session-id'), {
          authorization: 'required',
          stripRequestHeaders: ['session-id', 'authorization'],
        }),
        route('/hop.v1.', 'hop-by-hop'),
        // The YAML spelling of the same settings, through the loader.
        ...parseGatewayYaml(
          [
            'routes:',
            '  - prefix: /yaml.v1.',
            '    cluster: backend',
            '    strip_request_headers: [X-Internal]',
            '    forward_authorization: true',
            'clusters:',
            '  backend: { type: static, address: "127.0.0.1:1" }',
          ].join('\n'),
        ).routes,
      ],
      clusters: [
        staticCluster('backend', `127.0.0.1:${backend.port}`),
        staticCluster('hop-by-hop', `127.0.0.1:${hopByHopPort}`),
      ],
    });
    session = connect(`http://${gw.address}`);
  });

  afterAll(async () => {
    session?.close();
    await gw?.close();
    await backend?.stop();
    await hopByHop?.close(100);
  });

  /** One call through the gateway; the backend's record of it is the last one. */
  async function call(path: string, extra: OutgoingHttpHeaders = {}) {
    const before = backend.received.length;
    const exchange = await http2Exchange(
      session,
      {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'session-id': SESSION,
        authorization: bearer,
        'x-internal': 'from-client',
        cookie: 'client=1',
        'x-app': 'kept',
        ...extra,
      },
      EMPTY_MESSAGE,
    );
    expect(backend.received.length).toBe(before + 1);
    return { exchange, upstream: backend.received.at(-1) as IncomingHttpHeaders };
  }

  it('an authorization: none route drops authorization and forwards everything else', async () => {
    const { exchange, upstream } = await call('/open.v1.Svc/Call');
    expect(exchange.headers?.['grpc-status']).toBe('0');
    expect(upstream.authorization).toBeUndefined();
    expect(upstream['session-id']).toBe(SESSION);
    expect(upstream['x-internal']).toBe('from-client');
    expect(upstream['x-app']).toBe('kept');
  });

  it('forward_authorization: true keeps authorization on an authorization: none route', async () => {
    const { upstream } = await call('/forward.v1.Svc/Call');
    expect(upstream.authorization).toBe(bearer);
  });

  it('strip_request_headers removes the named headers (and authorization, by the none default)', async () => {
    const { exchange, upstream } = await call('/strip.v1.Svc/Call');
    expect(exchange.headers?.['grpc-status']).toBe('0');
    expect(upstream['x-internal']).toBeUndefined();
    expect(upstream.cookie).toBeUndefined();
    expect(upstream.authorization).toBeUndefined();
    expect(upstream['x-app']).toBe('kept');
    expect(upstream['content-type']).toBe('application/grpc');
    expect(upstream.te).toBe('trailers');
  });

  it('reads both settings from the YAML file', async () => {
    const { upstream } = await call('/yaml.v1.Svc/Call');
    expect(upstream['x-internal']).toBeUndefined();
    expect(upstream.authorization).toBe(bearer);
    expect(upstream.cookie).toBe('client=1');
  });

  it('a JWT route forwards the token the backend verifies again', async () => {
    const { exchange, upstream } = await call('/jwt.v1.Svc/Call');
    expect(exchange.headers?.['grpc-status']).toBe('0');
    expect(upstream.authorization).toBe(bearer);
    expect(upstream['session-id']).toBe(SESSION);
  });

  it('stripped headers still reach the JWT check and the sticky balancer', async () => {
    const { exchange, upstream } = await call('/sticky.v1.Svc/Call');
    expect(exchange.headers?.['grpc-status']).toBe('0');
    expect(upstream['session-id']).toBeUndefined();
    expect(upstream.authorization).toBeUndefined();
    const refused = await http2Exchange(
      session,
      {
        ':method': 'POST',
        ':path': '/sticky.v1.Svc/Call',
        'content-type': 'application/grpc',
        te: 'trailers',
      },
      EMPTY_MESSAGE,
    );
    expect(refused.headers?.['grpc-status']).toBe('16');
  });

  it('origin-wide fields a backend sets are dropped from response headers and trailers', async () => {
    const { exchange } = await call('/open.v1.Svc/Trailers');
    expect(exchange.body).toEqual(EMPTY_MESSAGE);
    expect(exchange.headers?.['x-kept']).toBe('header');
    expect(exchange.trailers?.['grpc-status']).toBe('0');
    expect(exchange.trailers?.['x-kept-trailer']).toBe('trailer');
    for (const name of Object.keys(ORIGIN_WIDE)) {
      expect(exchange.headers?.[name], name).toBeUndefined();
      expect(exchange.trailers?.[name], name).toBeUndefined();
    }
  });

  it('and from a trailers-only answer', async () => {
    const { exchange } = await call('/open.v1.Svc/Only');
    expect(exchange.headers?.['grpc-status']).toBe('0');
    for (const name of Object.keys(ORIGIN_WIDE)) expect(exchange.headers?.[name], name).toBeUndefined();
  });

  it('a response with a connection-specific field is malformed: the call fails as UNAVAILABLE', async () => {
    const exchange = await http2Exchange(
      session,
      { ':method': 'POST', ':path': '/hop.v1.Svc/Call', 'content-type': 'application/grpc', te: 'trailers' },
      EMPTY_MESSAGE,
    );
    expect(exchange.headers?.connection).toBeUndefined();
    expect(exchange.headers?.['grpc-status'] ?? exchange.trailers?.['grpc-status']).toBe('14');
  });
});
