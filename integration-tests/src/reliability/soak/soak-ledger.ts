import { status } from '@grpc/grpc-js';

const CALL_KINDS = ['login', 'echo', 'subscribe', 'probe-unary', 'collect', 'chat'] as const;
export type CallKind = (typeof CALL_KINDS)[number];

/** Statuses a client may legitimately see while instances die (REFERENCE.md 6.13); anything else is a defect. */
const EXPECTED_CODES: ReadonlySet<number> = new Set([
  status.OK,
  status.RESOURCE_EXHAUSTED,
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
]);

/** A call ran this much past its own deadline before the client saw its end. */
const OVERDUE_SLACK_MS = 1_000;

function codeName(code: number): string {
  return (status as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

interface Pending {
  readonly kind: CallKind;
  readonly startedAt: number;
  readonly deadlineAt: number;
}

/** A status outside {@link EXPECTED_CODES} that a particular chaos makes legitimate for one kind of call. */
export interface ToleratedStatus {
  readonly kind: CallKind;
  readonly code: number;
  readonly details: string;
}

/** A call in flight; hand it back to {@link SoakLedger.end} exactly once. */
export interface Ticket {
  readonly id: number;
}

/**
 * Every call of the soak: begun, ended with a status, latencies of the OK ones, and the calls still
 * pending. A call that never ends stays pending, which is how hangs are counted.
 */
export class SoakLedger {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #counts = new Map<CallKind, Map<string, number>>();
  readonly #latencies = new Map<CallKind, number[]>();
  readonly #unexpected = new Map<string, number>();
  #total = 0;
  #ok = 0;
  #overdue = 0;
  /** OK calls whose content was wrong (lost, duplicated or foreign messages). */
  #corrupted = 0;
  readonly #corruptions: string[] = [];

  constructor(private readonly tolerated: readonly ToleratedStatus[] = []) {}

  begin(kind: CallKind, deadlineMs: number): Ticket {
    const id = this.#nextId++;
    const now = performance.now();
    this.#pending.set(id, { kind, startedAt: now, deadlineAt: now + deadlineMs });
    return { id };
  }

  end(ticket: Ticket, code: number, details: string): void {
    const pending = this.#pending.get(ticket.id);
    if (pending === undefined) throw new Error(`call ${ticket.id} ended twice`);
    this.#pending.delete(ticket.id);
    const now = performance.now();
    this.#total++;
    if (now > pending.deadlineAt + OVERDUE_SLACK_MS) this.#overdue++;
    const byCode = this.#counts.get(pending.kind) ?? new Map<string, number>();
    this.#counts.set(pending.kind, byCode);
    const name = codeName(code);
    byCode.set(name, (byCode.get(name) ?? 0) + 1);
    if (code === status.OK) {
      this.#ok++;
      const latencies = this.#latencies.get(pending.kind) ?? [];
      this.#latencies.set(pending.kind, latencies);
      latencies.push(now - pending.startedAt);
    } else if (!EXPECTED_CODES.has(code) && !this.#tolerates(pending.kind, code, details)) {
      const key = `${pending.kind} ${name} ${details}`;
      this.#unexpected.set(key, (this.#unexpected.get(key) ?? 0) + 1);
    }
  }

  #tolerates(kind: CallKind, code: number, details: string): boolean {
    return this.tolerated.some((t) => t.kind === kind && t.code === code && t.details === details);
  }

  /** An OK answer whose content breaks the contract; `what` says how (kept for the report). */
  corrupted(what: string): void {
    this.#corrupted++;
    if (this.#corruptions.length < 20) this.#corruptions.push(what);
  }

  get total(): number {
    return this.#total;
  }
  get ok(): number {
    return this.#ok;
  }
  get pending(): number {
    return this.#pending.size;
  }
  get overdue(): number {
    return this.#overdue;
  }
  get corruptedCount(): number {
    return this.#corrupted;
  }
  get corruptions(): readonly string[] {
    return this.#corruptions;
  }

  /** Calls still pending, by kind (after the drain: the calls that never completed). */
  pendingByKind(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const { kind } of this.#pending.values()) result[kind] = (result[kind] ?? 0) + 1;
    return result;
  }

  /** `kind → status name → count`, kinds in a fixed order. */
  countsByKind(): Array<{ kind: CallKind; counts: Record<string, number> }> {
    return CALL_KINDS.filter((kind) => this.#counts.has(kind)).map((kind) => ({
      kind,
      counts: Object.fromEntries([...(this.#counts.get(kind) ?? new Map()).entries()].sort()),
    }));
  }

  /** Status name → count over every kind. */
  countsByStatus(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const byCode of this.#counts.values()) {
      for (const [name, count] of byCode) totals[name] = (totals[name] ?? 0) + count;
    }
    return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
  }

  unexpected(): Record<string, number> {
    return Object.fromEntries(this.#unexpected);
  }

  unexpectedCount(): number {
    let sum = 0;
    for (const count of this.#unexpected.values()) sum += count;
    return sum;
  }

  /** p50/p99 (ms) of the OK calls of each kind, and of all unary kinds together. */
  latencySummary(): Array<{ kind: string; count: number; p50: number; p99: number }> {
    const rows = CALL_KINDS.filter((kind) => (this.#latencies.get(kind)?.length ?? 0) > 0).map((kind) =>
      summarize(kind, this.#latencies.get(kind) ?? []),
    );
    const unary = (['login', 'echo', 'probe-unary'] as const).flatMap(
      (kind) => this.#latencies.get(kind) ?? [],
    );
    if (unary.length > 0) rows.push(summarize('all unary', unary));
    return rows;
  }
}

function summarize(kind: string, values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { kind, count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}
