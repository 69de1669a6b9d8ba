#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AttachedStackDriver } from './harness/attached-stack.js';
import { probeContainerRuntime } from './harness/container-runtime.js';
import { REPO_ROOT } from './harness/repo-paths.js';
import type { StackDriver } from './harness/stack-driver.js';
import { isAlive, readStackState } from './harness/stack-state.js';
import type { StackKind } from './runner/fresh-stack.js';
import { runOnFreshStack } from './runner/run-on-fresh-stack.js';
import { runScenario, type ScenarioResult } from './runner/run-scenario.js';
import { findScenario, SCENARIOS, type ScenarioDefinition } from './scenarios/registry.js';

const USAGE = `Usage: integrationtests [options] <scenario>
       integrationtests --all | --list

Runs the end-to-end scenarios of REFERENCE.md 7.3. Without --gateway each scenario starts a fresh
stack of its own (Docker Compose when a container runtime answers, otherwise local processes).

Options:
  --list                   print the scenario names, one per line, and exit
  --scenario=<name>        the scenario to run (or give it as the first argument)
  --all                    run every scenario, each on a fresh stack, and print a summary
  --gateway=<host:port>    run against an already running stack (env GATEWAY_ADDR); scenarios that
                           inject faults need a stack started by \`make up\` on this machine
  --username=<u>           Login username (env TEST_USERNAME, default TestUser)
  --password=<p>           Login password (env TEST_PASSWORD, default TestPassword)
  --compose-file=<path>    compose file for compose stacks (env COMPOSE_FILE, default docker-compose.yml)
  --stack=<auto|process|compose>  which driver starts fresh stacks (env STACK, default auto)
  --help                   print this text

Exit codes: 0 passed, 1 failed, 2 usage error.`;

/** The JWT secret of the reference compose file and of `make up`. */
const DEFAULT_JWT_SECRET = 'dev-secret-change-in-prod';

class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

interface Invocation {
  readonly scenarios: readonly ScenarioDefinition[];
  readonly all: boolean;
  readonly gateway: string | undefined;
  readonly username: string;
  readonly password: string;
  readonly composeFile: string;
  readonly stack: 'auto' | StackKind;
}

/** Flag, then environment variable, then default; an empty value falls through (REFERENCE.md 7.1). */
function pick(flag: string | undefined, env: string | undefined, fallback: string): string;
function pick(flag: string | undefined, env: string | undefined): string | undefined;
function pick(flag: string | undefined, env: string | undefined, fallback?: string): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  if (env !== undefined && env !== '') return env;
  return fallback;
}

type Parsed = { kind: 'help' } | { kind: 'list' } | { kind: 'run'; invocation: Invocation };

function parse(argv: string[]): Parsed {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.list) return { kind: 'list' };
  if (positionals.length > 1) throw new UsageError(`expected one scenario, got: ${positionals.join(' ')}`);
  const name = pick(values.scenario, positionals[0]);
  if (values.all && name !== undefined)
    throw new UsageError('give either --all or a scenario name, not both');
  if (!values.all && name === undefined) throw new UsageError('no scenario given');
  let scenarios: readonly ScenarioDefinition[] = SCENARIOS;
  if (name !== undefined) {
    const scenario = findScenario(name);
    if (scenario === undefined) {
      throw new UsageError(
        `unknown scenario: ${name}\navailable scenarios:\n${SCENARIOS.map((s) => `  ${s.name}`).join('\n')}`,
        false,
      );
    }
    scenarios = [scenario];
  }
  const stack = pick(values.stack, process.env.STACK, 'auto');
  if (stack !== 'auto' && stack !== 'process' && stack !== 'compose') {
    throw new UsageError(`--stack must be auto, process or compose, got "${stack}"`);
  }
  return {
    kind: 'run',
    invocation: {
      scenarios,
      all: values.all === true,
      gateway: pick(values.gateway, process.env.GATEWAY_ADDR),
      username: pick(values.username, process.env.TEST_USERNAME, 'TestUser'),
      password: pick(values.password, process.env.TEST_PASSWORD, 'TestPassword'),
      composeFile: resolve(
        pick(values['compose-file'], process.env.COMPOSE_FILE, resolve(REPO_ROOT, 'docker-compose.yml')),
      ),
      stack,
    },
  };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean' },
      list: { type: 'boolean' },
      all: { type: 'boolean' },
      scenario: { type: 'string' },
      gateway: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'compose-file': { type: 'string' },
      stack: { type: 'string' },
    },
  });
}

function printResult(result: ScenarioResult): void {
  const lines = ['', '=== Scenario Result ===', `Scenario: ${result.name}`];
  if (result.passed) lines.push('Status: PASSED');
  else lines.push('Status: FAILED', `Error: ${result.error ?? 'unknown error'}`);
  lines.push('=====================');
  console.log(lines.join('\n'));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A driver for an external stack: only a local stack started by `make up` on this machine, whose
 * state file names this very gateway address, can be controlled.
 */
function attachedDriver(gateway: string): StackDriver | null {
  const state = readStackState();
  if (state?.mode !== 'local' || !isAlive(state.pid)) return null;
  const normalise = (address: string) => address.replace(/^localhost:/, '127.0.0.1:');
  return normalise(state.gatewayAddress) === normalise(gateway) ? new AttachedStackDriver(state) : null;
}

async function chooseStackKind(invocation: Invocation): Promise<StackKind> {
  if (invocation.stack !== 'auto') return invocation.stack;
  const runtime = await probeContainerRuntime();
  if (runtime.available && existsSync(invocation.composeFile)) {
    console.log(`stack: Docker Compose (${runtime.reason}, ${invocation.composeFile})`);
    return 'compose';
  }
  console.log(
    `stack: local processes (${runtime.available ? `${invocation.composeFile} not found` : runtime.reason})`,
  );
  return 'process';
}

async function run(invocation: Invocation): Promise<number> {
  const credentials = { username: invocation.username, password: invocation.password };
  const results: ScenarioResult[] = [];

  if (invocation.gateway !== undefined) {
    const driver = attachedDriver(invocation.gateway);
    const state = readStackState();
    const jwtSecret = pick(process.env.JWT_SECRET, state?.jwtSecret, DEFAULT_JWT_SECRET);
    console.log(
      `gateway: ${invocation.gateway} (running stack; ${driver ? 'faults through the `make up` state file' : 'no fault driver'})`,
    );
    for (const scenario of invocation.scenarios) {
      console.log(`\n--- ${scenario.name}`);
      const result = await runScenario(
        scenario,
        { gatewayAddress: invocation.gateway, jwtSecret, driver, freshStack: false },
        credentials,
        (line) => console.log(`  ${line}`),
      );
      printResult(result);
      results.push(result);
    }
    const refused = (result: ScenarioResult) =>
      driver === null && findScenario(result.name)?.needsDriver === true;
    if (results.some((result) => !result.passed && !refused(result))) {
      console.log(
        '\nnote: the scenarios expect a fresh stack (3 workers, none bound to a session). A running stack keeps\n' +
          'every session it has served (workers never release one), so earlier runs can make later ones fail:\n' +
          'restart it (make down && make up), or run without --gateway to give each scenario a stack of its own.',
      );
    }
  } else {
    if (invocation.stack === 'compose' && !existsSync(invocation.composeFile)) {
      console.error(`compose file not found: ${invocation.composeFile}`);
      return 1;
    }
    const kind = await chooseStackKind(invocation);
    for (const scenario of invocation.scenarios) {
      console.log(`\n--- ${scenario.name}: starting a fresh stack`);
      const result = await runOnFreshStack(scenario, {
        kind,
        composeFile: invocation.composeFile,
        onProgress: (line) => console.log(`  ${line}`),
        credentials,
        log: (line) => console.log(`  ${line}`),
        onFailureLogs: (text) => console.error(text),
      });
      printResult(result);
      results.push(result);
    }
  }

  const failed = results.filter((result) => !result.passed);
  if (invocation.all) {
    console.log('\n=== Summary ===');
    for (const result of results) {
      console.log(
        `${result.passed ? 'PASSED' : 'FAILED'}  ${result.name.padEnd(36)} ${seconds(result.durationMs)}`,
      );
    }
    console.log(failed.length === 0 ? 'All scenarios passed!' : `${failed.length} scenario(s) failed`);
  }
  return failed.length === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.showUsage ? `${error.message}\n\n${USAGE}` : error.message);
    return 2;
  }
  if (parsed.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (parsed.kind === 'list') {
    for (const scenario of SCENARIOS) console.log(scenario.name);
    return 0;
  }
  return run(parsed.invocation);
}

// Ctrl-C: a running stack is stopped by the process registry's exit hook; 130 is the shell's code.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the stack`);
    process.exit(130);
  });
}

// Exit explicitly: a scenario that timed out may still hold a timer or a socket.
process.exit(await main());
