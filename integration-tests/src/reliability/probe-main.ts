import { readFileSync } from 'node:fs';
import { startProbeServer } from './probe-server.js';

/**
 * `node integration-tests/dist/reliability/probe-main.js`: one probe instance (probe-service.ts),
 * registered at a discoverer like a worker (REFERENCE.md 5.6) so the gateway finds it through a
 * dynamic cluster. Env: `INSTANCE_ID` and `MY_DISCOVERER_URL` (required), `SERVICE_PORT_GRPC`
 * (default 0 = free port), `LISTEN_HOST` / `DISCOVERABLE_HOST` (default 127.0.0.1),
 * `REGISTRATION_TTL_MS` (default 60000), `REGISTRATION_HEARTBEAT_INTERVAL_MS` (default 1000),
 * `DISCOVERER_TOKEN_FILE` (a secured stack's discoverer token).
 * Logs one JSON line `{"msg":"listening","port":N}`, like the worker.
 */

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: Date.now(), ...fields })}\n`);
}

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (value === undefined || value === '') {
    process.stderr.write(`${name} is required\n`);
    process.exit(1);
  }
  return value;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`${name} must be a non-negative integer, got ${raw}\n`);
    process.exit(1);
  }
  return value;
}

const instanceId = required('INSTANCE_ID');
const discovererUrl = required('MY_DISCOVERER_URL').replace(/\/+$/, '');
const listenHost = process.env.LISTEN_HOST?.trim() || '127.0.0.1';
const advertisedHost = process.env.DISCOVERABLE_HOST?.trim() || '127.0.0.1';
const ttlMs = integer('REGISTRATION_TTL_MS', 60_000);
const heartbeatMs = integer('REGISTRATION_HEARTBEAT_INTERVAL_MS', 1_000);
// A secured stack's discoverer wants its token, like the workers send it.
const tokenFile = process.env.DISCOVERER_TOKEN_FILE?.trim();
const authorization: Record<string, string> = tokenFile
  ? { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` }
  : {};

const server = await startProbeServer(instanceId, listenHost, integer('SERVICE_PORT_GRPC', 0));
let stopping = false;
let timer: NodeJS.Timeout | undefined;

const stop = async (reason: string) => {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  log({ msg: 'stopping', reason });
  await server.stop(2_000);
  process.exit(0);
};
process.once('SIGTERM', () => void stop('SIGTERM'));
process.once('SIGINT', () => void stop('SIGINT'));
log({ msg: 'listening', port: server.port, instanceId });

/** Registers, then heartbeats; failures are retried at the heartbeat interval (bounded by the TTL). */
async function register(): Promise<void> {
  try {
    const response = await fetch(`${discovererUrl}/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization },
      body: JSON.stringify({
        instance_id: instanceId,
        service_type: 'probe',
        ipv4: advertisedHost,
        port: server.port,
        timestamp: new Date().toISOString(),
        ttl_ms: ttlMs,
      }),
      signal: AbortSignal.timeout(2_000),
    });
    await response.arrayBuffer();
    if (!response.ok) log({ msg: 'registration refused', status: response.status });
  } catch (error) {
    log({ msg: 'registration failed', err: String(error) });
  }
  if (!stopping) timer = setTimeout(() => void register(), heartbeatMs);
}
void register();
