#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { isAlive, readStackState, removeStackState, signalGroup } from './harness/stack-state.js';
import { Wait } from './harness/wait-strategies.js';

/** `make down`: stops the stack a background `make up` started, using the state file it wrote. */

const state = readStackState();
if (state === undefined) {
  console.log('no stack is running (no .stack/stack.json)');
  process.exit(0);
}

if (state.mode === 'compose') {
  const [executable, ...prefix] = state.composeCommand as [string, ...string[]];
  const result = spawnSync(executable, [...prefix, '-f', state.composeFile, 'down'], { stdio: 'inherit' });
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGTERM');
  removeStackState();
  process.exit(result.status ?? 1);
}

// The `up` process stops its stack gracefully on SIGTERM and removes the state file.
if (isAlive(state.pid)) {
  console.log(`stopping the stack of pid ${state.pid}`);
  process.kill(state.pid, 'SIGTERM');
  try {
    await Wait.forCondition(`pid ${state.pid} to stop its stack`, async () =>
      isAlive(state.pid) ? 'still running' : true,
    )
      .withStartupTimeout(30_000)
      .withPollInterval(100)
      .waitUntilReady();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
  }
}
// Whatever is still alive (the `up` process was killed, or did not finish): kill it.
const leftovers = [...state.processes.map((p) => p.pid), ...state.workers.map((w) => w.pid)].filter(isAlive);
for (const pid of leftovers) signalGroup(pid, 'SIGKILL');
removeStackState();
console.log(
  leftovers.length === 0
    ? 'stack stopped'
    : `stack stopped (killed ${leftovers.length} leftover process(es))`,
);
