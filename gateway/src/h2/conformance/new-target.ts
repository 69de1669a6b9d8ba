/**
 * The target for the NEW frame-level server (gateway/src/h2/server.ts): `H2Server` on 127.0.0.1 and
 * a free port, answering like node-target.ts does — every request, once its body has been read in
 * full (END_STREAM), gets `:status 200`, `content-type: text/plain` and RESPONSE_BODY (10 KiB; no
 * body for HEAD) — so that every conformance case is meaningful (see README.md, "The target").
 * Request bytes are credited back at once, so the client's windows never stall.
 *
 * No test imports this yet (conformance.test.ts has the block that will).
 */

import { H2Server, type H2ServerOptions } from '../server.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../stream.js';
import { RESPONSE_BODY, type RunningTarget } from './node-target.js';

function fieldValue(fields: HeaderFields, name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function ignore(): void {}

/** Answers each request at its END_STREAM; the stream's context holds the request method. */
function answerer(onAnswered: () => void): StreamHandler {
  return {
    onHeaders: ignore,
    onData(stream: Http2Stream, data: Buffer): void {
      stream.credit(data.length);
    },
    onTrailers: ignore,
    onEnd(stream: Http2Stream): void {
      if (stream.isClosed || stream.headersSent) return;
      if (stream.context === 'HEAD') {
        stream.respond([':status', '200', 'content-type', 'text/plain'], true);
      } else {
        stream.respond([':status', '200', 'content-type', 'text/plain']);
        stream.write(RESPONSE_BODY);
        stream.end();
      }
      onAnswered();
    },
    onWritten: ignore,
    onClose: ignore,
  };
}

/** Starts the new server as a conformance target on 127.0.0.1 and a free port. */
export async function startNewTarget(options: H2ServerOptions = {}): Promise<RunningTarget> {
  let answered = 0;
  const handler = answerer(() => answered++);
  const server = new H2Server(
    {
      onStream(stream, fields) {
        stream.context = fieldValue(fields, ':method');
        stream.handler = handler;
      },
    },
    options,
  );
  const port = await server.listen(0, '127.0.0.1');
  return { host: '127.0.0.1', port, answered: () => answered, close: () => server.close(100) };
}
