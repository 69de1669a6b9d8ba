"""A gRPC C-core server (Debian python3-grpcio) of the probe service, for interop tests.

Usage: /usr/bin/python3 grpc_server.py <generated-code-dir> <name> [options JSON]
Options: {"maxReceiveBytes": n (default 64 MiB), "maxConcurrentStreams": n (default: C-core's)}.

It binds 127.0.0.1 on a free port (port 0, chosen by the kernel) and reports on stdout, one JSON
object per line:
  {"event": "listening", "port": N}
  {"event": "call", "method": M, "metadata": [[key, value], ...], "timeRemaining": seconds|null}
  {"event": "end", "method": M, "id": x-echo-id|null, "cancelled": bool, "deadline": bool}
`-bin` metadata values are base64. The server exits when its stdin closes (its parent went away),
on SIGTERM, or when told `stop` on stdin.

Semantics mirror gateway/src/test-support/probe-backend.ts: request metadata `x-echo-<k>` comes
back as `x-h-<k>` in the response headers and `x-t-<k>` in the trailers, plus `x-h-backend`;
`x-compress: gzip` makes the response messages gzip-compressed; `x-server-cancel: 1` makes Unary
cancel the call after sending its headers.
"""

import base64
import json
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

sys.path.insert(0, sys.argv[1])
import probe_pb2  # noqa: E402  (generated at test time)
import probe_pb2_grpc  # noqa: E402

NAME = sys.argv[2] if len(sys.argv) > 2 else 'python'
OPTIONS = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
BIG = 64 * 1024 * 1024
CODES = {code.value[0]: code for code in grpc.StatusCode}
OUT_LOCK = threading.Lock()


def emit(event):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(event) + '\n')
        sys.stdout.flush()


def metadata_json(metadata):
    out = []
    for key, value in metadata:
        if key.endswith('-bin'):
            out.append([key, base64.b64encode(value).decode('ascii')])
        else:
            out.append([key, value])
    return out


def echoed(context, prefix):
    out = [('x-%s-backend' % prefix, NAME)]
    for key, value in context.invocation_metadata():
        if key.startswith('x-echo-'):
            out.append(('x-%s-%s' % (prefix, key[len('x-echo-'):]), value))
    return tuple(out)


class Tracker:
    """Records a call and, at its end, whether it was cancelled (or hit its deadline)."""

    def __init__(self, method, context):
        self.finished = False
        self.ended = threading.Event()
        self.context = context
        self.method = method
        # Lets a test match a call's end to the call: its x-echo-id metadata, if any.
        self.id = dict(context.invocation_metadata()).get('x-echo-id')
        remaining = context.time_remaining()
        emit({
            'event': 'call',
            'method': method,
            'metadata': metadata_json(context.invocation_metadata()),
            # C-core reports a huge value without a deadline.
            'timeRemaining': remaining if remaining < 1e6 else None,
        })
        context.add_callback(self.on_end)
        # `x-compress: gzip` asks for gzip-compressed response messages.
        if dict(context.invocation_metadata()).get('x-compress') == 'gzip':
            context.set_compression(grpc.Compression.Gzip)

    def on_end(self):
        self.ended.set()
        cancelled = not self.finished
        emit({
            'event': 'end',
            'method': self.method,
            'id': self.id,
            'cancelled': cancelled,
            'deadline': cancelled and self.context.time_remaining() <= 0,
        })

    def hold(self):
        """Waits until the call ends without an answer (cancelled, deadline) or 60 s."""
        self.ended.wait(60)


def fail(context, tracker, request):
    if request.headers_first:
        context.send_initial_metadata(echoed(context, 'h'))
    context.set_trailing_metadata(echoed(context, 't'))
    tracker.finished = True
    context.abort(CODES.get(request.fail_code, grpc.StatusCode.UNKNOWN), request.fail_message)


class Probe(probe_pb2_grpc.ProbeServicer):

    def Unary(self, request, context):
        tracker = Tracker('Unary', context)
        if request.hold:
            tracker.hold()
            return probe_pb2.ProbeReply()
        if request.delay_ms:
            time.sleep(request.delay_ms / 1000)
        if request.fail_code:
            fail(context, tracker, request)
        if dict(context.invocation_metadata()).get('x-server-cancel') == '1':
            # The server cancels the call (C-core: RST_STREAM), after its headers.
            context.send_initial_metadata(echoed(context, 'h'))
            tracker.finished = True
            context.cancel()
            return probe_pb2.ProbeReply()
        context.send_initial_metadata(echoed(context, 'h'))
        context.set_trailing_metadata(echoed(context, 't'))
        tracker.finished = True
        return probe_pb2.ProbeReply(text=request.text, payload=request.payload, backend=NAME, index=0,
                                    received=1)

    def ClientStream(self, request_iterator, context):
        tracker = Tracker('ClientStream', context)
        received = 0
        size = 0
        texts = []
        for request in request_iterator:
            received += 1
            size += len(request.payload)
            texts.append(request.text)
        context.send_initial_metadata(echoed(context, 'h'))
        context.set_trailing_metadata(echoed(context, 't'))
        tracker.finished = True
        return probe_pb2.ProbeReply(text=','.join(texts), payload=str(size).encode(), backend=NAME,
                                    index=0, received=received)

    def ServerStream(self, request, context):
        tracker = Tracker('ServerStream', context)
        if request.fail_code and not request.count:
            fail(context, tracker, request)
        context.send_initial_metadata(echoed(context, 'h'))
        index = 0
        while request.count == 0 or index < request.count:
            if not context.is_active():
                return
            yield probe_pb2.ProbeReply(text=request.text, payload=request.payload, backend=NAME,
                                       index=index, received=1)
            index += 1
            if request.interval_ms:
                time.sleep(request.interval_ms / 1000)
        if request.fail_code:
            fail(context, tracker, request)
        context.set_trailing_metadata(echoed(context, 't'))
        tracker.finished = True

    def Bidi(self, request_iterator, context):
        tracker = Tracker('Bidi', context)
        context.send_initial_metadata(echoed(context, 'h'))
        index = 0
        for request in request_iterator:
            index += 1
            if request.hold:
                continue
            if request.fail_code:
                fail(context, tracker, request)
            yield probe_pb2.ProbeReply(text=request.text, payload=request.payload, backend=NAME,
                                       index=index - 1, received=index)
        context.set_trailing_metadata(echoed(context, 't'))
        tracker.finished = True


def main():
    options = [
        ('grpc.max_receive_message_length', OPTIONS.get('maxReceiveBytes', BIG)),
        ('grpc.max_send_message_length', BIG),
        ('grpc.so_reuseport', 0),
    ]
    if 'maxConcurrentStreams' in OPTIONS:
        options.append(('grpc.max_concurrent_streams', OPTIONS['maxConcurrentStreams']))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=options)
    probe_pb2_grpc.add_ProbeServicer_to_server(Probe(), server)
    port = server.add_insecure_port('127.0.0.1:0')
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == 'stop':
                break
        stopped.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    emit({'event': 'listening', 'port': port})
    stopped.wait()
    server.stop(0).wait(2)


if __name__ == '__main__':
    main()
