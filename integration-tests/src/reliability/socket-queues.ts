import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/** One established TCP connection of this machine, as Linux `/proc/net/tcp` lists it. */
interface EstablishedSocket {
  readonly inode: string;
  /** Bytes received and not yet read by the process holding the socket (rx_queue). */
  readonly unreadBytes: number;
}

/** The established TCP connections whose local port is `port` (IPv4 and IPv6). */
export function establishedSocketsAt(port: number): EstablishedSocket[] {
  const sockets: EstablishedSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state, queues, , , , , inode] = fields;
      if (local === undefined || state !== ESTABLISHED || queues === undefined || inode === undefined)
        continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
      sockets.push({ inode, unreadBytes: Number.parseInt(queues.slice(queues.indexOf(':') + 1), 16) });
    }
  }
  return sockets;
}

/**
 * Bytes sitting unread in the receive queues of the established TCP connections whose local port is
 * `port`. A stopped (SIGSTOP) server cannot read, so this turns "the gateway has forwarded the call
 * to that instance" into something a test can poll instead of sleeping.
 */
export function unreadBytesAt(port: number): number {
  let total = 0;
  for (const socket of establishedSocketsAt(port)) total += socket.unreadBytes;
  return total;
}
