// Original file: proto/my_service.proto

import type {
  Timestamp as _google_protobuf_Timestamp,
  Timestamp__Output as _google_protobuf_Timestamp__Output,
} from '../google/protobuf/Timestamp.js';

export interface LoginResponse {
  token?: string;
  expires_at?: _google_protobuf_Timestamp | null;
  role?: string;
}

export interface LoginResponse__Output {
  token: string;
  expires_at: _google_protobuf_Timestamp__Output | null;
  role: string;
}
