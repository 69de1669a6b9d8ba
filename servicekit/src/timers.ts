/**
 * Largest delay Node's timers honour: above it `setTimeout`/`setInterval` fire after 1 ms, so a
 * setting beyond it would hammer instead of waiting long.
 */
export const MAX_TIMER_MS = 2_147_483_647;
