/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) that the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

interface SelfTime {
  /** `functionName file:line` (file shortened to what follows node_modules/ or the repo root). */
  readonly name: string;
  readonly selfMs: number;
  /** Share of the non-idle time. */
  readonly percent: number;
}

export interface CpuProfileSummary {
  /** Sampled time that was not `(idle)`, ms. */
  readonly busyMs: number;
  readonly byFunction: SelfTime[];
  /** Self time grouped by source file (node internals, the gateway's modules, dependencies). */
  readonly byFile: SelfTime[];
}

/** `file:///work/main/gateway/dist/proxy/x.js` → `gateway/dist/proxy/x.js`; node: URLs stay as they are. */
export function shortenUrl(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = /\/([^/]+\/dist\/.*)$/.exec(url);
  if (dist !== null) return dist[1] as string;
  return url.replace(/^file:\/\//, '');
}

/** Self time per function and per file, largest first, idle time left out. */
export function summarizeCpuProfile(profile: CpuProfile, top = 25): CpuProfileSummary {
  const nodeById = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busyMicros = 0;
  for (const [id, micros] of selfByNode) {
    const frame = nodeById.get(id)?.callFrame;
    if (frame === undefined || frame.functionName === '(idle)') continue;
    busyMicros += micros;
    const file = shortenUrl(frame.url);
    const name =
      frame.url === ''
        ? frame.functionName || '(anonymous)'
        : `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const fileKey = frame.url === '' ? frame.functionName : file;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + micros);
  }
  const rank = (totals: Map<string, number>) =>
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({
        name,
        selfMs: micros / 1000,
        percent: busyMicros === 0 ? 0 : (100 * micros) / busyMicros,
      }));
  return { busyMs: busyMicros / 1000, byFunction: rank(byFunction), byFile: rank(byFile) };
}
