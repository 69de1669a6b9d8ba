import { SENSITIVE_NAMES } from './static-table.js';

/**
 * Names a peer has sent as "never indexed" (RFC 7541 6.2.3). An intermediary MUST forward such a
 * field with the same representation, but header lists travel as plain `[name, value]` pairs, so
 * the flag is kept per name, process-wide: once any peer marks a name sensitive, every encoder
 * stops indexing it. That may protect a little more than asked, never less. Bounded, so a peer
 * cannot grow it without limit; names past the bound are still forwarded, just not tracked.
 */
const learned = new Set<string>();
const MAX_LEARNED = 256;

/** The decoder saw `name` in a never-indexed literal. */
export function noteNeverIndexed(name: string): void {
  if (learned.size >= MAX_LEARNED || SENSITIVE_NAMES.has(name)) return;
  learned.add(name);
}

/** True when some peer has sent `name` as never indexed (the static sensitive names aside). */
export function isLearnedNeverIndexed(name: string): boolean {
  return learned.size !== 0 && learned.has(name);
}
