import { buildWorkspace } from '@stickygw/testkit';

/** vitest globalSetup: the process tests run `node service/dist/main.js`, so compile it first (incremental). */
export function setup(): void {
  buildWorkspace('service');
}
