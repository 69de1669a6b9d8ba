import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { SessionBinding } from './session-binding.js';

describe('SessionBinding', () => {
  it('starts unbound and binds the first session', () => {
    const binding = new SessionBinding();
    expect(binding.current()).toBeUndefined();
    expect(binding.bind('s1')).toEqual({ ok: true, session: 's1' });
    expect(binding.current()).toBe('s1');
  });

  it('accepts the bound session again', () => {
    const binding = new SessionBinding();
    binding.bind('s1');
    expect(binding.bind('s1')).toEqual({ ok: true, session: 's1' });
  });

  it('refuses another session with the reference conflict message and keeps the first', () => {
    const binding = new SessionBinding();
    binding.bind('s1');
    expect(binding.bind('s2')).toEqual({
      ok: false,
      error: { code: status.INTERNAL, message: 'Session conflict: was=s1, now=s2' },
    });
    expect(binding.current()).toBe('s1');
  });

  it.each([undefined, '', '  '])('requires a session-id (%j) and does not bind', (header) => {
    const binding = new SessionBinding();
    expect(binding.bind(header)).toEqual({
      ok: false,
      error: { code: status.INVALID_ARGUMENT, message: 'session-id header is required' },
    });
    expect(binding.current()).toBeUndefined();
  });

  describe('checkShutdown', () => {
    it('refuses when no session is bound, without binding', () => {
      const binding = new SessionBinding();
      expect(binding.checkShutdown('s1')).toEqual({
        ok: false,
        error: { code: status.PERMISSION_DENIED, message: 'Server session is not set' },
      });
      expect(binding.current()).toBeUndefined();
    });

    it('refuses a missing session-id as client=none', () => {
      const binding = new SessionBinding();
      binding.bind('s1');
      expect(binding.checkShutdown(undefined)).toEqual({
        ok: false,
        error: { code: status.PERMISSION_DENIED, message: 'Client session mismatch: client=none, server=s1' },
      });
    });

    it('refuses another session', () => {
      const binding = new SessionBinding();
      binding.bind('s1');
      expect(binding.checkShutdown('s2')).toEqual({
        ok: false,
        error: { code: status.PERMISSION_DENIED, message: 'Client session mismatch: client=s2, server=s1' },
      });
    });

    it('accepts the bound session', () => {
      const binding = new SessionBinding();
      binding.bind('s1');
      expect(binding.checkShutdown('s1')).toEqual({ ok: true, serverSession: 's1', clientSession: 's1' });
    });
  });
});
