import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/repo-paths.js';
import { environmentOf, readComposeFile } from './test-support/compose-file.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.indexOf(' ');
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

const BASE_IMAGE = 'node:20.19-bookworm-slim';
const SERVICES = [
  { workspace: 'auth', compose: 'myauth', portVariable: 'SERVICE_PORT_GRPC' },
  { workspace: 'discoverer', compose: 'mydiscoverer', portVariable: 'SERVICE_PORT_HTTP' },
  { workspace: 'service', compose: 'myservice', portVariable: 'SERVICE_PORT_GRPC' },
  { workspace: 'gateway', compose: 'mygateway', portVariable: 'SERVICE_PORT_GRPC' },
] as const;
const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  workspaces: string[];
};
const compose = readComposeFile();

describe.each(SERVICES)('$workspace/Dockerfile', ({ workspace, compose: composeName, portVariable }) => {
  const all = instructions(readFileSync(join(REPO_ROOT, workspace, 'Dockerfile'), 'utf8'));
  const froms = all.filter((i) => i.keyword === 'FROM');
  const lastFrom = all.lastIndexOf(froms.at(-1) as Instruction);
  const runtime = all.slice(lastFrom);

  it(`is multi-stage, every stage on ${BASE_IMAGE} (directly or through an earlier stage)`, () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const stages: string[] = [];
    for (const from of froms) {
      const [image, as, name] = from.args.split(/\s+/);
      expect([BASE_IMAGE, ...stages]).toContain(image);
      if (as?.toUpperCase() === 'AS' && name !== undefined) stages.push(name);
    }
    expect(froms.at(-1)?.args.split(/\s+/)[0]).toBe(BASE_IMAGE);
  });

  it('installs from the root lock with npm ci, workspaces included', () => {
    const copies = all.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.some((args) => /\bpackage-lock\.json\b/.test(args))).toBe(true);
    // npm ci compares the lock with every workspace's package.json.
    for (const ws of rootPackage.workspaces) expect(copies, ws).toContain(`${ws}/package.json ${ws}/`);
    const runs = all.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((args) => args.includes('npm ci') && args.includes(`-w @stickygw/${workspace}`))).toBe(
      true,
    );
    expect(runs.some((args) => args.includes('npm ci') && args.includes('--omit=dev'))).toBe(true);
  });

  it('copies only paths that exist in the build context', () => {
    for (const copy of all.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
    }
  });

  it('runs as a non-root user in the final stage', () => {
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
  });

  it('has a health check and starts the built entry point', () => {
    expect(runtime.some((i) => i.keyword === 'HEALTHCHECK' && i.args.includes('CMD'))).toBe(true);
    // The gateway runs without V8's memory reducer (README, Performance); the others as node starts.
    const flags = workspace === 'gateway' ? '"--no-memory-reducer", ' : '';
    expect(runtime.filter((i) => i.keyword === 'CMD').at(-1)?.args).toBe(
      `["node", ${flags}"${workspace}/dist/main.js"]`,
    );
  });

  it('exposes the port docker-compose.yml configures and listens on all interfaces', () => {
    const env = environmentOf(compose.services[composeName] ?? {});
    expect(runtime.find((i) => i.keyword === 'EXPOSE')?.args).toBe(env[portVariable]);
    expect(runtime.find((i) => i.keyword === 'ENV')?.args).toContain('LISTEN_HOST=0.0.0.0');
  });
});
