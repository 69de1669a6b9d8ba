/** Nanoseconds per unit, the units Go's `time.ParseDuration` accepts. */
const UNIT_NANOS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // U+00B5 micro sign
  ['\u03bcs', 1_000n], // U+03BC Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/** Go durations are an int64 of nanoseconds; anything larger is rejected like Go does. */
const MAX_NANOS = 2n ** 63n - 1n;

/** Thrown by {@link parseGoDuration}; the message mirrors Go's (`time: invalid duration "x"`). */
export class DurationError extends Error {
  override readonly name = 'DurationError';
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

/**
 * Parses a Go-style duration (`1h`, `30m`, `90s`, `1h30m`, `500ms`, `1.5h`, `-2m`) into milliseconds,
 * following `time.ParseDuration`: an optional sign, then one or more decimal numbers each with a unit.
 * The result can be fractional (`1500us` is 1.5 ms) and is zero or negative when the text says so;
 * deciding what range is acceptable is the caller's job.
 */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  const invalid = () => new DurationError(`time: invalid duration ${quoted}`);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  // Go special-cases a bare "0" (no unit needed); every other number needs a unit.
  if (rest === '0') return 0;
  if (rest === '') throw invalid();

  let totalNanos = 0n;
  while (rest !== '') {
    if (rest[0] !== '.' && !isDigit(rest[0])) throw invalid();
    let index = 0;
    while (isDigit(rest[index])) index++;
    const whole = rest.slice(0, index);
    let fraction = '';
    if (rest[index] === '.') {
      const start = ++index;
      while (isDigit(rest[index])) index++;
      fraction = rest.slice(start, index);
    }
    if (whole === '' && fraction === '') throw invalid();
    const unitStart = index;
    while (index < rest.length && rest[index] !== '.' && !isDigit(rest[index])) index++;
    const unit = rest.slice(unitStart, index);
    if (unit === '') throw new DurationError(`time: missing unit in duration ${quoted}`);
    const unitNanos = UNIT_NANOS.get(unit);
    if (unitNanos === undefined) {
      throw new DurationError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    }
    let nanos = BigInt(whole === '' ? '0' : whole) * unitNanos;
    if (fraction !== '') nanos += (BigInt(fraction) * unitNanos) / 10n ** BigInt(fraction.length);
    totalNanos += nanos;
    if (totalNanos > MAX_NANOS) throw invalid();
    rest = rest.slice(index);
  }
  const millis = Number(totalNanos) / 1e6;
  return negative ? -millis : millis;
}
