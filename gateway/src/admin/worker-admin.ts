import cluster, { type Worker } from 'node:cluster';
import type {
  ActionResult,
  AdminCluster,
  AdminInstance,
  AdminRoute,
  AdminSession,
  AdminStats,
  AdminView,
  ReadinessReport,
} from './admin-view.js';

/**
 * GATEWAY_WORKERS > 1: the primary serves the admin listener and asks every worker over the
 * node:cluster IPC channel (metrics go through prom-client's AggregatorRegistry, beside this).
 */
const REQUEST = 'stickygw:admin-request';
const ANSWER = 'stickygw:admin-answer';
/** A worker that does not answer within this counts as not ready and shows nothing. */
const ANSWER_TIMEOUT_MS = 2_000;

type Operation = 'routes' | 'clusters' | 'sessions' | 'stats' | 'readiness' | 'release' | 'drain' | 'reload';

interface AdminRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
  readonly operation: Operation;
  readonly args: readonly string[];
}

interface AdminAnswer {
  readonly type: typeof ANSWER;
  readonly id: number;
  readonly value: unknown;
}

/** In a worker: answers the primary's admin requests from this worker's gateway. */
export function answerPrimary(
  view: AdminView,
  actions: {
    readonly release: (cluster: string, session: string) => ActionResult;
    readonly drain: (cluster: string, instance: string) => ActionResult;
    /** Reloads this worker's config; resolves with the problems of a refused one (none: reloaded). */
    readonly reload: () => Promise<readonly string[]>;
  },
): void {
  process.on('message', (message: Partial<AdminRequest>) => {
    const id = message?.id;
    if (message?.type !== REQUEST || typeof id !== 'number') return;
    const args = message.args ?? [];
    const answer = async (): Promise<unknown> => {
      switch (message.operation) {
        case 'release':
          return actions.release(args[0] ?? '', args[1] ?? '');
        case 'drain':
          return actions.drain(args[0] ?? '', args[1] ?? '');
        case 'reload':
          return actions.reload();
        case 'routes':
        case 'clusters':
        case 'sessions':
        case 'stats':
        case 'readiness':
          return view[message.operation]();
        default:
          return undefined;
      }
    };
    void answer().then((value) => process.send?.({ type: ANSWER, id, value } satisfies AdminAnswer));
  });
}

/**
 * In the primary: the admin view over every worker. Instances are listed once, bound when a worker
 * holds a binding on them; sessions are the union; counters the sum; ready when `expected` workers
 * answer ready.
 */
export class WorkersAdminView implements AdminView {
  private nextId = 0;

  constructor(private readonly expected: number) {}

  async routes(): Promise<readonly AdminRoute[]> {
    return ((await this.ask('routes'))[0] as AdminRoute[] | undefined) ?? [];
  }

  async clusters(): Promise<readonly AdminCluster[]> {
    const answers = (await this.ask('clusters')) as AdminCluster[][];
    const merged = new Map<string, { cluster: AdminCluster; instances: Map<string, AdminInstance> }>();
    for (const clusters of answers) {
      for (const each of clusters) {
        let entry = merged.get(each.id);
        if (entry === undefined) {
          entry = { cluster: each, instances: new Map() };
          merged.set(each.id, entry);
        }
        for (const instance of each.instances) {
          const known = entry.instances.get(instance.id);
          if (known === undefined || (known.session === undefined && instance.session !== undefined))
            entry.instances.set(instance.id, instance);
        }
      }
    }
    return [...merged.values()].map(({ cluster: each, instances }) => ({
      ...each,
      instances: [...instances.values()],
    }));
  }

  async sessions(): Promise<readonly AdminSession[]> {
    const unique = new Map<string, AdminSession>();
    for (const sessions of (await this.ask('sessions')) as AdminSession[][]) {
      for (const session of sessions) unique.set(`${session.cluster}\n${session.session}`, session);
    }
    return [...unique.values()];
  }

  async stats(): Promise<AdminStats> {
    const total = {
      downstreamConnections: 0,
      activeStreams: 0,
      stickyBindings: 0,
      upstreamConnectionsCreated: 0,
    };
    for (const stats of (await this.ask('stats')) as AdminStats[]) {
      total.downstreamConnections += stats.downstreamConnections;
      total.activeStreams += stats.activeStreams;
      total.upstreamConnectionsCreated += stats.upstreamConnectionsCreated;
      // Workers sharing a store may each hold the same binding: the distinct count is /api/sessions.
      total.stickyBindings = Math.max(total.stickyBindings, stats.stickyBindings);
    }
    return total;
  }

  async readiness(): Promise<ReadinessReport> {
    const reports = (await this.ask('readiness')) as ReadinessReport[];
    const ready = reports.filter((report) => report.ready).length;
    const checks: Record<string, boolean> = { workers: ready >= this.expected };
    for (const report of reports) {
      for (const [name, passed] of Object.entries(report.checks))
        checks[name] = (checks[name] ?? true) && passed;
    }
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  async release(clusterId: string, session: string): Promise<ActionResult> {
    const results = (await this.ask('release', [clusterId, session])) as ActionResult[];
    return results.includes('done') ? 'done' : 'not_found';
  }

  /** Every worker drains it: each keeps its own membership, so each must stop offering it. */
  async drain(clusterId: string, instance: string): Promise<ActionResult> {
    const results = (await this.ask('drain', [clusterId, instance])) as ActionResult[];
    return results.includes('done') ? 'done' : 'not_found';
  }

  /** Every worker reloads its config; refused when any worker refused it (each keeps its running one). */
  async reload(): Promise<void> {
    const answers = (await this.ask('reload')) as (readonly string[])[];
    const problems = [...new Set(answers.flat())];
    if (problems.length > 0) throw new Error(problems.join('; '));
    if (answers.length < this.expected) throw new Error('not every worker answered the reload');
  }

  /** Every live worker's answer; a worker that does not answer in time is left out. */
  private ask(operation: Operation, args: readonly string[] = []): Promise<unknown[]> {
    const workers = Object.values(cluster.workers ?? {}).filter(
      (worker): worker is Worker => worker?.isConnected() === true,
    );
    return Promise.all(workers.map((worker) => this.askOne(worker, operation, args))).then((answers) =>
      answers.filter((answer) => answer !== undefined),
    );
  }

  private askOne(worker: Worker, operation: Operation, args: readonly string[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const onMessage = (message: Partial<AdminAnswer>): void => {
        if (message?.type !== ANSWER || message.id !== id) return;
        done(message.value);
      };
      const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
      const done = (value: unknown): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', gone);
        resolve(value);
      };
      const gone = (): void => done(undefined);
      worker.on('message', onMessage);
      worker.once('exit', gone);
      worker.send({ type: REQUEST, id, operation, args } satisfies AdminRequest);
    });
  }
}
