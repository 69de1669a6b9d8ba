// Original file: proto/my_service.proto

export interface ShutdownResponse {
  pod_name?: string;
  server_session_id?: string;
  client_session_id?: string;
  index?: number;
  server_method?: string;
}

export interface ShutdownResponse__Output {
  pod_name: string;
  server_session_id: string;
  client_session_id: string;
  index: number;
  server_method: string;
}
