import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/repo-paths.js';
import { SCENARIOS } from './scenarios/registry.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** The CLI from source (tsx), with a clean environment so GATEWAY_ADDR & co. cannot leak in. */
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('integrationtests CLI (REFERENCE.md 7.1)', () => {
  it('--list prints the twelve scenarios in the reference order and sets nothing up', () => {
    const { status, stdout, stderr } = cli('--list');
    expect(status).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(SCENARIOS.map((scenario) => scenario.name));
    expect(stdout.trim().split('\n')).toEqual([
      'basic_workflow',
      'login_errors',
      'sticky_session',
      'stream_subscription',
      'stream_subscription_myservice_stop',
      'session_transfer',
      'myservice_authentication_errors',
      'myservice_shutdown_errors',
      'no_instances_available',
      'system_overload',
      'gateway_error_unauthenticated',
      'gateway_error_unavailable',
    ]);
    expect(stderr).toBe('');
  });

  it('exits 2 with the usage text when no scenario is given, before any set-up', () => {
    const { status, stdout, stderr } = cli();
    expect(status).toBe(2);
    expect(stderr).toContain('no scenario given');
    expect(stderr).toContain('Usage: integrationtests');
    expect(stdout).toBe('');
  });

  it('exits 2 on an unknown scenario and lists the available ones on stderr', () => {
    const { status, stdout, stderr } = cli('--scenario=no_such_scenario');
    expect(status).toBe(2);
    expect(stderr).toMatch(/^unknown scenario: no_such_scenario\navailable scenarios:\n {2}basic_workflow\n/);
    expect(stdout).toBe('');
  });

  it('exits 2 on unknown flags, extra arguments, and --all with a name', () => {
    expect(cli('--bogus').status).toBe(2);
    expect(cli('basic_workflow', 'login_errors').status).toBe(2);
    expect(cli('--all', 'basic_workflow').status).toBe(2);
    expect(cli('--stack=kubernetes', 'basic_workflow').status).toBe(2);
  });

  it('refuses a fault scenario against a stack it cannot control, with the reference result block', () => {
    const { status, stdout } = cli('--gateway=127.0.0.1:1', 'stream_subscription_myservice_stop');
    expect(status).toBe(1);
    expect(stdout).toContain(
      [
        '=== Scenario Result ===',
        'Scenario: stream_subscription_myservice_stop',
        'Status: FAILED',
        'Error: stream_subscription_myservice_stop injects faults (it stops worker processes) and needs a stack driver',
      ].join('\n'),
    );
    expect(stdout).toMatch(/=====================\n/);
  });

  it('reports an unreachable gateway as a failed scenario (exit 1)', () => {
    const { status, stdout } = cli('login_errors', '--gateway=127.0.0.1:1');
    expect(status).toBe(1);
    expect(stdout).toContain(
      'Status: FAILED\nError: Login with an empty username: expected INVALID_ARGUMENT (3)',
    );
  });
});
