import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { establishedSocketsAt } from '../../reliability/socket-queues.js';

/**
 * How many of the established connections accepted on `port` each child process of `parent` holds:
 * under node:cluster the primary accepts and hands each connection to one worker, which shows who
 * serves what without asking the gateway.
 */
export function connectionsPerChild(parent: number, port: number): Map<number, number> {
  const inodes = new Set(establishedSocketsAt(port).map((socket) => socket.inode));
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
