// Original file: proto/my_service.proto

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type {
  EchoRequest as _my_service_EchoRequest,
  EchoRequest__Output as _my_service_EchoRequest__Output,
} from '../my_service/EchoRequest.js';
import type {
  EchoResponse as _my_service_EchoResponse,
  EchoResponse__Output as _my_service_EchoResponse__Output,
} from '../my_service/EchoResponse.js';
import type {
  LoginRequest as _my_service_LoginRequest,
  LoginRequest__Output as _my_service_LoginRequest__Output,
} from '../my_service/LoginRequest.js';
import type {
  LoginResponse as _my_service_LoginResponse,
  LoginResponse__Output as _my_service_LoginResponse__Output,
} from '../my_service/LoginResponse.js';
import type {
  ShutdownRequest as _my_service_ShutdownRequest,
  ShutdownRequest__Output as _my_service_ShutdownRequest__Output,
} from '../my_service/ShutdownRequest.js';
import type {
  ShutdownResponse as _my_service_ShutdownResponse,
  ShutdownResponse__Output as _my_service_ShutdownResponse__Output,
} from '../my_service/ShutdownResponse.js';

export interface MyServiceAPIClient extends grpc.Client {
  Login(
    argument: _my_service_LoginRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  Login(
    argument: _my_service_LoginRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  Login(
    argument: _my_service_LoginRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  Login(
    argument: _my_service_LoginRequest,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  login(
    argument: _my_service_LoginRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  login(
    argument: _my_service_LoginRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  login(
    argument: _my_service_LoginRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;
  login(
    argument: _my_service_LoginRequest,
    callback: grpc.requestCallback<_my_service_LoginResponse__Output>,
  ): grpc.ClientUnaryCall;

  MyServiceEcho(
    argument: _my_service_EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  MyServiceEcho(
    argument: _my_service_EchoRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  MyServiceEcho(
    argument: _my_service_EchoRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  MyServiceEcho(
    argument: _my_service_EchoRequest,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceEcho(
    argument: _my_service_EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceEcho(
    argument: _my_service_EchoRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceEcho(
    argument: _my_service_EchoRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceEcho(
    argument: _my_service_EchoRequest,
    callback: grpc.requestCallback<_my_service_EchoResponse__Output>,
  ): grpc.ClientUnaryCall;

  MyServiceShutdown(
    argument: _my_service_ShutdownRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  MyServiceShutdown(
    argument: _my_service_ShutdownRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  MyServiceShutdown(
    argument: _my_service_ShutdownRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  MyServiceShutdown(
    argument: _my_service_ShutdownRequest,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceShutdown(
    argument: _my_service_ShutdownRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceShutdown(
    argument: _my_service_ShutdownRequest,
    metadata: grpc.Metadata,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceShutdown(
    argument: _my_service_ShutdownRequest,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;
  myServiceShutdown(
    argument: _my_service_ShutdownRequest,
    callback: grpc.requestCallback<_my_service_ShutdownResponse__Output>,
  ): grpc.ClientUnaryCall;

  MyServiceSubscribe(
    argument: _my_service_EchoRequest,
    metadata: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_my_service_EchoResponse__Output>;
  MyServiceSubscribe(
    argument: _my_service_EchoRequest,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_my_service_EchoResponse__Output>;
  myServiceSubscribe(
    argument: _my_service_EchoRequest,
    metadata: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_my_service_EchoResponse__Output>;
  myServiceSubscribe(
    argument: _my_service_EchoRequest,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<_my_service_EchoResponse__Output>;
}

export interface MyServiceAPIHandlers extends grpc.UntypedServiceImplementation {
  Login: grpc.handleUnaryCall<_my_service_LoginRequest__Output, _my_service_LoginResponse>;

  MyServiceEcho: grpc.handleUnaryCall<_my_service_EchoRequest__Output, _my_service_EchoResponse>;

  MyServiceShutdown: grpc.handleUnaryCall<_my_service_ShutdownRequest__Output, _my_service_ShutdownResponse>;

  MyServiceSubscribe: grpc.handleServerStreamingCall<
    _my_service_EchoRequest__Output,
    _my_service_EchoResponse
  >;
}

export interface MyServiceAPIDefinition extends grpc.ServiceDefinition {
  Login: MethodDefinition<
    _my_service_LoginRequest,
    _my_service_LoginResponse,
    _my_service_LoginRequest__Output,
    _my_service_LoginResponse__Output
  >;
  MyServiceEcho: MethodDefinition<
    _my_service_EchoRequest,
    _my_service_EchoResponse,
    _my_service_EchoRequest__Output,
    _my_service_EchoResponse__Output
  >;
  MyServiceShutdown: MethodDefinition<
    _my_service_ShutdownRequest,
    _my_service_ShutdownResponse,
    _my_service_ShutdownRequest__Output,
    _my_service_ShutdownResponse__Output
  >;
  MyServiceSubscribe: MethodDefinition<
    _my_service_EchoRequest,
    _my_service_EchoResponse,
    _my_service_EchoRequest__Output,
    _my_service_EchoResponse__Output
  >;
}
