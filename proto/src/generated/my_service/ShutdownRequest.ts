// Original file: proto/my_service.proto

export interface ShutdownRequest {}

export interface ShutdownRequest__Output {}
