import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/my_service.js';

export type { Timestamp, Timestamp__Output } from './generated/google/protobuf/Timestamp.js';
export type { EchoRequest, EchoRequest__Output } from './generated/my_service/EchoRequest.js';
export type { EchoResponse, EchoResponse__Output } from './generated/my_service/EchoResponse.js';
export type { LoginRequest, LoginRequest__Output } from './generated/my_service/LoginRequest.js';
export type { LoginResponse, LoginResponse__Output } from './generated/my_service/LoginResponse.js';
export type {
  MyServiceAPIClient,
  MyServiceAPIDefinition,
  MyServiceAPIHandlers,
} from './generated/my_service/MyServiceAPI.js';
export type { ShutdownRequest, ShutdownRequest__Output } from './generated/my_service/ShutdownRequest.js';
export type { ShutdownResponse, ShutdownResponse__Output } from './generated/my_service/ShutdownResponse.js';
export type { ProtoGrpcType } from './generated/my_service.js';

/** Absolute path of the shared contract, for servers that need reflection or other tooling. */
export const MY_SERVICE_PROTO_PATH = fileURLToPath(new URL('../proto/my_service.proto', import.meta.url));

/** Full gRPC method names of the contract, as they appear in HTTP/2 `:path`. */
export const MY_SERVICE_METHODS = {
  login: '/my_service.MyServiceAPI/Login',
  echo: '/my_service.MyServiceAPI/MyServiceEcho',
  subscribe: '/my_service.MyServiceAPI/MyServiceSubscribe',
  shutdown: '/my_service.MyServiceAPI/MyServiceShutdown',
} as const;

/** Loader options; they must match the options used to generate `src/generated` (see package.json). */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Loads the contract and returns the typed grpc-js package object (clients and service definitions). */
export function loadMyServiceProto(): ProtoGrpcType {
  const definition = loadSync(MY_SERVICE_PROTO_PATH, PROTO_LOADER_OPTIONS);
  return loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}
