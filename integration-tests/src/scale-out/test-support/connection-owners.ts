import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const ESTABLISHED = '01';

/** The socket inodes of the established TCP connections whose local port is `port` (Linux /proc). */
function establishedInodesAt(port: number): Set<string> {
  const inodes = new Set<string>();
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
      if (local === undefined || fields[3] !== ESTABLISHED || fields[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/**
 * How many of the established connections accepted on `port` each child process of `parent` holds:
 * under node:cluster the primary accepts and hands each connection to one worker, which shows who
 * serves what without asking the gateway.
 */
export function connectionsPerChild(parent: number, port: number): Map<number, number> {
  const inodes = establishedInodesAt(port);
  const children = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/);
  const counts = new Map<number, number>();
  for (const child of children.filter(Boolean).map(Number)) {
    let held = 0;
    for (const fd of readdirSync(`/proc/${child}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${child}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) held++;
    }
    counts.set(child, held);
  }
  return counts;
}
