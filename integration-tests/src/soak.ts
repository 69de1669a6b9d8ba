#!/usr/bin/env node
import { runSoak } from './reliability/soak/run-soak.js';
import { readSoakConfig, SoakConfigError } from './reliability/soak/soak-config.js';

/**
 * `make soak` (`node integration-tests/dist/soak.js`): mixed load with chaos against a fresh local
 * stack, then a report. Exit 0 when every invariant held, 1 when one broke or the run failed, 2 for a
 * bad setting. Settings: SOAK_SECONDS (default 180) and the other SOAK_* variables of soak-config.ts.
 */
async function main(): Promise<number> {
  let config: ReturnType<typeof readSoakConfig>;
  try {
    config = readSoakConfig(process.env);
  } catch (error) {
    if (!(error instanceof SoakConfigError)) throw error;
    process.stderr.write(`soak: ${error.message}\n`);
    return 2;
  }
  const print = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const report = await runSoak(config, print);
    return report.passed ? 0 : 1;
  } catch (error) {
    process.stderr.write(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

process.exitCode = await main();
