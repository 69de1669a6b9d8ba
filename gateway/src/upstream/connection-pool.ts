import {
  DEFAULT_UPSTREAM_SESSION_OPTIONS,
  UpstreamSession,
  type UpstreamSessionOptions,
} from './upstream-session.js';

/**
 * One `UpstreamSession` per endpoint id, created lazily on first use. An endpoint whose address
 * changed (same id, new `host:port`) gets a fresh session; the old one is closed.
 */
export class ConnectionPool {
  private readonly sessions = new Map<string, UpstreamSession>();
  private closedSessionsCreated = 0;

  constructor(private readonly options: UpstreamSessionOptions = DEFAULT_UPSTREAM_SESSION_OPTIONS) {}

  /** The session for `endpointId` at `authority`, creating it when missing. */
  get(endpointId: string, authority: string): UpstreamSession {
    const existing = this.sessions.get(endpointId);
    if (existing !== undefined && existing.authority === authority && existing.state !== 'closed')
      return existing;
    if (existing !== undefined) this.retire(existing);
    const created = new UpstreamSession(authority, this.options);
    this.sessions.set(endpointId, created);
    return created;
  }

  /** Closes and forgets the session of `endpointId` (its in-flight streams fail). */
  close(endpointId: string): void {
    const session = this.sessions.get(endpointId);
    if (session === undefined) return;
    this.sessions.delete(endpointId);
    this.retire(session);
  }

  closeAll(): void {
    for (const session of this.sessions.values()) this.retire(session);
    this.sessions.clear();
  }

  /** HTTP/2 sessions ever created by this pool, including closed ones. */
  get sessionsCreated(): number {
    let total = this.closedSessionsCreated;
    for (const session of this.sessions.values()) total += session.sessionsCreated;
    return total;
  }

  private retire(session: UpstreamSession): void {
    this.closedSessionsCreated += session.sessionsCreated;
    session.close();
  }
}
