import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/**
 * Bytes sitting unread in the receive queues of the established TCP connections whose local port is
 * `port` (Linux `/proc/net/tcp`, rx_queue). A stopped (SIGSTOP) server cannot read, so this turns
 * "the gateway has forwarded the call to that instance" into something a test can poll instead of
 * sleeping.
 */
export function unreadBytesAt(port: number): number {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      const queues = fields[4];
      if (local === undefined || state !== ESTABLISHED || queues === undefined) continue;
      const localPort = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (localPort !== port) continue;
      total += Number.parseInt(queues.slice(queues.indexOf(':') + 1), 16);
    }
  }
  return total;
}
