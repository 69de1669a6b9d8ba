import { readdirSync, readFileSync } from 'node:fs';

/** Live (not zombie) processes whose parent is `parentPid`, read from /proc. */
export function liveChildrenOf(parentPid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // After the parenthesised command name: state, ppid, ...
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === parentPid && state !== 'Z') children.push(Number(entry));
  }
  return children;
}
