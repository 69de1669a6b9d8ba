import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type {
  Timestamp as _google_protobuf_Timestamp,
  Timestamp__Output as _google_protobuf_Timestamp__Output,
} from './google/protobuf/Timestamp.js';
import type {
  EchoRequest as _my_service_EchoRequest,
  EchoRequest__Output as _my_service_EchoRequest__Output,
} from './my_service/EchoRequest.js';
import type {
  EchoResponse as _my_service_EchoResponse,
  EchoResponse__Output as _my_service_EchoResponse__Output,
} from './my_service/EchoResponse.js';
import type {
  LoginRequest as _my_service_LoginRequest,
  LoginRequest__Output as _my_service_LoginRequest__Output,
} from './my_service/LoginRequest.js';
import type {
  LoginResponse as _my_service_LoginResponse,
  LoginResponse__Output as _my_service_LoginResponse__Output,
} from './my_service/LoginResponse.js';
import type {
  MyServiceAPIClient as _my_service_MyServiceAPIClient,
  MyServiceAPIDefinition as _my_service_MyServiceAPIDefinition,
} from './my_service/MyServiceAPI.js';
import type {
  ShutdownRequest as _my_service_ShutdownRequest,
  ShutdownRequest__Output as _my_service_ShutdownRequest__Output,
} from './my_service/ShutdownRequest.js';
import type {
  ShutdownResponse as _my_service_ShutdownResponse,
  ShutdownResponse__Output as _my_service_ShutdownResponse__Output,
} from './my_service/ShutdownResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new (...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>;
    };
  };
  my_service: {
    EchoRequest: MessageTypeDefinition<_my_service_EchoRequest, _my_service_EchoRequest__Output>;
    EchoResponse: MessageTypeDefinition<_my_service_EchoResponse, _my_service_EchoResponse__Output>;
    LoginRequest: MessageTypeDefinition<_my_service_LoginRequest, _my_service_LoginRequest__Output>;
    LoginResponse: MessageTypeDefinition<_my_service_LoginResponse, _my_service_LoginResponse__Output>;
    MyServiceAPI: SubtypeConstructor<typeof grpc.Client, _my_service_MyServiceAPIClient> & {
      service: _my_service_MyServiceAPIDefinition;
    };
    ShutdownRequest: MessageTypeDefinition<_my_service_ShutdownRequest, _my_service_ShutdownRequest__Output>;
    ShutdownResponse: MessageTypeDefinition<
      _my_service_ShutdownResponse,
      _my_service_ShutdownResponse__Output
    >;
  };
}
