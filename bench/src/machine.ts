import { readFileSync } from 'node:fs';
import os from 'node:os';
import { binaryVersion } from './targets/system-binary.js';

export interface MachineDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** undefined when the binary is not installed. */
  readonly nginx: string | undefined;
  readonly haproxy: string | undefined;
  readonly h2load: string | undefined;
  /** 1-minute load average when the run started: other work on a shared machine skews every figure. */
  readonly loadAverageAtStart: number;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match !== null) return (match[1] as string).trim();
  } catch {
    // Not Linux: fall through to what node knows.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function describeMachine(): MachineDescription {
  return {
    cpuModel: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: binaryVersion('nginx', ['-v'])?.replace(/^nginx version: /, ''),
    haproxy: binaryVersion('haproxy', ['-v'])?.replace(/ - https:.*$/, ''),
    h2load: binaryVersion('h2load', ['--version']),
    loadAverageAtStart: Math.round((os.loadavg()[0] as number) * 100) / 100,
  };
}
