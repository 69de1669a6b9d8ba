import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, waitFor } from '@stickygw/testkit';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStack } from '../harness/process-stack.js';
import { REPO_ROOT } from '../harness/repo-paths.js';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import { callEcho, callLogin, createClient } from '../scenarios/helpers/grpc-calls.js';

/** Debian's `chromium` (scripts/ensure-system-deps.sh installs it for `make test` and CI). */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ADMIN_TOKEN = 'admin-page-test-token';
const STACK_START_TIMEOUT_MS = 90_000;
/** The page refreshes every 1.5 s; the margin is for a loaded machine. */
const PAGE_TIMEOUT_MS = 20_000;

interface AdminCluster {
  readonly id: string;
  readonly instances: readonly { readonly id: string; readonly address: string; readonly state: string }[];
}

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `\n!!! ${CHROMIUM} is missing: the admin page browser test is SKIPPED.\n` +
      '!!! Install it with scripts/ensure-system-deps.sh (as root) or apt-get install chromium.\n',
  );
}

/** The admin page in headless Chromium on a running stack: it shows the instances and a binding a real call made. */
describe.skipIf(!hasChromium)('admin page (headless Chromium)', () => {
  let stack: StartedProcessStack | undefined;
  let browser: BrowserContext | undefined;
  let adminUrl = '';
  const profile = mkdtempSync(join(tmpdir(), 'admin-page-chromium-'));

  beforeAll(async () => {
    const adminPort = await getFreePort();
    adminUrl = `http://127.0.0.1:${adminPort}`;
    stack = await new ProcessStack()
      .withGatewayEnv({ ADMIN_PORT: String(adminPort), ADMIN_TOKEN })
      .securedIfRequested()
      .start();
    // A persistent context is how playwright passes a fresh --user-data-dir of our own.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
      viewport: { width: 1100, height: 900 },
    });
  }, STACK_START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(profile, { recursive: true, force: true });
  }, 30_000);

  const api = async <T>(path: string): Promise<T> => {
    const answer = await fetch(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(answer.status, path).toBe(200);
    return (await answer.json()) as T;
  };

  it('shows every instance and the binding an Echo call has just made', async () => {
    if (stack === undefined || browser === undefined)
      throw new Error('the stack or the browser did not start');
    const session = randomUUID();
    const client = createClient(stack.gatewayAddress);
    try {
      const login = await callLogin(client, {
        username: 'TestUser',
        password: 'TestPassword',
        session_id: session,
      });
      if (!login.ok) throw login.error;
      const echo = await callEcho(client, { token: login.value.token, sessionId: session });
      if (!echo.ok) throw echo.error;
    } finally {
      client.close();
    }
    const [binding] = await api<{ cluster: string; session: string; instance: string }[]>('/api/sessions');
    expect(binding?.session).toBe(session);
    const clusters = await api<AdminCluster[]>('/api/clusters');
    const instances = clusters.flatMap((cluster) => cluster.instances);
    await waitFor(
      async () => (await api<AdminCluster[]>('/api/clusters')).some((c) => c.instances.length >= 3),
      {
        description: 'the three discovered workers',
        timeoutMs: PAGE_TIMEOUT_MS,
      },
    );

    const page = await browser.newPage();
    try {
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${adminUrl}/`);
      const shortened = `${session.slice(0, 8)}…`;
      const sessions = page.locator('#sessions');
      await sessions.getByText(shortened, { exact: true }).waitFor({ timeout: PAGE_TIMEOUT_MS });
      await expect(sessions.textContent()).resolves.not.toContain(session);
      const tables = page.locator('table.instances');
      for (const instance of instances) {
        const row = tables.locator('tr', { hasText: instance.id });
        await row.first().waitFor({ timeout: PAGE_TIMEOUT_MS });
        await expect(row.first().textContent()).resolves.toContain(instance.address);
      }
      const bound = tables.locator('tr', { hasText: binding?.instance ?? '' }).first();
      await expect(bound.textContent()).resolves.toContain('bound');
      await expect(bound.textContent()).resolves.toContain(shortened);
      await page.screenshot({ path: join(REPO_ROOT, 'docs', 'admin-page.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('drains an instance and reloads the config from the page, with the token', async () => {
    if (stack === undefined || browser === undefined)
      throw new Error('the stack or the browser did not start');
    const free = (await api<AdminCluster[]>('/api/clusters'))
      .find((cluster) => cluster.id === 'my_service')
      ?.instances.find((instance) => instance.state === 'free');
    if (free === undefined) throw new Error('no free worker to drain');
    const page = await browser.newPage();
    try {
      await page.goto(`${adminUrl}/`);
      await page.locator('#token').fill(ADMIN_TOKEN);
      const row = page.locator('table.instances tr', { hasText: free.id }).first();
      await row.getByRole('button', { name: 'drain' }).click({ timeout: PAGE_TIMEOUT_MS });
      await page.locator('#action', { hasText: 'drain: HTTP 200' }).waitFor({ timeout: PAGE_TIMEOUT_MS });
      await row.getByText('draining').waitFor({ timeout: PAGE_TIMEOUT_MS });
      const drained = (await api<AdminCluster[]>('/api/clusters'))
        .flatMap((cluster) => cluster.instances)
        .find((instance) => instance.id === free.id);
      expect(drained?.state).toBe('draining');

      await page.getByRole('button', { name: 'reload the config' }).click();
      await page.locator('#action', { hasText: 'reload: HTTP 200' }).waitFor({ timeout: PAGE_TIMEOUT_MS });
    } finally {
      await page.close();
    }
  }, 90_000);

  it('shows a hostile session id as text, never as markup', async () => {
    if (stack === undefined || browser === undefined)
      throw new Error('the stack or the browser did not start');
    // The sticky key is the client's session-id header: anything printable reaches the page.
    const hostile = `<img src=x onerror="window.__injected=1">${randomUUID()}`;
    const client = createClient(stack.gatewayAddress);
    try {
      const login = await callLogin(client, {
        username: 'TestUser',
        password: 'TestPassword',
        session_id: hostile,
      });
      if (!login.ok) throw login.error;
      const echo = await callEcho(client, { token: login.value.token, sessionId: hostile });
      if (!echo.ok) throw echo.error;
    } finally {
      client.close();
    }
    const page = await browser.newPage();
    try {
      await page.goto(`${adminUrl}/`);
      await page
        .locator('#sessions td', { hasText: '<img src…' })
        .first()
        .waitFor({ timeout: PAGE_TIMEOUT_MS });
      await expect(
        page.locator(`#sessions td[title="${hostile.replaceAll('"', '\\"')}"]`).count(),
      ).resolves.toBe(1);
      await expect(page.locator('img').count()).resolves.toBe(0);
      await expect(page.evaluate('window.__injected')).resolves.toBeUndefined();
    } finally {
      await page.close();
    }
  }, 60_000);
});
