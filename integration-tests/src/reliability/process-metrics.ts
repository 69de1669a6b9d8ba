import { readdirSync, readFileSync } from 'node:fs';

/** Resource use of one process, from /proc (Linux). */
export interface ProcessSample {
  /** Resident set size in bytes (`VmRSS`). */
  readonly rssBytes: number;
  /** Open file descriptors (sockets, pipes, files): entries of /proc/<pid>/fd. */
  readonly openHandles: number;
}

export function sampleProcess(pid: number): ProcessSample {
  const statusText = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return {
    rssBytes: Number(match[1]) * 1024,
    openHandles: readdirSync(`/proc/${pid}/fd`).length,
  };
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
