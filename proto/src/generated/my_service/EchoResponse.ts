// Original file: proto/my_service.proto

export interface EchoResponse {
  client_value?: string;
  server_value?: string;
  pod_name?: string;
  server_session_id?: string;
  client_session_id?: string;
  index?: number;
  server_method?: string;
}

export interface EchoResponse__Output {
  client_value: string;
  server_value: string;
  pod_name: string;
  server_session_id: string;
  client_session_id: string;
  index: number;
  server_method: string;
}
