"""A gRPC C-core client (Debian python3-grpcio) of the probe service, for interop tests.

Usage: /usr/bin/python3 grpc_client.py <generated-code-dir> <target host:port> <call JSON>

The call JSON:
  {"kind": "unary" | "server_stream" | "client_stream" | "bidi",
   "requests": [ProbeRequest fields..., "payloadSize": n for a generated payload],
   "metadata": [[key, value], ...]  (-bin values base64),
   "timeout": seconds (optional),
   "cancelAfterMessages": n (server_stream, bidi: cancel once n replies arrived),
   "cancelOnStdin": true (unary: print {"event": "started"}, cancel once a line arrives on stdin),
   "repeat": n (unary: n concurrent calls on the channel; "codes" counts their statuses),
   "compression": "gzip" (request messages gzip-compressed)}
It prints one JSON object (after the "started" line, if any):
  {"event": "result", "code": "OK", "codeValue": 0, "details": str, "initialMetadata": [...],
   "trailingMetadata": [...], "replies": [{"text", "payloadSize", "payloadSha256", "backend",
   "index", "received"}], "codes": {name: count}, "elapsedMs": ms}
"""

import base64
import hashlib
import json
import sys
import time

import grpc

sys.path.insert(0, sys.argv[1])
import probe_pb2  # noqa: E402  (generated at test time)
import probe_pb2_grpc  # noqa: E402

BIG = 64 * 1024 * 1024
PATTERN = bytes(range(251))


def pattern(size):
    """The payload of `size` bytes both sides agree on: 0, 1, ..., 250, 0, 1, ..."""
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


def to_request(fields):
    fields = dict(fields)
    size = fields.pop('payloadSize', None)
    if size is not None:
        fields['payload'] = pattern(size)
    elif 'payload' in fields:
        fields['payload'] = base64.b64decode(fields['payload'])
    return probe_pb2.ProbeRequest(**fields)


def to_metadata(pairs):
    out = []
    for key, value in pairs:
        out.append((key, base64.b64decode(value) if key.endswith('-bin') else value))
    return tuple(out)


def metadata_json(metadata):
    out = []
    for key, value in metadata or ():
        if key.endswith('-bin'):
            out.append([key, base64.b64encode(value).decode('ascii')])
        else:
            out.append([key, value])
    return out


def reply_json(reply):
    return {
        'text': reply.text,
        'payloadSize': len(reply.payload),
        'payloadSha256': hashlib.sha256(reply.payload).hexdigest(),
        'backend': reply.backend,
        'index': reply.index,
        'received': reply.received,
    }


def main():
    target = sys.argv[2]
    spec = json.loads(sys.argv[3])
    kind = spec['kind']
    requests = [to_request(fields) for fields in spec.get('requests', [{}])]
    metadata = to_metadata(spec.get('metadata', []))
    timeout = spec.get('timeout')
    cancel_after = spec.get('cancelAfterMessages')
    channel = grpc.insecure_channel(target, options=[
        ('grpc.max_receive_message_length', BIG),
        ('grpc.max_send_message_length', BIG),
        ('grpc.enable_retries', 0),
    ], compression=grpc.Compression.Gzip if spec.get('compression') == 'gzip' else None)
    stub = probe_pb2_grpc.ProbeStub(channel)
    replies = []
    started = time.monotonic()
    codes = {}
    if kind == 'unary' and spec.get('repeat'):
        calls = [stub.Unary.future(requests[0], metadata=metadata, timeout=timeout)
                 for _ in range(spec['repeat'])]
        for each in calls:
            try:
                each.result()
            except grpc.RpcError:
                pass
            codes[each.code().name] = codes.get(each.code().name, 0) + 1
        call = calls[0]
        if call.code() == grpc.StatusCode.OK:
            replies.append(call.result())
    elif kind == 'unary':
        call = stub.Unary.future(requests[0], metadata=metadata, timeout=timeout)
        if spec.get('cancelOnStdin'):
            sys.stdout.write(json.dumps({'event': 'started'}) + '\n')
            sys.stdout.flush()
            sys.stdin.readline()
            call.cancel()
        try:
            replies.append(call.result())
        except (grpc.RpcError, grpc.FutureCancelledError):
            pass
    elif kind == 'client_stream':
        call = stub.ClientStream.future(iter(requests), metadata=metadata, timeout=timeout)
        try:
            replies.append(call.result())
        except grpc.RpcError:
            pass
    elif kind in ('server_stream', 'bidi'):
        if kind == 'server_stream':
            call = stub.ServerStream(requests[0], metadata=metadata, timeout=timeout)
        else:
            call = stub.Bidi(iter(requests), metadata=metadata, timeout=timeout)
        try:
            for reply in call:
                replies.append(reply)
                if cancel_after is not None and len(replies) >= cancel_after:
                    call.cancel()
        except grpc.RpcError:
            pass
    else:
        raise SystemExit('unknown call kind %r' % kind)
    elapsed = (time.monotonic() - started) * 1000
    code = call.code()
    result = {
        'event': 'result',
        'code': code.name,
        'codeValue': code.value[0],
        'details': call.details() or '',
        'initialMetadata': metadata_json(call.initial_metadata()),
        'trailingMetadata': metadata_json(call.trailing_metadata()),
        'replies': [reply_json(reply) for reply in replies],
        'codes': codes or {code.name: 1},
        'elapsedMs': elapsed,
    }
    sys.stdout.write(json.dumps(result) + '\n')
    sys.stdout.flush()
    channel.close()


if __name__ == '__main__':
    main()
