/**
 * What the admin listener shows and does, implemented by the gateway (`gateway.ts`). The admin
 * listener knows nothing else of the gateway: these shapes are its JSON API (`/api/...`).
 */

type InstanceState = 'free' | 'bound' | 'retained' | 'ejected' | 'draining';

export interface AdminInstance {
  readonly id: string;
  readonly address: string;
  readonly state: InstanceState;
  /** The session bound to it, if any. */
  readonly session?: string | undefined;
  /** Why it is `ejected`: failed health checks, or the outlier detection. */
  readonly ejectedBy?: 'health_check' | 'outlier_detection' | undefined;
}

export interface AdminCluster {
  readonly id: string;
  readonly type: string;
  /** Membership-loading clusters: whether the first discovery succeeded. */
  readonly discovered?: boolean | undefined;
  readonly instances: readonly AdminInstance[];
}

export interface AdminRoute {
  readonly prefix: string;
  readonly cluster: string;
  readonly balancer: string;
  readonly authorization: string;
}

export interface AdminSession {
  readonly cluster: string;
  readonly session: string;
  readonly instance: string;
}

export interface AdminStats {
  readonly downstreamConnections: number;
  readonly activeStreams: number;
  readonly stickyBindings: number;
  readonly upstreamConnectionsCreated: number;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** Each check by name (`listening`, `discovery:<cluster>`, `session_store`): passed or not. */
  readonly checks: Readonly<Record<string, boolean>>;
}

/** A value now (one gateway), or later (the primary of GATEWAY_WORKERS > 1 asks its workers). */
type Answer<T> = T | Promise<T>;

export interface AdminView {
  routes(): Answer<readonly AdminRoute[]>;
  clusters(): Answer<readonly AdminCluster[]>;
  sessions(): Answer<readonly AdminSession[]>;
  stats(): Answer<AdminStats>;
  readiness(): Answer<ReadinessReport>;
}

/** What an action did: `not_found` when the cluster, instance or session is unknown. */
export type ActionResult = 'done' | 'not_found';

/**
 * The admin listener's actions (POST, always with the token). The gateway implements `release`;
 * `drain` and `reload` are present only when the gateway has them: absent, the action answers 501.
 */
export interface AdminActions {
  /** Drops `session`'s binding in `cluster` (for every gateway sharing the store): its next call binds anew. */
  release(cluster: string, session: string): ActionResult | Promise<ActionResult>;
  /** No new sessions for `instance` of `cluster`. */
  drain?(cluster: string, instance: string): ActionResult | Promise<ActionResult>;
  /** Re-reads the configuration (and certificates). */
  reload?(): Promise<void>;
}
