import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.js';
import { ADMIN_PAGE } from './admin-page.js';
import type { ActionResult, AdminActions, AdminView } from './admin-view.js';

/** The Prometheus exposition: prom-client's registry, or the primary's aggregate of its workers. */
interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface AdminServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** ADMIN_TOKEN: required on every request when set; POST actions are refused without one configured. */
  readonly token: string | undefined;
  readonly metrics: MetricsSource;
  readonly view: AdminView;
  readonly actions: AdminActions;
  readonly logger: Logger;
}

const ACTION = /^\/api\/clusters\/([^/]+)\/(instances|sessions)\/([^/]+)\/(drain|release)$/;

/**
 * The admin listener (README "Admin listener and metrics"): `/metrics`, `/healthz`, `/readyz`, the
 * admin page at `/` and its JSON under `/api/`, and the POST actions. Plain node:http on its own
 * port: it is not the gRPC data path.
 */
export class AdminServer {
  private readonly server: Server;
  private readonly tokenDigest: Buffer | undefined;

  constructor(private readonly options: AdminServerOptions) {
    this.tokenDigest = options.token === undefined ? undefined : digest(options.token);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((err: unknown) => {
        options.logger.error({ err: String(err), url: request.url }, 'admin request failed');
        if (!response.headersSent) json(response, 500, { error: 'internal error' });
        else response.destroy();
      });
    });
  }

  /** Resolves with the bound port; rejects e.g. with EADDRINUSE. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : this.options.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (method === 'POST') {
      if (this.tokenDigest === undefined) {
        json(response, 403, { error: 'actions need ADMIN_TOKEN to be set' });
        return;
      }
      if (!this.authorized(request)) {
        unauthorized(response);
        return;
      }
      await this.action(path, response);
      return;
    }
    if (this.tokenDigest !== undefined && !this.authorized(request)) {
      unauthorized(response);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD, POST' }).end();
      return;
    }
    const view = this.options.view;
    switch (path) {
      case '/healthz':
        text(response, 200, 'ok\n', 'text/plain; charset=utf-8');
        return;
      case '/readyz': {
        const report = await view.readiness();
        const failing = Object.entries(report.checks)
          .filter(([, passed]) => !passed)
          .map(([name]) => name);
        json(response, report.ready ? 200 : 503, { ready: report.ready, failing, checks: report.checks });
        return;
      }
      case '/metrics':
        text(response, 200, await this.options.metrics.text(), this.options.metrics.contentType);
        return;
      case '/':
        text(response, 200, ADMIN_PAGE, 'text/html; charset=utf-8', {
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        });
        return;
      case '/api/routes':
        json(response, 200, await view.routes());
        return;
      case '/api/clusters':
        json(response, 200, await view.clusters());
        return;
      case '/api/sessions':
        json(response, 200, await view.sessions());
        return;
      case '/api/stats':
        json(response, 200, await view.stats());
        return;
      default:
        json(response, 404, { error: `no such admin endpoint: ${path}` });
    }
  }

  private async action(path: string, response: ServerResponse): Promise<void> {
    const actions = this.options.actions;
    if (path === '/api/reload') {
      if (actions.reload === undefined) {
        json(response, 501, { error: 'this gateway has no live reload' });
        return;
      }
      try {
        await actions.reload();
      } catch (err) {
        json(response, 422, { error: err instanceof Error ? err.message : String(err) });
        return;
      }
      json(response, 200, { result: 'done' });
      return;
    }
    const match = ACTION.exec(path);
    const kind = match?.[2];
    const verb = match?.[4];
    if (match === null || (kind === 'instances') !== (verb === 'drain')) {
      json(response, 404, { error: `no such admin action: ${path}` });
      return;
    }
    let cluster: string;
    let target: string;
    try {
      cluster = decodeURIComponent(match[1] as string);
      target = decodeURIComponent(match[3] as string);
    } catch {
      json(response, 400, { error: 'malformed path' });
      return;
    }
    let result: ActionResult;
    if (verb === 'release') {
      result = await actions.release(cluster, target);
    } else {
      if (actions.drain === undefined) {
        json(response, 501, { error: 'this gateway has no instance drain' });
        return;
      }
      result = await actions.drain(cluster, target);
    }
    json(response, result === 'done' ? 200 : 404, { result });
  }

  private authorized(request: IncomingMessage): boolean {
    const header = request.headers.authorization;
    const expected = this.tokenDigest;
    if (expected === undefined || header === undefined || !header.startsWith('Bearer ')) return false;
    // Digests of equal length, compared in constant time: neither the token nor its length leaks.
    return timingSafeEqual(digest(header.slice('Bearer '.length)), expected);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function unauthorized(response: ServerResponse): void {
  response.setHeader('www-authenticate', 'Bearer realm="gateway admin"');
  json(response, 401, { error: 'missing or wrong admin token' });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  text(response, status, `${JSON.stringify(body)}\n`, 'application/json');
}

function text(
  response: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(body);
}
