import { describe, expect, it } from 'vitest';
import { loadMyServiceProto, MY_SERVICE_METHODS } from './index.js';

describe('my_service contract', () => {
  const proto = loadMyServiceProto();
  const service = proto.my_service.MyServiceAPI.service;

  it('exposes the four RPCs under the documented full method names and kinds', () => {
    const methods = Object.values(service).map((m) => ({
      path: m.path,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
    }));
    expect(methods).toEqual([
      { path: MY_SERVICE_METHODS.login, requestStream: false, responseStream: false },
      { path: MY_SERVICE_METHODS.echo, requestStream: false, responseStream: false },
      { path: MY_SERVICE_METHODS.subscribe, requestStream: false, responseStream: true },
      { path: MY_SERVICE_METHODS.shutdown, requestStream: false, responseStream: false },
    ]);
  });

  it('keeps the field numbers of REFERENCE.md section 2.2', () => {
    const fieldNumbers = (type: { type: { field: { name: string; number: number }[] } }) =>
      Object.fromEntries(type.type.field.map((f) => [f.name, f.number]));
    type Described = { type: { field: { name: string; number: number }[] } };
    const types = proto.my_service as unknown as Record<string, Described | undefined>;
    const fieldsOf = (name: string) => {
      const type = types[name];
      if (type === undefined) throw new Error(`message ${name} is missing from the contract`);
      return fieldNumbers(type);
    };
    expect(fieldsOf('LoginRequest')).toEqual({ username: 1, password: 2, session_id: 3 });
    expect(fieldsOf('LoginResponse')).toEqual({ token: 1, expires_at: 2, role: 3 });
    expect(fieldsOf('EchoRequest')).toEqual({ value: 1 });
    expect(fieldsOf('EchoResponse')).toEqual({
      client_value: 1,
      server_value: 2,
      pod_name: 3,
      server_session_id: 4,
      client_session_id: 5,
      index: 6,
      server_method: 7,
    });
    expect(fieldsOf('ShutdownResponse')).toEqual({
      pod_name: 1,
      server_session_id: 2,
      client_session_id: 3,
      index: 4,
      server_method: 5,
    });
  });

  it('round-trips an EchoResponse through the wire format', () => {
    const service = proto.my_service.MyServiceAPI.service.MyServiceEcho;
    const bytes = service.responseSerialize({ client_value: 'x', pod_name: 'pod-1', index: 7 });
    expect(service.responseDeserialize(bytes)).toMatchObject({
      client_value: 'x',
      pod_name: 'pod-1',
      index: 7,
    });
  });
});
