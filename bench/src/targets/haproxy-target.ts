import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, ManagedProcess } from '@stickygw/testkit';
import { templatePath } from '../paths.js';
import { renderTemplate } from '../render-template.js';
import { awaitEcho } from './ready-probe.js';
import { PLAIN_PATH, type Target } from './target.js';

/** haproxy (`proto h2` both sides, one thread) from bench/templates/haproxy.cfg.tmpl, foreground (-db). */
export async function startHaproxyTarget(backendPort: number, probeBody: Buffer): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-haproxy-'));
  const port = await getFreePort();
  const configPath = join(dir, 'haproxy.cfg');
  await writeFile(
    configPath,
    renderTemplate(await readFile(templatePath('haproxy.cfg.tmpl'), 'utf8'), { port, backendPort }),
  );
  const started = ManagedProcess.start({
    name: 'haproxy',
    command: 'haproxy',
    args: ['-db', '-f', configPath],
  });
  try {
    await awaitEcho(started, port, PLAIN_PATH, probeBody);
  } catch (error) {
    await started.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    id: 'haproxy',
    label: 'haproxy (h2 both sides)',
    port,
    path: PLAIN_PATH,
    headers: {},
    proxyPid: started.pid,
    process: started,
    stop: async () => {
      await started.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
