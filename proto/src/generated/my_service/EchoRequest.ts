// Original file: proto/my_service.proto

export interface EchoRequest {
  value?: string;
}

export interface EchoRequest__Output {
  value: string;
}
