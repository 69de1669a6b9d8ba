import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_UNARY, ProbeBackend, type ProbeReply } from '../test-support/probe-backend.js';
import {
  PROBE_PREFIX,
  route,
  type StartedGateway,
  startTestGateway,
  staticCluster,
} from '../test-support/test-gateway.js';

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every child started here, killed in afterAll if still running. */
const children = new Set<ReturnType<typeof spawn>>();

/** Runs a tool to completion (killed after `timeoutMs`); never blocks the event loop the gateway runs on. */
function run(command: string, args: readonly string[], timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('latin1');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('latin1');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (signal === 'SIGKILL') {
        reject(
          new Error(
            `${command} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}${stderr}`,
          ),
        );
        return;
      }
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails (never skips) when a tool is missing, naming the Debian package that has it. */
async function requireTool(command: string, debianPackage: string, mustInclude?: string): Promise<void> {
  let output: RunResult;
  try {
    output = await run(command, ['--version'], 10_000);
  } catch (error) {
    throw new Error(
      `${command} is not installed (${error instanceof Error ? error.message : String(error)}): ` +
        `install the Debian package ${debianPackage}`,
    );
  }
  if (output.code !== 0)
    throw new Error(`${command} --version failed: install the Debian package ${debianPackage}`);
  if (mustInclude !== undefined && !output.stdout.includes(mustInclude)) {
    throw new Error(
      `${command} lacks ${mustInclude} support (${output.stdout.split('\n')[0]}): install the Debian package ${debianPackage}`,
    );
  }
}

function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** The messages of a gRPC response body (uncompressed). */
function grpcMessages(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= body.length) {
    const length = body.readUInt32BE(offset + 1);
    out.push(body.subarray(offset + 5, offset + 5 + length));
    offset += 5 + length;
  }
  if (offset !== body.length) throw new Error(`response body ends inside a message (${body.length} bytes)`);
  return out;
}

interface HeaderBlock {
  readonly streamId: number;
  readonly fields: readonly (readonly [string, string])[];
  readonly endStream: boolean;
}

interface NghttpTrace {
  readonly blocks: readonly HeaderBlock[];
  readonly dataBytes: number;
}

/**
 * The received header blocks and DATA of `nghttp -v`: header lines (`recv (stream_id=N) name: value`)
 * come before the HEADERS frame line that carried them.
 */
function parseNghttp(output: string): NghttpTrace {
  const blocks: HeaderBlock[] = [];
  let pending: [string, string][] = [];
  let dataBytes = 0;
  for (const line of output.split('\n')) {
    const field = /recv \(stream_id=\d+\) (:?[^:]+): (.*)$/.exec(line);
    if (field !== null) {
      pending.push([field[1] as string, field[2] as string]);
      continue;
    }
    const headers = /recv HEADERS frame <length=\d+, flags=0x([0-9a-f]+), stream_id=(\d+)>/.exec(line);
    if (headers !== null) {
      const flags = Number.parseInt(headers[1] as string, 16);
      blocks.push({ streamId: Number(headers[2]), fields: pending, endStream: (flags & 1) !== 0 });
      pending = [];
      continue;
    }
    const data = /recv DATA frame <length=(\d+), flags=0x[0-9a-f]+, stream_id=\d+>/.exec(line);
    if (data !== null) dataBytes += Number(data[1]);
  }
  return { blocks, dataBytes };
}

function field(block: HeaderBlock | undefined, name: string): string | undefined {
  return block?.fields.find(([k]) => k === name)?.[1];
}

/** `curl -D` output: the response header section, then (after its blank line) the trailers. */
function parseCurlDump(dump: string): {
  status: string;
  headers: Map<string, string>;
  trailers: Map<string, string>;
} {
  const [head = '', tail = ''] = dump.split(/\r?\n\r?\n/, 2);
  const lines = head.split(/\r?\n/);
  const toMap = (items: string[]): Map<string, string> =>
    new Map(
      items
        .filter((line) => line.includes(':'))
        .map((line) => {
          const at = line.indexOf(':');
          return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
        }),
    );
  return {
    status: lines[0]?.trim() ?? '',
    headers: toMap(lines.slice(1)),
    trailers: toMap(tail.split(/\r?\n/)),
  };
}

interface BlackHole {
  readonly server: Http2Server;
  readonly port: number;
  readonly sessions: Set<ServerHttp2Session>;
  streams: number;
  cancelled: number;
}

/** An HTTP/2 server that takes every stream and never answers, ignoring grpc-timeout. */
async function startBlackHole(): Promise<BlackHole> {
  const server = createServer();
  const hole: BlackHole = { server, port: 0, sessions: new Set(), streams: 0, cancelled: 0 };
  server.on('session', (session) => {
    hole.sessions.add(session);
    session.on('close', () => hole.sessions.delete(session));
  });
  server.on('stream', (stream) => {
    hole.streams++;
    stream.resume();
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (stream.rstCode === constants.NGHTTP2_CANCEL) hole.cancelled++;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(hole, { port: (server.address() as AddressInfo).port });
}

const GRPC_HEADERS = ['-H', 'content-type: application/grpc', '-H', 'te: trailers'] as const;
const BIG_BYTES = 8 * 1024 * 1024;

/**
 * Interop with nghttp2's tools and curl as raw HTTP/2 clients of the gateway (Debian nghttp2-client
 * and curl): load with h2load, frame-level traces with nghttp, trailers with curl, and what each
 * sees when it is not a gRPC client (GET, HTTP/1.1).
 */
describe('h2load, nghttp and curl through the gateway', () => {
  let dir: string;
  let backend: ProbeBackend;
  let hole: BlackHole;
  let gw: StartedGateway;
  let url: string;
  let bodyFile: string;
  let bigFile: string;
  let expectedReply: Buffer;

  beforeAll(async () => {
    await requireTool('h2load', 'nghttp2-client');
    await requireTool('nghttp', 'nghttp2-client');
    await requireTool('curl', 'curl', 'HTTP2');
    dir = mkdtempSync(join(tmpdir(), 'h2tools-'));
    bodyFile = join(dir, 'unary.bin');
    writeFileSync(bodyFile, grpcFrame(PROBE_UNARY.requestSerialize({ text: 'hello' })));
    bigFile = join(dir, 'big.bin');
    const payload = Buffer.alloc(BIG_BYTES);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    writeFileSync(bigFile, grpcFrame(PROBE_UNARY.requestSerialize({ text: 'big', payload })));
    backend = await ProbeBackend.start('alpha');
    hole = await startBlackHole();
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'probe'), route('/hole.v1.', 'hole')],
      clusters: [staticCluster('probe', backend.address), staticCluster('hole', `127.0.0.1:${hole.port}`)],
      // The default (4 MiB, about to become "no limit") would refuse the 8 MiB upload.
      maxMessageBytes: 0,
    });
    url = `http://${gw.address}${PROBE_PREFIX}Unary`;
    expectedReply = grpcFrame(
      PROBE_UNARY.responseSerialize({
        text: 'hello',
        payload: Buffer.alloc(0),
        backend: 'alpha',
        index: 0,
        received: 1,
      }),
    );
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await gw?.close();
    await backend?.stop();
    if (hole !== undefined) {
      for (const session of hole.sessions) session.destroy();
      await new Promise<void>((resolve) => hole.server.close(() => resolve()));
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('h2load: 2000 gRPC calls over 4 connections × 16 streams all succeed', async () => {
    const before = backend.calls.length;
    const result = await run(
      'h2load',
      ['-n', '2000', '-c', '4', '-m', '16', '-t', '1', '-d', bodyFile, ...GRPC_HEADERS, url],
      30_000,
    );
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    const requests =
      /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
        output,
      );
    expect(requests, output).not.toBeNull();
    const [, total, , done, succeeded, failed, errored, timedOut] = (requests as RegExpExecArray).map(Number);
    expect({ total, done, succeeded, failed, errored, timedOut }).toEqual({
      total: 2000,
      done: 2000,
      succeeded: 2000,
      failed: 0,
      errored: 0,
      timedOut: 0,
    });
    expect(/status codes: (\d+) 2xx/.exec(output)?.[1]).toBe('2000');
    // Every response carried its whole reply message.
    expect(/\((\d+)\) data/.exec(output)?.[1]).toBe(String(2000 * expectedReply.length));
    expect(backend.calls.length - before).toBe(2000);
  });

  it('nghttp: a gRPC call gets headers, its message, and trailers with grpc-status 0', async () => {
    const result = await run('nghttp', ['-v', '-n', ...GRPC_HEADERS, '-d', bodyFile, url]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const trace = parseNghttp(result.stdout);
    expect(trace.blocks, result.stdout).toHaveLength(2);
    const [headers, trailers] = trace.blocks;
    expect(field(headers, ':status')).toBe('200');
    expect(field(headers, 'content-type')).toMatch(/^application\/grpc/);
    expect(field(headers, 'x-h-backend')).toBe('alpha');
    expect(headers?.endStream).toBe(false);
    expect(trace.dataBytes).toBe(expectedReply.length);
    expect(trailers?.endStream).toBe(true);
    expect(field(trailers, ':status')).toBeUndefined();
    expect(field(trailers, 'grpc-status')).toBe('0');
    expect(field(trailers, 'x-t-backend')).toBe('alpha');
  });

  it('nghttp: an 8 MiB request and its 8 MiB echo within nghttp’s 64 KiB stream window', async () => {
    const result = await run('nghttp', ['-v', '-n', ...GRPC_HEADERS, '-d', bigFile, url]);
    expect(result.code, result.stderr).toBe(0);
    const trace = parseNghttp(result.stdout);
    const last = trace.blocks.at(-1);
    expect(field(trace.blocks[0], ':status')).toBe('200');
    expect(last?.endStream).toBe(true);
    expect(field(last, 'grpc-status')).toBe('0');
    // The echo: the same message back (ProbeReply adds backend, index and received fields).
    expect(trace.dataBytes).toBeGreaterThan(BIG_BYTES);
    expect(trace.dataBytes).toBeLessThan(BIG_BYTES + 64);
  });

  it('nghttp: a GET gets 405', async () => {
    const result = await run('nghttp', ['-v', '-n', url]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const trace = parseNghttp(result.stdout);
    expect(field(trace.blocks[0], ':status')).toBe('405');
    expect(field(trace.blocks[0], 'allow')).toBe('POST');
  });

  /** POSTs `file` as a gRPC request with curl over h2c; returns the parsed dump and the reply messages. */
  async function curlGrpc(name: string, file: string) {
    const dump = join(dir, `${name}.headers`);
    const out = join(dir, `${name}.body`);
    const result = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '--data-binary',
      `@${file}`,
      ...GRPC_HEADERS,
      '-D',
      dump,
      '-o',
      out,
      url,
    ]);
    expect(result.code, result.stderr).toBe(0);
    const dumpText = readFileSync(dump, 'latin1');
    return { response: parseCurlDump(dumpText), messages: grpcMessages(readFileSync(out)), dumpText };
  }

  it('curl --http2-prior-knowledge: a gRPC POST gets its reply and grpc-status 0 in the trailers', async () => {
    const { response, messages } = await curlGrpc('post', bodyFile);
    expect(response.status).toBe('HTTP/2 200');
    expect(response.headers.get('content-type')).toMatch(/^application\/grpc/);
    expect(response.headers.has('grpc-status')).toBe(false);
    expect(response.trailers.get('grpc-status')).toBe('0');
    expect(response.trailers.get('x-t-backend')).toBe('alpha');
    expect(messages).toHaveLength(1);
    expect(PROBE_UNARY.responseDeserialize(messages[0] as Buffer)).toMatchObject({
      text: 'hello',
      backend: 'alpha',
    });
  });

  it('curl --http2-prior-knowledge: an 8 MiB request and its 8 MiB echo', async () => {
    const { response, messages, dumpText } = await curlGrpc('big', bigFile);
    expect(response.status).toBe('HTTP/2 200');
    expect(response.trailers.get('grpc-status'), dumpText).toBe('0');
    expect(messages).toHaveLength(1);
    const reply = PROBE_UNARY.responseDeserialize(messages[0] as Buffer) as ProbeReply;
    expect(reply.payload.length).toBe(BIG_BYTES);
    expect(reply.payload.every((byte, i) => byte === i % 251)).toBe(true);
  });

  it('curl: a grpc-timeout is enforced by the gateway for a client that does not enforce it', async () => {
    const dump = join(dir, 'late.headers');
    const cancelledBefore = hole.cancelled;
    const started = Date.now();
    const result = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '--data-binary',
      `@${bodyFile}`,
      ...GRPC_HEADERS,
      '-H',
      'grpc-timeout: 300m',
      '-D',
      dump,
      '-o',
      '/dev/null',
      `http://${gw.address}/hole.v1.Hole/Wait`,
    ]);
    const elapsed = Date.now() - started;
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(dump, 'latin1');
    const response = parseCurlDump(text);
    expect(response.status, text).toBe('HTTP/2 200');
    // Trailers-only: the status in the one header block.
    expect(response.headers.get('grpc-status'), text).toBe('4');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3000);
    await expect.poll(() => hole.cancelled - cancelledBefore, { timeout: 2000 }).toBe(1);
  });

  it('curl --http2-prior-knowledge: a GET gets 405', async () => {
    const result = await run('curl', [
      '-sS',
      '--http2-prior-knowledge',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{http_version}',
      url,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('405 2');
  });

  it('curl over HTTP/1.1 (no prior knowledge) gets the 505 text', async () => {
    const result = await run('curl', ['-sS', '-i', url]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
    expect(result.stdout).toContain(
      'this endpoint serves gRPC over HTTP/2 only (cleartext, prior knowledge)',
    );
  });
});
