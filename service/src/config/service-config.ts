import type { Level } from 'pino';

/** The worker's validated, frozen configuration (REFERENCE.md 5.1 plus the rewrite's additions). */
export interface ServiceConfig {
  /** gRPC port; `0` asks the kernel for a free one (the bound port is what gets registered). */
  readonly port: number;
  /** Interface the gRPC server binds to (`LISTEN_HOST`, default `127.0.0.1`). */
  readonly listenHost: string;
  /** Discoverer base URL without trailing `/`. */
  readonly discovererUrl: string;
  /** `INSTANCE_ID`, else `HOSTNAME`: the registered `instance_id` and every response's `pod_name`. */
  readonly instanceId: string;
  /** IPv4 advertised to the discoverer (`DISCOVERABLE_HOST`, else auto-detected). */
  readonly advertisedIpv4: string;
  readonly registrationTtlMs: number;
  readonly heartbeatIntervalMs: number;
  /** HS256 key (`JWT_SECRET` or `JWT_SECRET_FILE`), trimmed like every other service of the stack trims it. */
  readonly jwtSecret: string;
  /** `JWT_SECRET_PREVIOUS(_FILE)`: tokens signed with it still pass (secret rotation). */
  readonly jwtPreviousSecret?: string;
  /** Delay between two MyServiceSubscribe messages (the reference hard-codes 5 s). */
  readonly subscribeIntervalMs: number;
  readonly logLevel: Level | 'silent';
  /** `DISCOVERER_TOKEN(_FILE)`: sent as `Authorization: Bearer` on registration; unset for an open discoverer. */
  readonly discovererToken?: string;
}
