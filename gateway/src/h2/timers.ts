/**
 * A timeout for "the peer did not answer in time". Timers run before the poll phase of the event
 * loop, so after the process was busy for longer than `ms` a plain timer fires while the answer
 * waits, unread, in the socket. This one calls `expired` one turn later (check phase, after poll),
 * when those bytes have been read: `expired` must re-check whether the answer came.
 */
export function setAnswerTimeout(expired: () => void, ms: number): NodeJS.Timeout {
  const timer = setTimeout(() => setImmediate(expired), ms);
  timer.unref();
  return timer;
}
