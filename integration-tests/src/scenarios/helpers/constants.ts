/** Value sent in every EchoRequest (REFERENCE.md 7.2). */
export const ECHO_VALUE = 'integration-test-echo';
/** `server_value` every worker answers with. */
export const SERVER_VALUE = 'my_service';
/** Deadline of one unary call. */
export const CALL_TIMEOUT_MS = 10_000;
