import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManagedProcess, type ProcessSpec } from './managed-process.js';
import { waitFor } from './wait-for.js';

const started: ManagedProcess[] = [];

function node(script: string, extra: Partial<ProcessSpec> = {}): ManagedProcess {
  const args = [...(extra.args ?? []), '-e', script];
  const child = ManagedProcess.start({ name: 'child', command: process.execPath, ...extra, args });
  started.push(child);
  return child;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'testkit-process-'));
afterEach(async () => {
  await Promise.all(started.splice(0).map((child) => child.kill()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ManagedProcess', () => {
  it('keeps stdout and stderr apart and reports the exit status', async () => {
    const child = node('console.log("out"); console.error("err"); process.exit(3)');
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(child.running).toBe(false);
    expect(child.stdout()).toBe('out\n');
    expect(child.stderr()).toBe('err\n');
    expect(child.output()).toContain('out\n');
  });

  it('gives the child only the inherited basics plus its own environment, and its input on stdin', async () => {
    process.env.TESTKIT_LEAK = 'leaked';
    try {
      const child = node(
        'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.stringify({ s, mine: process.env.MINE, leak: process.env.TESTKIT_LEAK ?? null })))',
        { env: { MINE: 'yes' }, input: 'hello' },
      );
      await child.exited;
      expect(JSON.parse(child.stdout())).toEqual({ s: 'hello', mine: 'yes', leak: null });
    } finally {
      delete process.env.TESTKIT_LEAK;
    }
  });

  it('waits for the listening log line and returns its port', async () => {
    const child = node(
      'console.log("starting"); setTimeout(() => console.log(JSON.stringify({ level: 30, msg: "listening", port: 4321 })), 100); setInterval(() => {}, 1000)',
    );
    expect(await child.listeningPort()).toBe(4321);
    expect(await child.waitForJsonLine((line) => line.msg === 'listening')).toMatchObject({ port: 4321 });
  });

  it('fails at once, with the last output, when the process exits before the line', async () => {
    const child = node('console.log("config is broken"); process.exit(1)');
    await expect(child.listeningPort(10_000)).rejects.toThrow(
      /^child exited with code 1 before the "listening" log line\n--- last output of child ---\nconfig is broken$/,
    );
  });

  it('names the process and quotes its output when the line does not come in time', async () => {
    const child = node('console.log("still busy"); setInterval(() => {}, 1000)');
    await expect(
      child.waitForLine((line) => line === 'ready', { description: 'ready', timeoutMs: 200 }),
    ).rejects.toThrow(
      /^child: timed out after 200 ms waiting for ready\n--- last output of child ---\nstill busy$/,
    );
  });

  it('stops with SIGTERM, and with SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const polite = node(
      'process.on("SIGTERM", () => process.exit(0)); console.log("up"); setInterval(() => {}, 1000)',
    );
    await polite.waitForLine((line) => line === 'up');
    expect(await polite.stop()).toEqual({ code: 0, signal: null });
    const stubborn = node('process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)');
    await stubborn.waitForLine((line) => line === 'up');
    const before = Date.now();
    expect(await stubborn.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
    expect(await stubborn.stop()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('signals the whole process group, so forked children die too', async () => {
    const parent = node(
      'const c = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }); console.log(c.pid); setInterval(() => {}, 1000)',
    );
    const grandchild = await parent.waitForLine((line) => (/^\d+$/.test(line) ? Number(line) : undefined));
    expect(alive(grandchild)).toBe(true);
    expect(await parent.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    await waitFor(() => !alive(grandchild), { description: 'the grandchild to die' });
  });

  it('appends both streams to a log file across restarts', async () => {
    const logFile = join(dir, 'child.log');
    for (const word of ['one', 'two']) {
      const child = node(`console.log("${word}"); console.error("${word}!")`, { logFile });
      await child.exited;
      expect(() => child.stdout()).toThrow(`child writes to ${logFile}: read output() instead`);
    }
    expect(readFileSync(logFile, 'utf8')).toMatch(
      /^--- child: starting \S+ ---\none\none!\n--- child: starting \S+ ---\ntwo\ntwo!\n$/,
    );
  });

  it('waits for an exit, and says so when there is none', async () => {
    const child = node('console.log("forever"); setInterval(() => {}, 1000)');
    await child.waitForLine((line) => line === 'forever');
    await expect(child.waitForExit(100)).rejects.toThrow(
      /^child did not exit within 100 ms\n--- last output of child ---\nforever$/,
    );
    expect(child.running).toBe(true);
  });

  it('refuses a command that does not exist', () => {
    expect(() => ManagedProcess.start({ name: 'ghost', command: 'no-such-command-testkit' })).toThrow(
      'ghost: could not start no-such-command-testkit (is it installed?)',
    );
  });

  it('kills what is still running when the runner exits', async () => {
    const moduleUrl = new URL('./managed-process.ts', import.meta.url).href;
    const runner = node(
      `import(${JSON.stringify(moduleUrl)}).then(({ ManagedProcess }) => { const c = ManagedProcess.start({ name: "orphan", command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"] }); console.log(c.pid); process.exit(0); })`,
      { args: ['--import', 'tsx'], cwd: fileURLToPath(new URL('.', import.meta.url)) },
    );
    await runner.exited;
    const orphan = Number(runner.stdout().trim());
    expect(orphan).toBeGreaterThan(0);
    await waitFor(() => !alive(orphan), { description: 'the orphan to be killed', timeoutMs: 2_000 });
  });
});
