import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on every Linux we run on). */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The fields after the `(comm)` of a /proc/<pid>/stat line; comm may contain spaces and parens. */
function statFields(statLine: string): string[] {
  return statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime in clock ticks, from one /proc/<pid>/stat line (fields 14 and 15). */
export function cpuTicksFromStat(statLine: string): number {
  const fields = statFields(statLine);
  return Number(fields[11]) + Number(fields[12]);
}

/** kB of VmRSS from a /proc/<pid>/status text, in bytes. */
export function rssBytesFromStatus(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

/** `pid` and every live descendant (nginx's master forks its worker: the work is in the child). */
function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(statFields(readFileSync(`/proc/${entry}/stat`, 'utf8'))[1]));
    } catch {
      // The process exited between readdir and read.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** CPU time (user + system) used so far by `pid` and its descendants, in microseconds. */
export function readCpuMicros(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      ticks += cpuTicksFromStat(readFileSync(`/proc/${member}/stat`, 'utf8'));
    } catch {
      // Exited meanwhile; its time is gone with it.
    }
  }
  return (ticks * 1_000_000) / clockTicksPerSecond();
}

/** Resident set size of `pid` and its descendants, in bytes. */
export function readRssBytes(pid: number): number {
  let bytes = 0;
  for (const member of processTree(pid)) {
    try {
      bytes += rssBytesFromStatus(readFileSync(`/proc/${member}/status`, 'utf8'));
    } catch {
      // Exited meanwhile.
    }
  }
  return bytes;
}
