import { status } from '@grpc/grpc-js';
import type { RpcError } from '../grpc/rpc-error.js';

export type BindResult =
  | { readonly ok: true; readonly session: string }
  | { readonly ok: false; readonly error: RpcError };
export type ShutdownCheck =
  | { readonly ok: true; readonly serverSession: string; readonly clientSession: string }
  | { readonly ok: false; readonly error: RpcError };

/**
 * The one session this process serves (REFERENCE.md 5.3): unbound at start, bound by the first
 * MyServiceEcho/MyServiceSubscribe, never cleared while the process lives.
 *
 * Every method is synchronous on purpose. Node runs one callback at a time, so a check followed by a
 * bind with no `await` in between cannot interleave with another call: this is what makes
 * check-and-bind atomic, where the reference's two locked steps let two first calls both win.
 */
export class SessionBinding {
  #bound: string | undefined;

  /** The bound session id, if any. */
  current(): string | undefined {
    return this.#bound;
  }

  /** Binds `headerSession` when nothing is bound, accepts it when it equals the bound one, else refuses. */
  bind(headerSession: string | undefined): BindResult {
    if (headerSession === undefined || headerSession.trim() === '') {
      return {
        ok: false,
        error: { code: status.INVALID_ARGUMENT, message: 'session-id header is required' },
      };
    }
    if (this.#bound === undefined) {
      this.#bound = headerSession;
      return { ok: true, session: headerSession };
    }
    if (this.#bound === headerSession) return { ok: true, session: headerSession };
    return {
      ok: false,
      error: { code: status.INTERNAL, message: `Session conflict: was=${this.#bound}, now=${headerSession}` },
    };
  }

  /** MyServiceShutdown's rules (REFERENCE.md 5.5): never binds, only the bound session may shut down. */
  checkShutdown(headerSession: string | undefined): ShutdownCheck {
    if (this.#bound === undefined) {
      return { ok: false, error: { code: status.PERMISSION_DENIED, message: 'Server session is not set' } };
    }
    if (headerSession !== this.#bound) {
      return {
        ok: false,
        error: {
          code: status.PERMISSION_DENIED,
          message: `Client session mismatch: client=${headerSession ?? 'none'}, server=${this.#bound}`,
        },
      };
    }
    return { ok: true, serverSession: this.#bound, clientSession: headerSession };
  }
}
