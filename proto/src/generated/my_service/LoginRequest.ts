// Original file: proto/my_service.proto

export interface LoginRequest {
  username?: string;
  password?: string;
  session_id?: string;
}

export interface LoginRequest__Output {
  username: string;
  password: string;
  session_id: string;
}
